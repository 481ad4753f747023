"""Forecasters: one interface, three baselines (naive, seasonal naive, damped ETS).

Every forecaster answers for many origins of one series at once (:meth:`Forecaster.predict_origins`):
the backtest needs ~60 origins per series and one vectorised call per series keeps it fast, while
:meth:`Forecaster.predict` is the same call at the last period, so the served forecast is exactly the
one that was backtested.  Rows only use data up to their origin.

Intervals are 80 % (10th–90th percentile) and come from the empirical distribution of the item's own
past h-step log changes (shrunk toward the panel's when the item has few windows); the drop
probability is the item's historical frequency of ≥ 5 % drops within the horizon, shrunk toward the
panel rate.  Shelf prices mostly sit still, so both are honest about that: an item that never moved
gets a zero-width interval and a low drop probability.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from pricing.features import DROP_RATIO, drop_windows
from pricing.series import PriceSeries

__all__ = [
    "BASELINES",
    "ETSForecaster",
    "Forecast",
    "ForecastBatch",
    "Forecaster",
    "NaiveForecaster",
    "PanelStats",
    "Progress",
    "SeasonalNaiveForecaster",
    "load_forecaster",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Progress = Callable[[int, int], None]

#: horizons the panel statistics cover; longer horizons reuse the last one
MAX_HORIZON = 12
#: windows at which an item's own statistics get half the weight (the rest is the panel's)
SHRINK_WINDOWS = 26.0
#: a log change smaller than this is "no change" (prices are in cents; this is far below a cent)
MOVE_EPS = 1e-6
CONFIG_FILE = "config.json"


@dataclass(frozen=True)
class Forecast:
    """Forecast for the ``horizon`` periods after the origin: point and 80 % interval per period, and
    the probability that the price falls to ≤ 95 % of today's at some point within the horizon."""

    point: FloatArray
    low: FloatArray
    high: FloatArray
    drop_probability: float

    @property
    def horizon(self) -> int:
        return len(self.point)


@dataclass(frozen=True)
class ForecastBatch:
    """Forecasts at several origins of one series: arrays (n_origins, horizon), drop (n_origins,)."""

    point: FloatArray
    low: FloatArray
    high: FloatArray
    drop: FloatArray
    #: (n_origins, horizon): probability that the price then is below / above the origin's price.
    #: Shelf prices mostly do not move, so the predictive distribution has an atom at today's price
    #: of mass ``1 - below - above``; the backtest needs it to score interval coverage honestly
    below: FloatArray | None = None
    above: FloatArray | None = None

    def row(self, i: int) -> Forecast:
        return Forecast(self.point[i].copy(), self.low[i].copy(), self.high[i].copy(), float(self.drop[i]))


def _valid_until(series: PriceSeries, until: np.datetime64 | None) -> int:
    """Last index whose date is ≤ ``until`` (all when None); -1 when the series starts after it."""
    if until is None:
        return len(series) - 1
    return int(np.searchsorted(series.dates, until, side="right")) - 1


@dataclass
class PanelStats:
    """Pooled statistics of all training series: per horizon h (1-based index h-1) the 10th / 90th
    percentile of h-step log changes and the share of windows with a ≥ 5 % drop within h."""

    q10: list[float]
    q90: list[float]
    drop_rate: list[float]
    #: share of h-step windows whose price ended below / above where it started (empty in configs
    #: saved before these existed: read as no movement)
    below: list[float] = field(default_factory=list)
    above: list[float] = field(default_factory=list)

    @classmethod
    def default(cls) -> PanelStats:
        """Used when nothing was fitted: no movement expected, a small drop rate."""
        zeros = [0.0] * MAX_HORIZON
        return cls(list(zeros), list(zeros), [0.02] * MAX_HORIZON, list(zeros), list(zeros))

    @classmethod
    def fit(cls, series: Sequence[PriceSeries], until: np.datetime64 | None = None) -> PanelStats:
        q10, q90, rates, below, above = [], [], [], [], []
        for h in range(1, MAX_HORIZON + 1):
            changes: list[FloatArray] = []
            drops = 0.0
            windows = 0
            for s in series:
                end = _valid_until(s, until)
                if end < h:
                    continue
                lp = np.log(s.prices[: end + 1])
                changes.append(lp[h:] - lp[:-h])
                d = drop_windows(s.prices[: end + 1], h)[: end + 1 - h]
                drops += float(d.sum())
                windows += len(d)
            if not changes:
                return cls.default()
            pooled = np.concatenate(changes)
            q10.append(float(np.quantile(pooled, 0.1)))
            q90.append(float(np.quantile(pooled, 0.9)))
            rates.append(drops / max(windows, 1))
            below.append(float(np.mean(pooled < -MOVE_EPS)))
            above.append(float(np.mean(pooled > MOVE_EPS)))
        return cls(q10, q90, rates, below, above)

    def at(self, horizon: int) -> tuple[float, float, float]:
        i = min(max(horizon, 1), len(self.q10)) - 1
        return self.q10[i], self.q90[i], self.drop_rate[i]

    def moves(self, horizon: int) -> tuple[float, float]:
        """Pooled share of ``horizon``-step windows ending below / above their start."""
        if not self.below or not self.above:
            return 0.0, 0.0
        i = min(max(horizon, 1), len(self.below)) - 1
        return self.below[i], self.above[i]


