"""Buy-now-or-wait advice: the price_advice shape, its invariants for any history, the verdict rule."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import ForecastBatch, Forecaster, NaiveForecaster, PriceSeries, advise

KEYS = {
    "product_id",
    "current",
    "min",
    "median",
    "max",
    "percentile",
    "forecast",
    "drop_probability",
    "verdict",
    "why",
}
DAY0 = date(2024, 1, 1)


class FixedDrop(Forecaster):
    """Naive points with a drop probability fixed by the test (an injected seam, no training)."""

    name = "fixed"

    def __init__(self, probability: float) -> None:
        super().__init__()
        self.probability = probability

    def predict_origins(
        self, series: PriceSeries, origins: Any, horizon: int, drop_horizon: int | None = None
    ) -> ForecastBatch:
        p = np.repeat(series.prices[origins][:, None], horizon, axis=1)
        return ForecastBatch(p, p * 0.9, p * 1.05, np.full(len(origins), self.probability))


def weekly_obs(prices: list[float]) -> list[tuple[date, float]]:
    return [(DAY0 + timedelta(days=7 * i), p) for i, p in enumerate(prices)]


def check_invariants(a: dict[str, Any]) -> None:
    assert set(a) == KEYS
    assert 0 <= a["percentile"] <= 100
    assert a["min"] <= a["median"] <= a["max"]
    assert a["min"] <= a["current"] <= a["max"]
    for row in a["forecast"]:
        assert row["low"] <= row["price"] <= row["high"]
    if a["drop_probability"] is not None:
        assert 0 <= a["drop_probability"] <= 1
    assert a["verdict"] in ("buy_now", "wait", "not_enough_history")
    assert a["why"].endswith(".") and "\n" not in a["why"]


@given(
    prices=st.lists(st.floats(0.01, 5000, allow_nan=False), min_size=1, max_size=80),
    probability=st.floats(0, 1),
)
@settings(max_examples=80, deadline=None)
def test_advice_invariants_hold_for_any_history(prices: list[float], probability: float) -> None:
    a = advise("p", weekly_obs(prices), FixedDrop(probability))
    check_invariants(a)
    if len(prices) >= 3:
        assert len(a["forecast"]) == 4 and a["verdict"] != "not_enough_history"


@given(prices=st.lists(st.floats(0.5, 900, allow_nan=False), min_size=3, max_size=60))
@settings(max_examples=40, deadline=None)
def test_advice_with_the_naive_forecaster_holds_the_invariants(prices: list[float]) -> None:
    series = [
        PriceSeries(
            "x", np.array([np.datetime64("2024-01-07") + 7 * i for i in range(len(prices))]), np.array(prices)
        )
    ]
    check_invariants(advise("p", weekly_obs(prices), NaiveForecaster().fit(series)))


@pytest.mark.parametrize("n", [1, 2])
def test_one_or_two_price_points_are_not_enough_history(n: int) -> None:
    a = advise(
        "p",
        [(DAY0, 100.0), (DAY0 + timedelta(days=30), 90.0)][:n],
        FixedDrop(0.9),
        today=DAY0 + timedelta(days=60),
    )
    check_invariants(a)
    assert a["verdict"] == "not_enough_history"
    assert a["forecast"] == [] and a["drop_probability"] is None
    assert f"Only {n} price point" in a["why"]


def test_constant_price_is_buy_now_at_the_50th_percentile() -> None:
    a = advise("p", weekly_obs([40.0] * 30), FixedDrop(0.01))
    assert a["verdict"] == "buy_now" and a["percentile"] == 50.0
    assert a["min"] == a["median"] == a["max"] == 40.0
    assert "held at $40" in a["why"]


def test_lowest_price_says_so() -> None:
    a = advise("p", weekly_obs([699.0] * 20 + [649.0]), FixedDrop(0.05))
    assert a["verdict"] == "buy_now" and a["current"] == 649.0 and a["min"] == 649.0
    assert a["why"] == "At $649 it's the lowest price in 5 months."


def test_likely_drop_means_wait_and_cites_past_drops() -> None:
    prices = ([100.0] * 6 + [80.0, 100.0]) * 6  # a 20 % markdown every 8 weeks
    a = advise("p", weekly_obs(prices), FixedDrop(0.38))
    assert a["verdict"] == "wait" and a["drop_probability"] == 0.38
    assert a["why"].startswith("Prices for this item dropped 5 %+ in 6 of the last 11 months")
    assert a["why"].endswith("there's a 38 % chance it drops within 4 weeks.")


def test_high_price_waits_at_a_lower_probability_than_a_low_price() -> None:
    high = advise("p", weekly_obs([80.0] * 10 + [100.0] * 3), FixedDrop(0.2))
    low = advise("p", weekly_obs([100.0] * 10 + [80.0] * 3), FixedDrop(0.2))
    assert high["percentile"] > 75 and high["verdict"] == "wait"
    assert low["verdict"] == "buy_now"


def test_forecast_is_dated_weekly_after_today_and_ignores_future_observations() -> None:
    obs = weekly_obs([10.0, 11.0, 12.0, 13.0]) + [(DAY0 + timedelta(days=100), 1.0)]
    a = advise("p", obs, FixedDrop(0.1), today=DAY0 + timedelta(days=40))
    assert a["current"] == 13.0 and a["min"] == 10.0  # the future 1.0 is not seen
    dates = [date.fromisoformat(r["date"]) for r in a["forecast"]]
    assert dates[0] > DAY0 + timedelta(days=40) and all(
        (b - x).days == 7 for x, b in zip(dates, dates[1:], strict=False)
    )


def test_currency_symbol_in_the_sentence() -> None:
    a = advise("p", weekly_obs([10.0] * 5 + [9.5]), FixedDrop(0.0), currency="EUR")
    assert "€9.50" in a["why"]


def test_a_negligible_chance_is_not_called_zero() -> None:
    a = advise("p", weekly_obs([10.0] * 8), FixedDrop(0.001))
    assert a["verdict"] == "buy_now" and "less than a 1 % chance" in a["why"]


def test_public_api_is_exported() -> None:
    import pricing

    missing = [name for name in pricing.__all__ if not hasattr(pricing, name)]
    assert missing == []
