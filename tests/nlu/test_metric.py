"""The NLU metric of DESIGN.md, checked against values worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistant.nlu import (
    EvalFormatError,
    NLUResult,
    count_slot_matches,
    evaluate_nlu,
    read_eval_file,
    slot_f1,
)
from assistant.nlu._evaluate import percentile, values_match


def test_micro_f1_by_hand() -> None:
    gold: list[dict[str, Any]] = [
        {"product_type": "sofas", "color": "Grey", "price_max": 800},
        {"ordinal": [1, 3]},
    ]
    pred: list[dict[str, Any]] = [
        {"product_type": "sofa", "color": "grey", "price_max": 800.004},
        {"ordinal": [1, 2]},
    ]
    # gold pairs 3 + 2 = 5, predicted 3 + 2 = 5, matches 3 + 1 = 4 -> P = R = 0.8 -> F1 = 0.8
    assert slot_f1(gold, pred) == pytest.approx(0.8)


def test_precision_and_recall_differ() -> None:
    # gold: color, size, brand (3); pred: color (right), brand (wrong), material (extra) -> tp 1
    c = count_slot_matches(
        {"color": "red", "size": "xl", "brand": "nike"},
        {"color": "RED", "brand": "adidas", "material": "cotton"},
    )
    assert (c.tp, c.n_pred, c.n_gold) == (1, 3, 3)
    assert c.f1 == pytest.approx(2 * 1 / 6)
    # P = 1/2, R = 1/4 -> F1 = 2 * (1/8) / (3/4) = 1/3
    assert slot_f1([{"a": 1, "b": 2, "c": 3, "d": 4}], [{"a": 1, "b": 9}]) == pytest.approx(1 / 3)


def test_empty_sides() -> None:
    assert slot_f1([{}], [{}]) == 1.0
    assert slot_f1([{}], [{"color": "red"}]) == 0.0
    assert slot_f1([{"color": "red"}], [{}]) == 0.0


@pytest.mark.parametrize(
    ("slot", "gold", "pred", "same"),
    [
        ("product_type", "dresses", "dress", True),
        ("product_type", "shoe", "shoes", True),
        ("product_type", "Jeans", "jean", True),
        ("color", "reds", "red", False),
        ("price_max", 250, 250.009, True),
        ("price_max", 250, 250.02, False),
        ("size", "10.5", 10.5, True),
        ("size", "XL", "xl", True),
        ("order_id", "BX2290", "bx2290", True),
        ("ordinal", 1, 2, False),
    ],
)
def test_value_comparison(slot: str, gold: object, pred: object, same: bool) -> None:
    assert values_match(slot, gold, pred) is same


def test_each_gold_pair_matches_once() -> None:
    c = count_slot_matches({"ordinal": [1]}, {"ordinal": [1, 1]})
    assert (c.tp, c.n_pred, c.n_gold) == (1, 2, 1)


def test_percentile_interpolates() -> None:
    xs = [1.0, 2.0, 3.0, 4.0, 100.0]
    assert percentile(xs, 50) == 3.0
    assert percentile(xs, 95) == pytest.approx(4 + 96 * 0.8)
    assert percentile([], 95) == 0.0


class _Fixed:
    """A parser that answers from a table (what the metric needs, nothing more)."""

    def __init__(self, table: dict[str, tuple[str, dict[str, object], float]]) -> None:
        self.table = table

    def parse(self, text: str) -> NLUResult:
        intent, slots, ms = self.table[text]
        return NLUResult(intent=intent, confidence=0.9, unclear=False, slots=dict(slots), latency_ms=ms)


def test_evaluate_file(tmp_path: Path) -> None:
    path = tmp_path / "dev.jsonl"
    rows = [
        {
            "text": "grey sofas under 800",
            "intent": "search",
            "slots": {"color": "grey", "product_type": "sofa", "price_max": 800},
        },
        {"text": "hi", "intent": "greet", "slots": {}},
        {"text": "compare 1 and 3", "intent": "compare", "slots": {"ordinal": [1, 3]}},
        {"text": "nope", "intent": "deny", "slots": {}},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    parser = _Fixed(
        {
            "grey sofas under 800": (
                "search",
                {"color": "grey", "product_type": "sofas", "price_max": 800.0},
                4.0,
            ),
            "hi": ("greet", {}, 1.0),
            "compare 1 and 3": ("compare", {"ordinal": [1]}, 3.0),
            "nope": ("affirm", {}, 2.0),
        }
    )
    got = evaluate_nlu(parser, path)
    # intents 3/4; slot pairs gold 5, pred 4, tp 4 -> P 1, R 0.8 -> F1 = 0.8889
    assert got == {"n": 4, "intent_accuracy": 0.75, "slot_f1": 0.8889, "p50_ms": 2.5, "p95_ms": 3.85}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json}\n", "not JSON"),
        ('["a list"]\n', "expected an object"),
        ('{"text": "hi"}\n', '"intent"'),
        ('{"text": "hi", "intent": "greet", "slots": [1]}\n', '"slots"'),
    ],
)
def test_bad_lines_are_reported_with_their_number(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok", "intent": "greet", "slots": {}}\n' + content, encoding="utf-8")
    with pytest.raises(EvalFormatError, match=message) as info:
        read_eval_file(path)
    assert ":2:" in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EvalFormatError, match="cannot read"):
        read_eval_file(tmp_path / "nope.jsonl")
