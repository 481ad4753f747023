"""Causal features and targets of a price series at every origin (the neural model's inputs).

Markdowns, not drifts, are what a shopper waits for, and they follow habits: a shelf price that has
not moved for months, sits at the item's regular (maximum) level and ends in a "regular" price ending
is the one that gets marked down; items that were marked down often before, and about as long ago as
their usual interval, are the likely ones.  Every feature at origin ``t`` is computed from
``prices[: t + 1]`` (and calendar / competitor data up to ``t``) only, so a forecast can never see the
future; :func:`origin_features` is vectorised over all origins of a series at once, which is what
keeps a 3,000-series backtest within minutes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from pricing.series import PriceSeries

__all__ = [
    "DROP_RATIO",
    "FEATURE_NAMES",
    "N_LAGS",
    "GroupRates",
    "drop_windows",
    "origin_features",
    "origin_targets",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: a "drop" is a price at or below 95 % of the price at the origin
DROP_RATIO = 0.95
LOG_DROP = math.log(DROP_RATIO)
N_LAGS = 12
ROLL = 52
_EPS = 1e-9
#: shrinkage (in windows) of an item's drop frequency toward the prior
_PRIOR_WINDOWS = 20.0
_PRIOR_RATE = 0.02

FEATURE_NAMES: tuple[str, ...] = (
    *(f"lag_{k}" for k in range(1, N_LAGS + 1)),
    "log_age",
    "log_since_change",
    "log_since_down",
    "never_down",
    "log_since_up",
    "never_up",
    "down_rate",
    "up_rate",
    "change_rate",
    "log_n_down",
    "down_interval",
    "down_phase",
    "last_down_depth",
    "last_change",
    "changes13",
    "changes52",
    "downs52",
    "change_interval",
    "change_phase",
    "prev_run",
    "max52",
    "min52",
    "median52",
    "max_all",
    "at_max52",
    "at_median52",
    "vol52",
    "drop4_rate",
    "log_drop4_windows",
    "year_ago_drop",
    "year_ago_change",
    "has_year",
    *(f"cents_digit_{d}" for d in range(10)),
    "cents",
    "cents_zero",
    "cents_9x",
    "cents_4x",
    "doy_sin",
    "doy_cos",
    "event_now",
    "event_recent",
    "has_events",
    "comp_mean",
    "comp_min",
    "has_comp",
    "log_price",
    "group_rate13",
    "group_rate52",
    "group_rate_all",
    "has_group",
)
#: periods of the trailing windows of :class:`GroupRates`
GROUP_WINDOWS = (13, 52)


def _last_index(flags: npt.NDArray[np.bool_]) -> IntArray:
    """Index of the latest True at or before each position (-1 when none)."""
    idx = np.where(flags, np.arange(len(flags)), -1)
    return np.maximum.accumulate(idx) if len(idx) else idx.astype(np.int64)


def _first_index(flags: npt.NDArray[np.bool_]) -> IntArray:
    """Index of the earliest True at or before each position (-1 while none yet)."""
    n = len(flags)
    first = int(np.argmax(flags)) if flags.any() else n
    out = np.full(n, -1, dtype=np.int64)
    out[first:] = first
    return out


def _rolling(values: FloatArray, window: int) -> FloatArray:
    """(n, window) trailing windows ending at each position, NaN before the start."""
    padded = np.concatenate([np.full(window - 1, np.nan), values])
    return np.lib.stride_tricks.sliding_window_view(padded, window)


def drop_windows(prices: FloatArray, horizon: int) -> npt.NDArray[np.bool_]:
    """``out[s]``: min of ``prices[s+1 : s+horizon+1]`` is ≤ 95 % of ``prices[s]`` (False past the end)."""
    n = len(prices)
    out = np.zeros(n, dtype=bool)
    if n <= 1:
        return out
    future_min = np.full(n, np.inf)
    for h in range(1, min(horizon, n - 1) + 1):
        future_min[: n - h] = np.minimum(future_min[: n - h], prices[h:])
    valid = np.arange(n) + horizon < n
    out[valid] = future_min[valid] <= DROP_RATIO * prices[valid] + _EPS
    return out


@dataclass
class GroupRates:
    """How often each product group — and the whole panel, group ``""`` — has been marked down lately.

    Markdowns come in waves per department (M5: FOODS_2 has 3× the drop windows of HOUSEHOLD_2, and
    its rate moves from year to year), which one item's own history is too short to show.  Per date
    of the panel's grid: the cumulative number of 4-period windows that ended in a ≥ 5 % drop and of
    all 4-period windows, counting a window once its end has been seen.  Fitted on data up to the
    training cutoff; a later date reads the last row (a served model knows the panel as of its
    training, and the backtest's refits see exactly what a served model would).
    """

    dates: npt.NDArray[np.datetime64]
    drops: dict[str, FloatArray]
    windows: dict[str, FloatArray]

    @classmethod
    def fit(cls, series: Sequence[PriceSeries], until: np.datetime64 | None = None) -> GroupRates:
        cut = [
            len(s) if until is None else int(np.searchsorted(s.dates, until, side="right")) for s in series
        ]
        known = [s.dates[:c] for s, c in zip(series, cut, strict=True) if c]
        grid = np.unique(np.concatenate(known)) if known else np.array([], dtype="datetime64[D]")
        drops: dict[str, FloatArray] = {"": np.zeros(len(grid))}
        windows: dict[str, FloatArray] = {"": np.zeros(len(grid))}
        for s, c in zip(series, cut, strict=True):
            if c <= 4:
                continue
            hit = drop_windows(s.prices[:c], 4)[: c - 4].astype(np.float64)
            pos = np.searchsorted(grid, s.dates[4:c])  # window i is known at its end, period i + 4
            for g in {"", s.group}:
                np.add.at(drops.setdefault(g, np.zeros(len(grid))), pos, hit)
                np.add.at(windows.setdefault(g, np.zeros(len(grid))), pos, 1.0)
        return cls(
            grid,
            {g: np.cumsum(v) for g, v in drops.items()},
            {g: np.cumsum(v) for g, v in windows.items()},
        )

    def features(self, group: str, dates: npt.NDArray[np.datetime64]) -> FloatArray:
        """(len(dates), 4): the group's drop-window rate over the last 13 and 52 periods and all time
        (×10, shrunk toward the panel's all-time rate), and whether the group is known."""
        out = np.zeros((len(dates), len(GROUP_WINDOWS) + 2))
        if not len(self.dates):
            out[:, :-1] = _PRIOR_RATE * 10
            return out
        idx = np.searchsorted(self.dates, dates, side="right") - 1
        g = group if group and group in self.drops else ""

        def known(table: FloatArray, span: int | None = None) -> FloatArray:
            """Windows known by each date (within the last ``span`` grid dates)."""
            cum = np.concatenate([[0.0], table])  # cum[k] = total of the first k grid dates
            end = cum[idx + 1]
            return end if span is None else end - cum[np.maximum(idx + 1 - span, 0)]

        # shrink toward the whole panel's rate as known at that date (itself shrunk to the prior)
        prior = (known(self.drops[""]) + _PRIOR_WINDOWS * _PRIOR_RATE) / (
            known(self.windows[""]) + _PRIOR_WINDOWS
        )
        for j, span in enumerate((*GROUP_WINDOWS, None)):
            d, w = known(self.drops[g], span), known(self.windows[g], span)
            out[:, j] = (d + _PRIOR_WINDOWS * prior) / (w + _PRIOR_WINDOWS) * 10
        out[:, -1] = float(g != "")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "dates": [str(d) for d in self.dates],
            "drops": {g: v.astype(np.int64).tolist() for g, v in self.drops.items()},
            "windows": {g: v.astype(np.int64).tolist() for g, v in self.windows.items()},
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> GroupRates:
        return cls(
            np.array(values["dates"], dtype="datetime64[D]"),
            {g: np.array(v, dtype=np.float64) for g, v in values["drops"].items()},
            {g: np.array(v, dtype=np.float64) for g, v in values["windows"].items()},
        )


def origin_features(
    series: PriceSeries, origins: IntArray | None = None, groups: GroupRates | None = None
) -> FloatArray:
    """Feature matrix (len(origins), len(FEATURE_NAMES)); row ``i`` uses data up to ``origins[i]`` only
    (and, with ``groups``, the panel's markdown rates as known at that date or the training cutoff)."""
    p = series.prices
    n = len(p)
    if origins is None:
        origins = np.arange(n)
    if n == 0:
        return np.zeros((len(origins), len(FEATURE_NAMES)))
    lp = np.log(p)
    t = np.arange(n)
    cols: list[FloatArray] = []

    padded = np.concatenate([np.full(N_LAGS, lp[0]), lp])
    for k in range(1, N_LAGS + 1):
        cols.append(padded[N_LAGS - k : N_LAGS - k + n] - lp)

    step = np.zeros(n)
    step[1:] = np.diff(lp)
    changed = np.abs(step) > _EPS
    down = step <= LOG_DROP + _EPS
    up = step >= -LOG_DROP - _EPS
    last_change, last_down, last_up = _last_index(changed), _last_index(down), _last_index(up)
    first_down = _first_index(down)
    n_down, n_up, n_change = np.cumsum(down), np.cumsum(up), np.cumsum(changed)
    age = t.astype(np.float64)
    since_change = np.where(last_change >= 0, t - last_change, t + 1)
    since_down = np.where(last_down >= 0, t - last_down, t + 1)
    since_up = np.where(last_up >= 0, t - last_up, t + 1)
    interval = np.where(n_down >= 2, (last_down - first_down) / np.maximum(n_down - 1, 1), 0.0)
    phase = np.where(interval > 0, np.clip(since_down / np.maximum(interval, 1.0), 0.0, 3.0), 0.0)
    cols += [
        np.log1p(age),
        np.log1p(since_change),
        np.log1p(since_down),
        (n_down == 0).astype(np.float64),
        np.log1p(since_up),
        (n_up == 0).astype(np.float64),
        n_down / (age + 1.0) * 10,
        n_up / (age + 1.0) * 10,
        n_change / (age + 1.0) * 10,
        np.log1p(n_down),
        np.log1p(interval),
        phase,
        np.where(last_down >= 0, step[np.maximum(last_down, 0)], 0.0) * 5,
        np.where(last_change >= 0, step[np.maximum(last_change, 0)], 0.0) * 5,
    ]
    c13 = np.nansum(_rolling(changed.astype(np.float64), 13), axis=1)
    c52 = np.nansum(_rolling(changed.astype(np.float64), ROLL), axis=1)
    d52 = np.nansum(_rolling(down.astype(np.float64), ROLL), axis=1)
    change_interval = (age + 1.0) / (n_change + 1.0)
    before_last = np.where(last_change >= 1, _last_index(changed)[np.maximum(last_change - 1, 0)], -1)
    prev_run = np.where((last_change >= 0) & (before_last >= 0), last_change - before_last, 0)
    cols += [
        np.log1p(c13),
        np.log1p(c52),
        np.log1p(d52),
        np.log1p(change_interval),
        np.clip(since_change / change_interval, 0.0, 3.0),
        np.log1p(prev_run),
    ]

    windows = _rolling(lp, ROLL)
    with np.errstate(all="ignore"):
        max52 = np.nanmax(windows, axis=1)
        min52 = np.nanmin(windows, axis=1)
        med52 = np.nanmedian(windows, axis=1)
        vol = np.nanstd(_rolling(step, ROLL), axis=1)
    cols += [
        (max52 - lp) * 5,
        (min52 - lp) * 5,
        (med52 - lp) * 5,
        (np.maximum.accumulate(lp) - lp) * 5,
        (max52 - lp < _EPS).astype(np.float64),
        (np.abs(med52 - lp) < _EPS).astype(np.float64),
        vol * 10,
    ]

    d4 = drop_windows(p, 4).astype(np.float64)
    known = t - 4  # windows s whose 4-week target ends by t
    cum_d4 = np.where(known >= 0, np.cumsum(d4)[np.maximum(known, 0)], 0.0)
    n_windows = np.maximum(known + 1, 0).astype(np.float64)
    cols += [
        (cum_d4 + _PRIOR_WINDOWS * _PRIOR_RATE) / (n_windows + _PRIOR_WINDOWS) * 10,
        np.log1p(n_windows),
    ]

    season = series.season
    ago = t - season
    has_year = ago >= 0
    a = np.maximum(ago, 0)
    year_min = np.full(n, np.inf)
    for h in range(1, 5):
        year_min = np.minimum(year_min, lp[np.minimum(a + h, n - 1)])
    cols += [
        np.where(has_year, np.minimum(year_min - lp[a], 0.0), 0.0) * 5,
        np.where(has_year, lp[a] - lp, 0.0) * 5,
        has_year.astype(np.float64),
    ]

    cents = np.round(p * 100).astype(np.int64) % 100
    digit = cents % 10
    cols += [(digit == d).astype(np.float64) for d in range(10)]
    cols += [cents / 100.0, (cents == 0).astype(np.float64)]
    cols += [(cents >= 90).astype(np.float64), ((cents >= 40) & (cents < 50)).astype(np.float64)]

    doy = (series.dates - series.dates.astype("datetime64[Y]")).astype(np.int64).astype(np.float64)
    cols += [np.sin(2 * np.pi * doy / 365.25), np.cos(2 * np.pi * doy / 365.25)]

    if series.events is not None and series.events.shape[1]:
        ev = series.events.mean(axis=1)
        recent = np.nanmean(_rolling(ev, 4), axis=1)
        cols += [ev, recent, np.ones(n)]
    else:
        cols += [np.zeros(n), np.zeros(n), np.zeros(n)]

    comp = series.competitors
    if comp is not None and comp.shape[1] and np.isfinite(comp).any():
        with np.errstate(all="ignore"):
            ratio = np.log(comp) - lp[:, None]
            present = np.isfinite(ratio).any(axis=1)
            mean = np.where(present, np.nanmean(np.where(np.isfinite(ratio), ratio, np.nan), axis=1), 0.0)
            low = np.where(present, np.nanmin(np.where(np.isfinite(ratio), ratio, np.nan), axis=1), 0.0)
        cols += [np.clip(mean, -3, 3), np.clip(low, -3, 3), present.astype(np.float64)]
    else:
        cols += [np.zeros(n), np.zeros(n), np.zeros(n)]
    cols.append(lp / 5.0)

    matrix = np.stack(cols, axis=1)
    matrix = np.nan_to_num(matrix, nan=0.0, posinf=0.0, neginf=0.0)[origins]
    group = (groups or GroupRates.fit([])).features(series.group, series.dates[origins])
    return np.asarray(np.concatenate([matrix, group], axis=1), dtype=np.float64)


def origin_targets(
    series: PriceSeries, origins: IntArray, horizon: int, last: int | None = None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Targets at each origin for horizons 1..``horizon``: log price ratio, drop-so-far flag, and a mask.

    ``mask[i, h-1]`` is 1 when period ``origins[i] + h`` exists and is ≤ ``last`` (the training
    cutoff), so a model trained at a backtest origin never learns from prices after it.
    """
    p = series.prices
    n = len(p)
    end = n - 1 if last is None else min(last, n - 1)
    lp = np.log(p)
    ratio = np.zeros((len(origins), horizon))
    drop = np.zeros((len(origins), horizon))
    mask = np.zeros((len(origins), horizon))
    running = np.full(len(origins), np.inf)
    for h in range(1, horizon + 1):
        idx = origins + h
        ok = idx <= end
        safe = np.minimum(idx, n - 1)
        ratio[:, h - 1] = np.where(ok, lp[safe] - lp[origins], 0.0)
        running = np.minimum(running, np.where(ok, lp[safe], np.inf))
        drop[:, h - 1] = (running - lp[origins] <= LOG_DROP + _EPS).astype(np.float64)
        mask[:, h - 1] = ok
    return ratio, drop, mask
