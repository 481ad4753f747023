"""Buy-now-or-wait advice in the chat API's ``price_advice`` shape (DESIGN.md).

The advice summarises the last 52 weeks of the product's weekly price (min / median / max, and where
today's price sits as a percentile), forecasts the next 4 weeks, and says ``wait`` only when a drop of
5 % or more is reasonably likely: the forecaster's probability is at least :data:`WAIT_PROBABILITY`,
or at least :data:`WAIT_PROBABILITY_HIGH_PRICE` while today's price is in the top quarter of its range
(a price at its peak falls more often than one already marked down).  Otherwise ``buy_now``.  With
fewer than 3 observed weeks there is nothing honest to forecast: ``not_enough_history``, an empty
forecast and a null probability.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import numpy as np

from pricing.features import DROP_RATIO
from pricing.models import Forecaster
from pricing.series import PriceSeries, weekly

__all__ = ["ADVICE_HORIZON", "MIN_WEEKS", "WAIT_PROBABILITY", "WAIT_PROBABILITY_HIGH_PRICE", "advise"]

ADVICE_HORIZON = 4
MIN_WEEKS = 3
SUMMARY_WEEKS = 52
WAIT_PROBABILITY = 0.35
WAIT_PROBABILITY_HIGH_PRICE = 0.15
HIGH_PERCENTILE = 75.0
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "INR": "₹", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}


def money(amount: float, currency: str = "USD") -> str:
    """``$649`` / ``$64.99`` / ``649.00 CHF``: how the reply says a price."""
    whole = abs(amount - round(amount)) < 0.005
    text = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    symbol = _SYMBOLS.get(currency.upper())
    return f"{symbol}{text}" if symbol else f"{amount:,.2f} {currency.upper()}"


def _span(weeks: int) -> str:
    """ "6 months" / "5 weeks" / "year": the window the summary covers, in words."""
    if weeks >= 50:
        return "year"
    if weeks >= 8:
        months = max(2, round(weeks / 4.345))
        return f"{months} months"
    return f"{weeks} weeks"


def _percentile(prices: np.ndarray[Any, np.dtype[np.float64]], current: float) -> float:
    """Mid-rank percentile of today's price among the summary weeks (constant history → 50)."""
    below = float(np.sum(prices < current - 1e-9))
    equal = float(np.sum(np.abs(prices - current) <= 1e-9))
    return float(np.clip(100.0 * (below + 0.5 * equal) / len(prices), 0.0, 100.0))


def _monthly_drops(prices: np.ndarray[Any, np.dtype[np.float64]]) -> tuple[int, int]:
    """In consecutive 4-week blocks of the summary window: how many saw a ≥ 5 % drop, of how many."""
    blocks = 0
    drops = 0
    for start in range(len(prices) - 1 - ADVICE_HORIZON, -1, -ADVICE_HORIZON):
        blocks += 1
        window = prices[start + 1 : start + 1 + ADVICE_HORIZON]
        drops += bool(window.min() <= DROP_RATIO * prices[start] + 1e-9)
    return drops, blocks


