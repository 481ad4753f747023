"""Rolling-origin backtest of the forecasters and the rule that picks the one the advice uses.

Protocol (weekly series): an origin every 4 weeks once a series has 52 weeks of history; point
forecasts scored at 4 and 12 weeks ahead, the 80 % interval and the drop probability at 4 weeks (a drop
= the minimum price within the horizon ≤ 95 % of the price at the origin).  ``coverage@4`` scores
the interval as a randomised interval where the price did not move (see :func:`coverage`: closed
intervals cannot be 80 % when most prices sit still); ``coverage_closed@4`` is the plain share inside.
Monthly series (Olist): an origin every month once a series has 6 months, horizons 1 and 3 months,
drop within 1 month.

No leakage: every model is (re)fitted on a schedule of calendar dates, ``retrain_every`` periods
apart from the first origin; the model fitted at date D learns only from windows whose targets end on
or before D and answers only origins on or after D (until the next refit).  Features only read data up
to their origin (see :mod:`pricing.features`).  Yearly refits keep a 3,000-series run within minutes.

Choice (``chosen``): the validation windows are those whose origin falls in the first half of the
origin dates (every one of them a genuine out-of-sample forecast).  Models whose validation MAE at the
first horizon is ≤ 1.02 × naive's are candidates; the candidate with the highest validation drop AUC
wins, naive unless another beats it by > 0.005.  So the neural model is used only when it ranks drops
better than every baseline without worse prices.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from pricing.features import DROP_RATIO
from pricing.models import ForecastBatch, Forecaster, Progress
from pricing.series import PriceSeries

__all__ = [
    "BacktestConfig",
    "BacktestResult",
    "ModelScores",
    "auc",
    "backtest",
    "brier",
    "choose_model",
    "coverage",
    "mae",
    "smape",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
#: AUC margin another model needs over naive to be chosen instead
AUC_MARGIN = 0.005
MAE_GUARD = 1.02


# ------------------------------------------------------------------------------------------ metrics


def mae(forecast: FloatArray, actual: FloatArray) -> float:
    """Mean absolute error, in currency units."""
    return float(np.mean(np.abs(forecast - actual))) if len(actual) else math.nan


def smape(forecast: FloatArray, actual: FloatArray) -> float:
    """Symmetric MAPE in percent (0..200); 0 when both are 0."""
    if not len(actual):
        return math.nan
    denom = np.abs(forecast) + np.abs(actual)
    return float(
        np.mean(np.where(denom > 0, 200.0 * np.abs(forecast - actual) / np.maximum(denom, 1e-12), 0.0))
    )


def coverage(
    low: FloatArray,
    high: FloatArray,
    actual: FloatArray,
    origin: FloatArray | None = None,
    below: FloatArray | None = None,
    above: FloatArray | None = None,
) -> float:
    """Coverage of the 80 % intervals [low, high] (closed, with a rounding tolerance).

    Without ``origin``/``below``/``above``: the share of actuals inside.  With them, ties at the atom
    are scored as a *randomised* interval would be (the randomised PIT of Czado, Gneiting & Held,
    2009, for predictive distributions with point masses).  A shelf price usually stays exactly at
    today's price, so the forecast distribution puts mass ``1 - below - above`` on that one value and
    no closed interval can hold 80 %: the 10th and 90th percentiles both *are* today's price, and a
    closed interval then covers every unchanged window (97 % of M5's).  When the price did not move
    and the interval holds it, the window counts the share of the atom that lies between the 10th and
    90th percentile — ``|[below, 1 - above] ∩ [0.1, 0.9]| / (1 - below - above)`` — which averages
    to 0.8 exactly when ``below`` and ``above`` are calibrated; every other window counts 1 when the
    actual is inside, as before.
    """
    if not len(actual):
        return math.nan
    tol = 1e-6 * np.maximum(np.abs(actual), 1.0)
    inside = ((actual >= low - tol) & (actual <= high + tol)).astype(np.float64)
    if origin is None or below is None or above is None:
        return float(np.mean(inside))
    b = np.clip(below, 0.0, 1.0)
    a = np.clip(above, 0.0, 1.0 - b)
    atom = 1.0 - b - a
    overlap = np.clip(np.minimum(1.0 - a, 0.9) - np.maximum(b, 0.1), 0.0, None)
    share = np.where(
        atom > 1e-9, np.clip(overlap / np.maximum(atom, 1e-9), 0.0, 1.0), ((b >= 0.1) & (b <= 0.9)) * 1.0
    )
    tie = (np.abs(actual - origin) <= tol) & (inside > 0)
    return float(np.mean(np.where(tie, share, inside)))


def auc(scores: FloatArray, labels: npt.NDArray[np.bool_]) -> float:
    """ROC AUC by the rank-sum formula (ties get average ranks); NaN without both classes."""
    pos = int(labels.sum())
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return math.nan
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores))
    # average rank per group of equal scores
    boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(scores)]])
    avg = (starts + ends + 1) / 2.0  # 1-based average rank of each group
    ranks[order] = np.repeat(avg, ends - starts)
    return float((ranks[labels].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def brier(probabilities: FloatArray, labels: npt.NDArray[np.bool_]) -> float:
    return float(np.mean((probabilities - labels) ** 2)) if len(labels) else math.nan


# --------------------------------------------------------------------------------------- protocol


@dataclass(frozen=True)
class BacktestConfig:
    """Where origins fall and what is scored (periods are weeks or months, as the series)."""

    horizons: tuple[int, int] = (4, 12)
    drop_horizon: int = 4
    step: int = 4
    warmup: int = 52
    retrain_every: int = 52

    @classmethod
    def for_freq(cls, freq: str) -> BacktestConfig:
        """Weekly: the default; monthly (Olist, ≤ 20 months a product): 1 and 3 months, refit quarterly."""
        if freq == "M":
            return cls(horizons=(1, 3), drop_horizon=1, step=1, warmup=6, retrain_every=3)
        return cls()


@dataclass
class _Windows:
    """Scored windows of one model, appended per series and block."""

    actual: dict[int, list[FloatArray]] = field(default_factory=dict)
    point: dict[int, list[FloatArray]] = field(default_factory=dict)
    low: list[FloatArray] = field(default_factory=list)
    high: list[FloatArray] = field(default_factory=list)
    origin: list[FloatArray] = field(default_factory=list)
    below: list[FloatArray] = field(default_factory=list)
    above: list[FloatArray] = field(default_factory=list)
    drop_p: list[FloatArray] = field(default_factory=list)
    drop_y: list[npt.NDArray[np.bool_]] = field(default_factory=list)
    validation: list[npt.NDArray[np.bool_]] = field(default_factory=list)
    val_h: dict[int, list[npt.NDArray[np.bool_]]] = field(default_factory=dict)


@dataclass
class ModelScores:
    """Metrics of one model on all windows and on the validation (first refit period) windows."""

    model: str
    metrics: dict[str, float]
    validation: dict[str, float]
    chosen: bool = False

    def line(self) -> dict[str, Any]:
        """The JSON line ``shopassist eval pricing`` prints."""
        return {"model": self.model, "chosen": self.chosen, **{k: _round(v) for k, v in self.metrics.items()}}


def _round(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 5)


@dataclass
class BacktestResult:
    scores: list[ModelScores]
    n_series: int
    n_windows: int
    drop_rate: float
    config: BacktestConfig
    #: per model, per series key: (origin indices, point forecasts at the first horizon), for checks
    forecasts: dict[str, dict[str, tuple[IntArray, FloatArray]]] = field(default_factory=dict)

    @property
    def chosen(self) -> str:
        return next(s.model for s in self.scores if s.chosen)


def _origins(series: PriceSeries, config: BacktestConfig) -> IntArray:
    """Origins with at least the first horizon observed."""
    last = len(series) - 1 - min(config.horizons + (config.drop_horizon,))
    return np.arange(config.warmup, last + 1, config.step, dtype=np.int64)


def backtest(
    series: Sequence[PriceSeries],
    models: Sequence[Callable[[], Forecaster]],
    config: BacktestConfig | None = None,
    *,
    progress: Progress | None = None,
    keep_forecasts: bool = False,
    origin_from: np.datetime64 | None = None,
    validation_until: np.datetime64 | None = None,
) -> BacktestResult:
    """Run every model factory through the rolling-origin protocol; see the module docstring.

    ``origin_from`` drops origins before that date (for a validation of the most recent stretch);
    ``validation_until`` ends the validation windows the choice reads (default: the middle of the
    origin dates).
    """
    if not series:
        raise ValueError("no series to backtest")
    config = config or BacktestConfig.for_freq(series[0].freq)
    origins = [_origins(s, config) for s in series]
    if origin_from is not None:
        origins = [o[s.dates[o] >= origin_from] for s, o in zip(series, origins, strict=True)]
    origin_dates = [s.dates[o[0]] for s, o in zip(series, origins, strict=True) if len(o)]
    if not origin_dates:
        raise ValueError(
            f"no series is long enough to backtest (need {config.warmup + min(config.horizons) + 1}+ periods)"
        )
    start = min(origin_dates)
    end = max(s.dates[o[-1]] for s, o in zip(series, origins, strict=True) if len(o))
    val_end = validation_until if validation_until is not None else start + (end - start) // 2
    step_days = series[0].step_days * config.retrain_every
    schedule: list[np.datetime64] = []
    d = start
    while d <= end:
        schedule.append(d)
        d = d + np.timedelta64(step_days, "D")
    schedule.append(end + np.timedelta64(1, "D"))
    max_h = max(config.horizons)
    windows = {i: _Windows() for i in range(len(models))}
    names: list[str] = []
    kept: dict[str, dict[str, tuple[list[IntArray], list[FloatArray]]]] = {}
    total = (len(schedule) - 1) * len(series)
    done = 0
    for block in range(len(schedule) - 1):
        lo, hi = schedule[block], schedule[block + 1]
        fitted: list[Forecaster] = []
        for factory in models:
            model = factory()
            model.fit(series, until=lo)  # targets end on or before the first origin it answers
            fitted.append(model)
        if not names:
            names = [m.name for m in fitted]
            kept = {n: {} for n in names}
        for s, o in zip(series, origins, strict=True):
            sel = o[(s.dates[o] >= lo) & (s.dates[o] < hi)] if len(o) else o
            done += 1
            if progress is not None and done % 50 == 0:
                progress(done, total)
            if not len(sel):
                continue
            for i, model in enumerate(fitted):
                batch = model.predict_origins(s, sel, max_h, config.drop_horizon)
                _score(windows[i], s, sel, batch, config, s.dates[sel] < val_end)
                if keep_forecasts:
                    entry = kept[names[i]].setdefault(s.key, ([], []))
                    entry[0].append(sel)
                    entry[1].append(batch.point[:, config.horizons[0] - 1])
    if progress is not None:
        progress(total, total)
    scores = [_summarise(names[i], windows[i], config) for i in range(len(models))]
    choose_model(scores, config)
    all_y = np.concatenate(windows[0].drop_y) if windows[0].drop_y else np.zeros(0, dtype=bool)
    forecasts = {
        n: {k: (np.concatenate(v[0]), np.concatenate(v[1])) for k, v in per.items()}
        for n, per in kept.items()
    }
    return BacktestResult(
        scores=scores,
        n_series=sum(1 for o in origins if len(o)),
        n_windows=len(all_y),
        drop_rate=float(all_y.mean()) if len(all_y) else math.nan,
        config=config,
        forecasts=forecasts,
    )


def _score(
    w: _Windows,
    s: PriceSeries,
    origins: IntArray,
    batch: ForecastBatch,
    config: BacktestConfig,
    validation: npt.NDArray[np.bool_],
) -> None:
    point, low, high, drop = batch.point, batch.low, batch.high, batch.drop
    p = s.prices
    n = len(p)
    for h in config.horizons:
        ok = origins + h <= n - 1
        w.actual.setdefault(h, []).append(p[origins[ok] + h])
        w.point.setdefault(h, []).append(point[ok, h - 1])
        w.val_h.setdefault(h, []).append(validation[ok])
    h0 = config.horizons[0]
    ok = origins + h0 <= n - 1
    w.low.append(low[ok, h0 - 1])
    w.high.append(high[ok, h0 - 1])
    w.origin.append(p[origins[ok]])
    nan = np.full(int(ok.sum()), np.nan)
    w.below.append(batch.below[ok, h0 - 1] if batch.below is not None else nan)
    w.above.append(batch.above[ok, h0 - 1] if batch.above is not None else nan)
    dh = config.drop_horizon
    ok = origins + dh <= n - 1
    o = origins[ok]
    future_min = np.min(np.stack([p[o + k] for k in range(1, dh + 1)]), axis=0) if len(o) else np.zeros(0)
    w.drop_y.append(future_min <= DROP_RATIO * p[o] + 1e-9)
    w.drop_p.append(drop[ok])
    w.validation.append(validation[ok])


def _summarise(name: str, w: _Windows, config: BacktestConfig) -> ModelScores:
    metrics: dict[str, float] = {}
    val: dict[str, float] = {}
    for h in config.horizons:
        a, f = np.concatenate(w.actual[h]), np.concatenate(w.point[h])
        v = np.concatenate(w.val_h[h])
        metrics[f"mae@{h}"] = mae(f, a)
        val[f"mae@{h}"] = mae(f[v], a[v])
    for h in config.horizons:
        a, f = np.concatenate(w.actual[h]), np.concatenate(w.point[h])
        metrics[f"smape@{h}"] = smape(f, a)
    h0 = config.horizons[0]
    low, high, actual = np.concatenate(w.low), np.concatenate(w.high), np.concatenate(w.actual[h0])
    below, above = np.concatenate(w.below), np.concatenate(w.above)
    known = bool(np.isfinite(below).all() and np.isfinite(above).all())
    metrics[f"coverage@{h0}"] = coverage(
        low,
        high,
        actual,
        np.concatenate(w.origin) if known else None,
        below if known else None,
        above if known else None,
    )
    metrics[f"coverage_closed@{h0}"] = coverage(low, high, actual)
    dp, dy = np.concatenate(w.drop_p), np.concatenate(w.drop_y)
    v = np.concatenate(w.validation)
    metrics["drop_auc"] = auc(dp, dy)
    metrics["drop_brier"] = brier(dp, dy)
    val["drop_auc"] = auc(dp[v], dy[v])
    return ModelScores(name, metrics, val)


def choose_model(scores: list[ModelScores], config: BacktestConfig) -> str:
    """Mark and return the model the advice should use (rule in the module docstring)."""
    key = f"mae@{config.horizons[0]}"
    naive = next((s for s in scores if s.model == "naive"), scores[0])
    guard = naive.validation.get(key, math.nan) * MAE_GUARD
    best, best_auc = naive, naive.validation.get("drop_auc", math.nan)
    best_auc = best_auc if math.isfinite(best_auc) else 0.5
    for s in scores:
        a = s.validation.get("drop_auc", math.nan)
        m = s.validation.get(key, math.nan)
        if s is naive or not math.isfinite(a) or not (m <= guard or not math.isfinite(guard)):
            continue
        if a > best_auc + AUC_MARGIN:
            best, best_auc = s, a
    for s in scores:
        s.chosen = s is best
    return best.model