def _prefix_quantiles(values: FloatArray, counts: IntArray, qs: Sequence[float]) -> FloatArray:
    """Quantiles of ``values[:c]`` for each ``c`` in ``counts`` (0 where c == 0): (len(counts), len(qs)).

    One sort of a (origins × windows) matrix with NaN past each prefix replaces a quantile call per
    origin; linear interpolation as ``np.quantile``'s default.
    """
    out = np.zeros((len(counts), len(qs)))
    if len(values) == 0 or not np.any(counts > 0):
        return out
    cols = np.arange(len(values))
    matrix = np.where(cols[None, :] < counts[:, None], values[None, :], np.nan)
    matrix.sort(axis=1)  # NaN sort last
    c = np.maximum(counts, 1)
    rows = np.arange(len(counts))
    for j, q in enumerate(qs):
        pos = q * (c - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, c - 1)
        frac = pos - lo
        out[:, j] = np.where(counts > 0, matrix[rows, lo] * (1 - frac) + matrix[rows, hi] * frac, 0.0)
    return out


class Forecaster(ABC):
    """Fit on many series, forecast any series at chosen origins; save to / load from a directory."""

    name: ClassVar[str]

    def __init__(self) -> None:
        self.panel = PanelStats.default()
        #: scores from the validation that chose this model (see :func:`pricing.train_forecaster`)
        self.validation: dict[str, Any] = {}

    def fit(
        self,
        series: Sequence[PriceSeries],
        *,
        until: np.datetime64 | None = None,
        progress: Progress | None = None,
    ) -> Forecaster:
        """Learn from windows whose targets end on or before ``until`` (all data when None)."""
        self.panel = PanelStats.fit(series, until)
        return self

    @abstractmethod
    def predict_origins(
        self, series: PriceSeries, origins: IntArray, horizon: int, drop_horizon: int | None = None
    ) -> ForecastBatch:
        """Forecasts made at each of ``origins`` (indices into the series) using data up to it only."""

    def predict(self, series: PriceSeries, horizon: int, *, drop_horizon: int | None = None) -> Forecast:
        """Forecast after the last period; the drop probability covers ``drop_horizon`` (default: horizon)."""
        if len(series) == 0:
            raise ValueError(f"{series.key}: empty series")
        if horizon < 1:
            raise ValueError("horizon must be at least 1")
        origin = np.array([len(series) - 1], dtype=np.int64)
        return self.predict_origins(series, origin, horizon, drop_horizon).row(0)

    # ---- shared pieces: empirical intervals and drop frequency of the item, shrunk to the panel
    def _intervals(
        self, series: PriceSeries, origins: IntArray, horizon: int
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """From the item's past h-step log changes, shrunk toward the panel's, each (n_origins, horizon):
        the 10th and 90th percentile of the log change, and the probability that the price h periods on
        is below / above the origin's (the shares of past changes each way)."""
        lp = np.log(series.prices)
        low = np.zeros((len(origins), horizon))
        high = np.zeros((len(origins), horizon))
        below = np.zeros((len(origins), horizon))
        above = np.zeros((len(origins), horizon))
        for h in range(1, horizon + 1):
            changes = lp[h:] - lp[:-h] if len(lp) > h else np.zeros(0)
            counts = np.clip(origins - h + 1, 0, len(changes)).astype(np.int64)
            item = _prefix_quantiles(changes, counts, (0.1, 0.9))
            p10, p90, _ = self.panel.at(h)
            w = counts / (counts + SHRINK_WINDOWS)
            low[:, h - 1] = np.minimum(w * item[:, 0] + (1 - w) * p10, 0.0)
            high[:, h - 1] = np.maximum(w * item[:, 1] + (1 - w) * p90, 0.0)
            cum_down = np.concatenate([[0.0], np.cumsum(changes < -MOVE_EPS)])
            cum_up = np.concatenate([[0.0], np.cumsum(changes > MOVE_EPS)])
            p_down, p_up = self.panel.moves(h)
            below[:, h - 1] = (cum_down[counts] + SHRINK_WINDOWS * p_down) / (counts + SHRINK_WINDOWS)
            above[:, h - 1] = (cum_up[counts] + SHRINK_WINDOWS * p_up) / (counts + SHRINK_WINDOWS)
        return low, high, below, above

    def _drop_rate(self, series: PriceSeries, origins: IntArray, horizon: int) -> FloatArray:
        """The item's share of past ``horizon``-windows with a ≥ 5 % drop, shrunk to the panel rate."""
        d = drop_windows(series.prices, horizon).astype(np.float64)
        cum = np.concatenate([[0.0], np.cumsum(d)])
        counts = np.clip(origins - horizon + 1, 0, len(d))
        drops = cum[counts]
        _, _, panel_rate = self.panel.at(horizon)
        return np.asarray((drops + SHRINK_WINDOWS * panel_rate) / (counts + SHRINK_WINDOWS), dtype=np.float64)

    # ---- persistence: a directory with config.json (+ weights for learned models)
    def to_config(self) -> dict[str, Any]:
        return {"model": self.name, "panel": asdict(self.panel), "validation": self.validation}

    def save(self, directory: Path | str) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / CONFIG_FILE).write_text(json.dumps(self.to_config(), indent=1))
        return directory

    @classmethod
    def from_config(cls, config: dict[str, Any], directory: Path) -> Forecaster:
        model = cls()
        model.panel = PanelStats(**config["panel"])
        model.validation = dict(config.get("validation", {}))
        return model


