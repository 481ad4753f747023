"""Per-turn features from a hand-made log, the metrics against hand-worked values, and the numpy
GRU against PyTorch's."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from assistant.behaviour import FEATURES, AbandonmentModel, EventLog, TurnLog, order_cut, turn_features
from assistant.behaviour.features import ACTIONS, INTENTS
from assistant.behaviour.metrics import best_f1_threshold, precision_recall_f1, roc_auc
from assistant.behaviour.model import prefix_rows

COL = {name: i for i, name in enumerate(FEATURES)}


def turn(
    at: float, intent: str, confidence: float, action: str, n_results: int | None, shown: int
) -> TurnLog:
    return TurnLog(
        at=at, intent=intent, confidence=confidence, action=action, n_results=n_results, n_shown=shown
    )


TURNS = [
    turn(1000, "search", 0.9, "show_products", 0, 5),
    turn(1030, "refine", 0.4, "show_products", 12, 5),
    turn(1090, "add_to_cart", 1.0, "cart_updated", None, 1),
    turn(1100, "price_advice", 0.95, "price_advice", None, 1),
    turn(1200, "checkout", 1.0, "collect_checkout_details", None, 0),
    turn(1300, "affirm", 0.99, "order_placed", None, 0),
]
EVENTS = [
    EventLog(at=1010, type="click"),  # read turn 0's answer, clicked: turn 1's window
    EventLog(at=1089, type="cart_add"),  # made by turn 2
    EventLog(at=1095, type="cart_add"),
    EventLog(at=1099, type="cart_remove"),
    EventLog(at=1299, type="order"),
    EventLog(at=1400, type="click"),  # after the last turn: the next turn's, not any of these
]


def test_the_feature_names_cover_every_intent_and_action() -> None:
    from assistant.dialogue import ACTIONS as DIALOGUE_ACTIONS
    from assistant.nlu import INTENTS as NLU_INTENTS

    assert tuple(INTENTS) == tuple(NLU_INTENTS)
    assert tuple(ACTIONS) == tuple(DIALOGUE_ACTIONS)
    assert {f"intent={i}" for i in NLU_INTENTS} <= set(FEATURES)
    assert {f"action={a}" for a in DIALOGUE_ACTIONS} <= set(FEATURES)
    assert len(set(FEATURES)) == len(FEATURES)


def test_features_of_a_hand_made_log() -> None:
    x = turn_features(TURNS, EVENTS)
    assert x.shape == (6, len(FEATURES)) and x.dtype == np.float32

    def row(i: int) -> dict[str, float]:
        return {name: float(x[i, j]) for name, j in COL.items() if x[i, j] != 0}

    assert row(0) == pytest.approx(
        {
            "intent=search": 1,
            "action=show_products": 1,
            "searched": 1,
            "zero_results": 1,
            "log_shown": math.log(6),
            "confidence": 0.9,
            "first_turn": 1,
        }
    )
    assert row(1) == pytest.approx(
        {
            "intent=refine": 1,
            "action=show_products": 1,
            "searched": 1,
            "log_results": math.log(13),
            "log_shown": math.log(6),
            "confidence": 0.4,
            "low_confidence": 1,
            "log_dwell": math.log(31),
            "log_turn": math.log(2),
            "log_clicks": math.log(2),
        }
    )
    r2 = row(2)
    assert r2["cart_adds"] == 1 and r2["log_cart"] == pytest.approx(math.log(2))
    assert r2["log_dwell"] == pytest.approx(math.log(61)) and "searched" not in r2
    r3 = row(3)
    assert (r3["cart_adds"], r3["cart_removes"]) == (1, 1)
    assert r3["log_cart"] == pytest.approx(math.log(2))  # 1 + 1 − 1 lines
    assert r3["price_view"] == 1 and r3["log_dwell"] == pytest.approx(math.log(11))
    assert row(5)["action=order_placed"] == 1
    assert "log_clicks" not in row(5)  # the click after the last turn belongs to no turn here


def test_unknown_intents_and_actions_go_to_other_and_dwell_is_capped() -> None:
    turns = [
        TurnLog(at=0, intent="haggle", confidence=0.7, action="dance", n_results=None, n_shown=0),
        TurnLog(at=90_000, intent="greet", confidence=1.0, action="greet", n_results=None, n_shown=0),
    ]
    x = turn_features(turns, [])
    assert x[0, COL["intent=other"]] == 1 and x[0, COL["action=other"]] == 1
    assert x[1, COL["log_dwell"]] == pytest.approx(math.log1p(3600))


def test_predictions_stop_at_the_first_order() -> None:
    assert order_cut(TURNS, EVENTS) == 5  # the order_placed turn
    assert order_cut(TURNS[:5], [e for e in EVENTS if e.type != "order"]) == 5  # no order: every turn
    # an order placed through the API between turns 3 and 4: turn 4 already knows the outcome
    api_order = [EventLog(at=1150, type="order")]
    assert order_cut(TURNS[:5], api_order) == 4


def test_metrics_against_values_worked_out_by_hand() -> None:
    labels, scores = [1, 0, 1, 0], [0.9, 0.1, 0.4, 0.4]
    assert roc_auc(labels, scores) == pytest.approx(3.5 / 4)
    assert precision_recall_f1(labels, scores, 0.4) == pytest.approx((2 / 3, 1.0, 0.8))
    assert precision_recall_f1(labels, scores, 0.95) == (0.0, 0.0, 0.0)
    assert best_f1_threshold(labels, scores) == pytest.approx((0.4, 0.8))
    assert math.isnan(roc_auc([1, 1], [0.2, 0.3]))
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    s = rng.random(200)
    brute = np.mean([(a > b) + 0.5 * (a == b) for a in s[y == 1] for b in s[y == 0]])
    assert roc_auc(y, s) == pytest.approx(brute)


def test_prefix_rows_hold_the_row_and_the_running_mean() -> None:
    x = np.array([[1, 0], [3, 2], [2, 4]], np.float32)
    got = prefix_rows(x)
    assert got.tolist() == [[1, 0, 1, 0], [3, 2, 2, 1], [2, 4, 2, 2]]


def _random_model(seed: int, hidden: int = 8, residual: bool = True) -> AbandonmentModel:
    rng = np.random.default_rng(seed)
    model = AbandonmentModel(hidden=hidden, threshold=0.6, residual=residual, version="test")
    for key, arr in model.arrays.items():
        if key.endswith("std"):
            model.arrays[key] = (rng.random(arr.shape) + 0.5).astype(np.float32)
        else:
            model.arrays[key] = (rng.normal(0, 0.5, arr.shape)).astype(np.float32)
    return model


def test_the_numpy_gru_computes_what_torch_computes() -> None:
    import torch

    model = _random_model(1, residual=False)
    gru = torch.nn.GRU(len(FEATURES), model.hidden, batch_first=True)
    head = torch.nn.Linear(model.hidden, 1)
    a = model.arrays
    with torch.no_grad():
        gru.weight_ih_l0.copy_(torch.from_numpy(a["gru.weight_ih"]))
        gru.weight_hh_l0.copy_(torch.from_numpy(a["gru.weight_hh"]))
        gru.bias_ih_l0.copy_(torch.from_numpy(a["gru.bias_ih"]))
        gru.bias_hh_l0.copy_(torch.from_numpy(a["gru.bias_hh"]))
        head.weight.copy_(torch.from_numpy(a["head.weight"][None, :]))
        head.bias.copy_(torch.from_numpy(a["head.bias"]))
        x = turn_features(TURNS, EVENTS)
        out, _ = gru(torch.from_numpy(model.standardise(x))[None])
        expected = torch.sigmoid(head(out)).squeeze().numpy()
    assert model.risks(x) == pytest.approx(expected, abs=1e-5)
    assert model.risk(TURNS[:3], EVENTS) == pytest.approx(float(expected[2]), abs=1e-5)
    assert model.risk([], []) == 0.0
    # residual: the GRU's logit is added to the baseline's
    model.residual = True
    both = 1 / (1 + np.exp(-(model.gru_logits(x) + model.baseline_logits(x))))
    assert model.risks(x) == pytest.approx(both)
    assert model.baseline_risks(x) == pytest.approx(1 / (1 + np.exp(-model.baseline_logits(x))))


def test_save_and_load_give_the_same_risks(tmp_path: Path) -> None:
    model = _random_model(2)
    model.save(tmp_path / "m")
    again = AbandonmentModel.load(tmp_path / "m")
    x = turn_features(TURNS, EVENTS)
    assert again.risks(x) == pytest.approx(model.risks(x))
    assert again.baseline_risks(x) == pytest.approx(model.baseline_risks(x))
    assert (again.threshold, again.version) == (0.6, "test")
    config = (tmp_path / "m" / "config.json").read_text().replace('"log_dwell"', '"log_wait"')
    (tmp_path / "m" / "config.json").write_text(config)
    with pytest.raises(ValueError, match="features do not match"):
        AbandonmentModel.load(tmp_path / "m")
    with pytest.raises(ValueError):
        AbandonmentModel.load(tmp_path / "missing")
