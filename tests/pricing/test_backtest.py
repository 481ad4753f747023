"""Backtest metrics against hand-worked values, the protocol's known answers, and the model choice."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import BacktestConfig, NaiveForecaster, NeuralConfig, NeuralForecaster, backtest
from pricing.backtest import ModelScores, auc, brier, choose_model, coverage, mae, smape

from .conftest import make_series, periodic_panel


def test_metrics_match_hand_computed_values() -> None:
    f = np.array([10.0, 20.0, 30.0])
    a = np.array([12.0, 20.0, 27.0])
    assert mae(f, a) == pytest.approx(5 / 3)
    assert smape(f, a) == pytest.approx((200 * 2 / 22 + 0 + 200 * 3 / 57) / 3)
    assert coverage(np.array([9.0, 21.0, 25.0]), np.array([11.0, 22.0, 30.0]), a) == pytest.approx(1 / 3)
    y = np.array([False, True, False, True])
    assert auc(np.array([0.1, 0.4, 0.5, 0.8]), y) == pytest.approx(0.75)
    assert auc(np.array([0.5, 0.5, 0.5, 0.5]), y) == pytest.approx(0.5)  # ties: no skill
    assert math.isnan(auc(np.array([0.1, 0.2]), np.array([False, False])))
    assert brier(np.array([0.0, 1.0, 0.5]), np.array([False, True, True])) == pytest.approx(0.25 / 3)


def test_randomised_coverage_counts_the_share_of_the_atom_inside_the_percentiles() -> None:
    today = np.array([10.0, 10.0, 10.0, 10.0, 10.0])
    actual = np.array([10.0, 10.0, 10.0, 9.0, 12.0])
    low = np.array([10.0, 10.0, 9.5, 8.5, 10.0])
    high = np.array([10.0, 10.0, 10.0, 10.0, 11.0])
    below = np.array([0.0, 0.05, 0.3, 0.2, 0.0])
    above = np.array([0.0, 0.0, 0.0, 0.0, 0.2])
    # unchanged, atom 1: [0, 1] ∩ [.1, .9] = .8; atom .95 from .05: [.05, 1] ∩ [.1, .9] = .8 → .8/.95;
    # atom .7 from .3: [.3, 1] ∩ [.1, .9] = .6 → .6/.7; a move inside the interval: 1; outside: 0
    expected = (0.8 + 0.8 / 0.95 + 0.6 / 0.7 + 1.0 + 0.0) / 5
    assert coverage(low, high, actual, today, below, above) == pytest.approx(expected)
    assert coverage(low, high, actual) == pytest.approx(4 / 5)  # closed: the three ties and the 9.0


@settings(max_examples=25, deadline=None)
@given(
    below=st.floats(0.0, 0.6),
    above=st.floats(0.0, 0.35),
    seed=st.integers(0, 2**16),
)
def test_randomised_coverage_of_a_calibrated_forecast_is_nominal(
    below: float, above: float, seed: int
) -> None:
    """Prices that stay put with probability 1 - below - above and otherwise move 5–20 % (uniform in
    log space): the true 10th / 90th percentiles scored this way cover 80 %, whatever the atom."""
    rng = np.random.default_rng(seed)
    n = 40_000
    u = rng.random(n)
    size = rng.uniform(0.05, 0.2, n)
    log_move = np.where(u < below, -size, np.where(u > 1 - above, size, 0.0))
    today = np.full(n, 10.0)
    actual = today * np.exp(log_move)
    # true quantiles of the log move: inside the down part when below > .1, else 0 (the atom)
    q10 = -0.2 + 0.15 * 0.1 / below if below > 0.1 else 0.0
    q90 = 0.2 - 0.15 * 0.1 / above if above > 0.1 else 0.0
    low, high = today * np.exp(q10), today * np.exp(q90)
    got = coverage(low, high, actual, today, np.full(n, below), np.full(n, above))
    assert got == pytest.approx(0.8, abs=0.015)


def test_naive_on_constant_prices_is_perfect() -> None:
    panel = [make_series(f"c{i}", [5.0 + i] * 80) for i in range(3)]
    result = backtest(panel, [NaiveForecaster])
    m = result.scores[0].metrics
    assert m["mae@4"] == m["mae@12"] == m["smape@4"] == 0.0
    # every window sits on the atom (no move ever): a closed interval holds all of them, the randomised
    # one the 80 % of the atom between the 10th and 90th percentile
    assert m["coverage_closed@4"] == 1.0 and m["coverage@4"] == pytest.approx(0.8)
    assert math.isnan(m["drop_auc"])
    assert result.chosen == "naive"
    # origins every 4 weeks from week 52 while week t+4 exists: 52, 56, …, 72 → 6 per series
    assert result.n_windows == 18


def test_neural_model_learns_a_periodic_markdown_that_naive_cannot_time() -> None:
    panel = periodic_panel(n=30, weeks=150)
    config = NeuralConfig(hidden=32, epochs=25, dropout=0.0, weight_decay=0.0, lr=5e-3)
    result = backtest(panel, [NaiveForecaster, lambda: NeuralForecaster(config)], keep_forecasts=True)
    scores = {s.model: s.metrics for s in result.scores}
    assert scores["naive"]["drop_auc"] < 0.6  # every item drops equally often: the rate cannot rank
    assert scores["mlp"]["drop_auc"] > 0.85
    assert scores["mlp"]["mae@4"] <= 1.02 * scores["naive"]["mae@4"]
    assert result.chosen == "mlp"


def test_backtest_forecasts_do_not_change_when_later_prices_do() -> None:
    panel = periodic_panel(n=12, weeks=140)
    cut = 100
    later = [make_series(s.key, np.concatenate([s.prices[:cut], s.prices[cut:] * 0.7])) for s in panel]
    config = NeuralConfig(hidden=16, epochs=2, max_samples=5_000)
    models = [NaiveForecaster, lambda: NeuralForecaster(config)]
    a = backtest(panel, models, keep_forecasts=True)
    b = backtest(later, models, keep_forecasts=True)
    for model in ("naive", "mlp"):
        for key, (origins, points) in a.forecasts[model].items():
            early = origins < cut - 1
            assert early.any()
            assert np.array_equal(points[early], b.forecasts[model][key][1][early])


def test_monthly_protocol_uses_its_own_horizons() -> None:
    config = BacktestConfig.for_freq("M")
    assert config.horizons == (1, 3) and config.drop_horizon == 1
    monthly = [
        make_series(f"m{i}", [10.0, 10.0, 9.0, 9.0, 10.0, 10.0, 9.0, 9.5, 10.0, 10.0, 9.0, 10.0, 10.0])
        for i in range(3)
    ]
    monthly = [type(s)(s.key, s.dates, s.prices, freq="M") for s in monthly]
    line = backtest(monthly, [NaiveForecaster]).scores[0].line()
    assert {"mae@1", "mae@3", "smape@1", "smape@3", "coverage@1", "drop_auc", "drop_brier"} <= set(line)


def _scores(name: str, mae4: float, auc_: float) -> ModelScores:
    return ModelScores(name, {}, {"mae@4": mae4, "drop_auc": auc_})


def test_choice_needs_better_drop_ranking_without_worse_prices() -> None:
    config = BacktestConfig()
    scores = [_scores("naive", 1.0, 0.60), _scores("ets", 1.01, 0.62), _scores("mlp", 1.05, 0.80)]
    assert choose_model(scores, config) == "ets"  # mlp ranks drops best but misses the MAE guard
    assert [s.chosen for s in scores] == [False, True, False]
    scores = [_scores("naive", 1.0, 0.60), _scores("mlp", 1.0, 0.603)]
    assert choose_model(scores, config) == "naive"  # within the margin: keep the simple one