class NaiveForecaster(Forecaster):
    """Tomorrow's price is today's; the item's own history sizes the interval and the drop odds."""

    name = "naive"

    def predict_origins(
        self, series: PriceSeries, origins: IntArray, horizon: int, drop_horizon: int | None = None
    ) -> ForecastBatch:
        p0 = series.prices[origins]
        low, high, below, above = self._intervals(series, origins, horizon)
        point = np.repeat(p0[:, None], horizon, axis=1)
        drop = self._drop_rate(series, origins, drop_horizon or horizon)
        return ForecastBatch(point, point * np.exp(low), point * np.exp(high), drop, below, above)


class SeasonalNaiveForecaster(Forecaster):
    """The price one season (52 weeks / 12 months) before each target; naive while history is shorter.

    The drop probability averages the naive rate with whether the same window a year ago had a drop
    relative to its start (yearly sales repeat).
    """

    name = "seasonal_naive"

    def predict_origins(
        self, series: PriceSeries, origins: IntArray, horizon: int, drop_horizon: int | None = None
    ) -> ForecastBatch:
        p = series.prices
        m = series.season
        p0 = p[origins]
        point = np.repeat(p0[:, None], horizon, axis=1)
        for h in range(1, horizon + 1):
            src = origins + h - m * math.ceil(h / m)
            ok = src >= 0
            point[:, h - 1] = np.where(ok, p[np.maximum(src, 0)], p0)
        low, high, below, above = self._intervals(series, origins, horizon)
        dh = drop_horizon or horizon
        base = self._drop_rate(series, origins, dh)
        a = origins - m
        last_year = np.zeros(len(origins))
        ok = a >= 0
        if ok.any():
            window_min = np.full(len(origins), np.inf)
            for h in range(1, min(dh, m) + 1):
                window_min = np.minimum(window_min, p[np.clip(a + h, 0, len(p) - 1)])
            last_year = np.where(ok, window_min <= DROP_RATIO * p[np.maximum(a, 0)] + 1e-9, 0.0)
        drop = np.where(ok, 0.5 * base + 0.5 * last_year, base)
        return ForecastBatch(point, point * np.exp(low), point * np.exp(high), drop, below, above)


