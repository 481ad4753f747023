"""Synthetic price panels with known behaviour, shared by the pricing tests."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from pricing import PriceSeries

START = date(2020, 1, 5)  # a Sunday


def make_series(key: str, prices: list[float] | np.ndarray, start: date = START) -> PriceSeries:
    prices = np.asarray(prices, dtype=np.float64)
    dates = np.array([start + timedelta(days=7 * i) for i in range(len(prices))], dtype="datetime64[D]")
    return PriceSeries(key=key, dates=dates, prices=prices)


def periodic_panel(n: int = 40, weeks: int = 160, period: int = 13, seed: int = 0) -> list[PriceSeries]:
    """Each item sits at its regular price and is marked down 20 % for 2 weeks every ``period`` weeks
    (random phase per item): a drop is certain exactly when the next markdown is ≤ 4 weeks away."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        regular = float(rng.uniform(5, 50))
        phase = int(rng.integers(period))
        p = np.full(weeks, regular)
        for start in range(phase, weeks, period):
            p[start : start + 2] = round(regular * 0.8, 2)
        out.append(make_series(f"item{i}", p))
    return out