def advise(
    product_id: str,
    observations: Iterable[tuple[datetime | date, float]],
    forecaster: Forecaster,
    *,
    today: date | None = None,
    currency: str = "USD",
    group: str = "",
) -> dict[str, Any]:
    """Advice for one product from its price observations (any dates; resampled to weeks); ``group``
    is its category, whose recent markdown rate the neural forecaster reads.

    Observations after ``today`` are ignored (no peeking at scheduled prices); the last price is
    carried forward to ``today``'s week.  Raises ``ValueError`` when there is no valid observation.
    """
    obs = [(d, float(p)) for d, p in observations if math.isfinite(float(p)) and float(p) > 0]
    if today is not None:
        obs = [(d, p) for d, p in obs if (d.date() if isinstance(d, datetime) else d) <= today]
    if not obs:
        raise ValueError(f"{product_id}: no price observations")
    series = weekly(obs, key=product_id, until=today, group=group)
    observed_weeks = len({(d.date() if isinstance(d, datetime) else d).isocalendar()[:2] for d, _ in obs})
    recent = series.prices[-SUMMARY_WEEKS:]
    current = float(series.prices[-1])
    advice: dict[str, Any] = {
        "product_id": product_id,
        "current": round(current, 2),
        "min": round(float(recent.min()), 2),
        "median": round(float(np.median(recent)), 2),
        "max": round(float(recent.max()), 2),
        "percentile": round(_percentile(recent, current), 1),
        "forecast": [],
        "drop_probability": None,
        "verdict": "not_enough_history",
        "why": "",
    }
    if observed_weeks < MIN_WEEKS:
        points = "1 price point" if observed_weeks == 1 else f"{observed_weeks} price points"
        advice["why"] = (
            f"Only {points} so far for this item, too few to forecast; it's {money(current, currency)} now."
        )
        return advice
    forecast = forecaster.predict(series, ADVICE_HORIZON)
    advice["forecast"] = _forecast_rows(series, forecast.point, forecast.low, forecast.high)
    probability = float(np.clip(forecast.drop_probability, 0.0, 1.0))
    advice["drop_probability"] = round(probability, 3)
    wait = probability >= WAIT_PROBABILITY or (
        probability >= WAIT_PROBABILITY_HIGH_PRICE and advice["percentile"] >= HIGH_PERCENTILE
    )
    advice["verdict"] = "wait" if wait else "buy_now"
    advice["why"] = _why(advice, recent, probability, currency, wait)
    return advice


def _forecast_rows(
    series: PriceSeries,
    point: np.ndarray[Any, np.dtype[np.float64]],
    low: np.ndarray[Any, np.dtype[np.float64]],
    high: np.ndarray[Any, np.dtype[np.float64]],
) -> list[dict[str, Any]]:
    rows = []
    for day, p, lo, hi in zip(series.next_dates(len(point)), point, low, high, strict=True):
        price = round(float(p), 2)
        rows.append(
            {
                "date": day.isoformat(),
                "price": price,
                "low": min(round(float(lo), 2), price),
                "high": max(round(float(hi), 2), price),
            }
        )
    return rows


def _relation(current: float, median: float) -> str:
    if abs(current - median) < 0.005:
        return "at"
    return "below" if current < median else "above"


def _why(
    advice: dict[str, Any],
    recent: np.ndarray[Any, np.dtype[np.float64]],
    probability: float,
    currency: str,
    wait: bool,
) -> str:
    """One sentence a shopper can check against the numbers shown beside it."""
    span = _span(len(recent))
    now = money(advice["current"], currency)
    chance = f"{round(probability * 100):d} %"
    unlikely = f"only a {chance} chance" if probability >= 0.005 else "less than a 1 % chance"
    drops, blocks = _monthly_drops(recent)
    if wait:
        if drops:
            return (
                f"Prices for this item dropped 5 %+ in {drops} of the last {blocks} months; "
                f"there's a {chance} chance it drops within 4 weeks."
            )
        return (
            f"At {now} it's near the top of its {span} range ({money(advice['min'], currency)}–"
            f"{money(advice['max'], currency)}); there's a {chance} chance it drops 5 %+ within 4 weeks."
        )
    period = f"a {span}" if span == "year" else span
    if advice["current"] <= advice["min"] and advice["max"] > advice["min"]:
        return f"At {now} it's the lowest price in {period}."
    if advice["max"] <= advice["min"]:
        return f"The price has held at {now} for {period}; {unlikely} it drops 5 %+ within 4 weeks."
    return (
        f"At {now} it's {_relation(advice['current'], advice['median'])} its {span} median of "
        f"{money(advice['median'], currency)}; {unlikely} it drops 5 %+ within 4 weeks."
    )