class ETSForecaster(Forecaster):
    """Damped-trend exponential smoothing on log price (Holt / Gardner–McKenzie).

    ``alpha``, ``beta`` and ``phi`` are picked on the training windows from a small grid by one-step
    squared error pooled over all series (a global fit: single short series cannot estimate them).
    The drop probability is the naive rate, raised to at least 0.5 when the smoothed path itself
    falls 5 % below today's price within the horizon.
    """

    name = "ets"
    GRID: ClassVar[tuple[tuple[float, float, float], ...]] = (
        (0.2, 0.0, 1.0),
        (0.5, 0.0, 1.0),
        (0.8, 0.0, 1.0),
        (1.0, 0.0, 1.0),
        (0.5, 0.1, 0.8),
        (0.8, 0.1, 0.8),
    )

    def __init__(self, alpha: float = 0.8, beta: float = 0.0, phi: float = 1.0) -> None:
        super().__init__()
        self.alpha, self.beta, self.phi = alpha, beta, phi

    @staticmethod
    def _states(
        lp: FloatArray, alpha: float, beta: float, phi: float
    ) -> tuple[FloatArray, FloatArray, float]:
        """Level and trend after each period (causal recursion) and the one-step squared error sum."""
        n = len(lp)
        level = np.empty(n)
        trend = np.empty(n)
        lev, tr, sse = lp[0], 0.0, 0.0
        level[0], trend[0] = lev, tr
        for i in range(1, n):
            pred = lev + phi * tr
            err = lp[i] - pred
            sse += err * err
            new_lev = pred + alpha * err
            tr = beta * (new_lev - lev) + (1 - beta) * phi * tr
            lev = new_lev
            level[i], trend[i] = lev, tr
        return level, trend, sse

    def fit(
        self,
        series: Sequence[PriceSeries],
        *,
        until: np.datetime64 | None = None,
        progress: Progress | None = None,
    ) -> ETSForecaster:
        super().fit(series, until=until)
        rng = np.random.default_rng(0)
        pool = [s for s in series if _valid_until(s, until) >= 8]
        if len(pool) > 300:
            pool = [pool[i] for i in rng.choice(len(pool), 300, replace=False)]
        best = (math.inf, (self.alpha, self.beta, self.phi))
        for alpha, beta, phi in self.GRID:
            sse = sum(
                self._states(np.log(s.prices[: _valid_until(s, until) + 1]), alpha, beta, phi)[2]
                for s in pool
            )
            if sse < best[0] - 1e-12:
                best = (sse, (alpha, beta, phi))
        self.alpha, self.beta, self.phi = best[1]
        return self

    def predict_origins(
        self, series: PriceSeries, origins: IntArray, horizon: int, drop_horizon: int | None = None
    ) -> ForecastBatch:
        lp = np.log(series.prices)
        level, trend, _ = self._states(lp, self.alpha, self.beta, self.phi)
        damp = np.cumsum(self.phi ** np.arange(1, horizon + 1))
        log_point = level[origins][:, None] + trend[origins][:, None] * damp[None, :]
        point = np.exp(log_point)
        low, high, below, above = self._intervals(series, origins, horizon)
        dh = drop_horizon or horizon
        drop = self._drop_rate(series, origins, dh)
        p0 = series.prices[origins]
        path_drop = point[:, : min(dh, horizon)].min(axis=1) <= DROP_RATIO * p0
        drop = np.where(path_drop, np.maximum(drop, 0.5), drop)
        return ForecastBatch(point, point * np.exp(low), point * np.exp(high), drop, below, above)

    def to_config(self) -> dict[str, Any]:
        return {**super().to_config(), "alpha": self.alpha, "beta": self.beta, "phi": self.phi}

    @classmethod
    def from_config(cls, config: dict[str, Any], directory: Path) -> ETSForecaster:
        model = cls(alpha=config["alpha"], beta=config["beta"], phi=config["phi"])
        model.panel = PanelStats(**config["panel"])
        return model


BASELINES: dict[str, type[Forecaster]] = {
    "naive": NaiveForecaster,
    "seasonal_naive": SeasonalNaiveForecaster,
    "ets": ETSForecaster,
}


def load_forecaster(directory: Path | str) -> Forecaster:
    """Load whichever forecaster was saved in ``directory`` (``config.json`` names it)."""
    directory = Path(directory)
    path = directory / CONFIG_FILE
    if not path.is_file():
        raise ValueError(f"{directory}: no saved price forecaster ({CONFIG_FILE} missing)")
    try:
        config = json.loads(path.read_text())
        name = config["model"]
    except (ValueError, KeyError):
        raise ValueError(f"{path}: not a price forecaster config") from None
    if name == "mlp":
        from pricing.neural import NeuralForecaster

        return NeuralForecaster.from_config(config, directory)
    if name not in BASELINES:
        raise ValueError(f"{path}: unknown model {name!r}")
    return BASELINES[name].from_config(config, directory)
