"""Believable weekly price histories for the demo catalog (which has only today's price).

The process is the one retail shelf prices follow, with rates from :file:`price_dynamics.json`
(summary statistics fitted by ``benchmarks/fit_price_dynamics.py``; no real series is copied):

* a *regular* price that changes rarely (weekly probability, log-size quantiles);
* temporary *markdowns* starting with a weekly probability scaled by a month-of-year factor, with a
  depth and a duration drawn from the fitted quantiles / distribution, after which the regular price
  returns.

The whole path is then scaled so that the last week's price is exactly the catalog price.  Each
product draws from its own generator seeded by (``seed``, product id), so a product's history does not
depend on which other products are simulated with it.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DYNAMICS_FILE", "default_dynamics", "simulate_history"]

DYNAMICS_FILE = Path(__file__).with_name("price_dynamics.json")
#: products differ in how often their prices move: each draws a rate multiplier from a gamma
#: distribution with mean 1 and this shape (an assumption, not fitted: M5 items range from never
#: repriced to repriced monthly, which a shape below 1 mimics)
RATE_SHAPE = 0.5


@cache
def _load_default() -> str:
    return DYNAMICS_FILE.read_text(encoding="utf-8")


def default_dynamics() -> dict[str, Any]:
    """The committed summary statistics (a fresh copy the caller may change)."""
    loaded: dict[str, Any] = json.loads(_load_default())
    return loaded


def _sample(rng: np.random.Generator, quantiles: dict[str, float]) -> float:
    """Draw from a distribution given by a few quantiles (linear between them)."""
    qs = sorted((float(k), float(v)) for k, v in quantiles.items())
    levels = np.array([q for q, _ in qs])
    values = np.array([v for _, v in qs])
    u = rng.uniform(levels[0], levels[-1])
    return float(np.interp(u, levels, values))


def _round_price(value: float) -> float:
    """Shelf prices: cents, and at least one cent."""
    return max(round(value, 2), 0.01)


def simulate_history(
    products: Sequence[tuple[str, float]],
    *,
    weeks: int = 104,
    end: date,
    seed: int = 0,
    params: dict[str, Any] | None = None,
) -> dict[str, list[tuple[date, float]]]:
    """Weekly observations ``[(date, price), …]`` ending on ``end`` for each ``(product_id, price)``."""
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    p = params or default_dynamics()
    regular_rate = float(p["regular_change"]["weekly_probability"])
    regular_size = p["regular_change"]["log_size_quantiles"]
    md = p["markdown"]
    start_rate = float(md["weekly_start_probability"])
    depth_q = md["depth_quantiles"]
    durations = md["duration_weeks"]
    dur_values = np.array([int(k) for k in durations])
    dur_probs = np.array([float(v) for v in durations.values()])
    dur_probs = dur_probs / dur_probs.sum()
    month_factor = [float(x) for x in p["markdown_month_factors"]]
    dates = [end - timedelta(days=7 * (weeks - 1 - i)) for i in range(weeks)]
    out: dict[str, list[tuple[date, float]]] = {}
    for product_id, price in products:
        if not price > 0:
            raise ValueError(f"{product_id}: price must be positive")
        rng = np.random.default_rng([seed, zlib.crc32(product_id.encode("utf-8"))])
        activity = float(rng.gamma(RATE_SHAPE, 1.0 / RATE_SHAPE))
        regular = 1.0
        path = np.empty(weeks)
        left = 0
        depth = 0.0
        for i, day in enumerate(dates):
            if left == 0 and rng.random() < regular_rate * activity:
                regular *= float(np.exp(_sample(rng, regular_size)))
            if left == 0 and rng.random() < start_rate * activity * month_factor[day.month - 1]:
                left = int(rng.choice(dur_values, p=dur_probs))
                depth = _sample(rng, depth_q)
            if left > 0:
                path[i] = regular * (1.0 - depth)
                left -= 1
            else:
                path[i] = regular
        scale = price / path[-1]
        prices = [_round_price(x * scale) for x in path]
        prices[-1] = float(price)
        out[product_id] = list(zip(dates, prices, strict=True))
    return out
