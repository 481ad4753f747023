"""Price history, forecasting and buy-now-or-wait advice (issue #7, the pure parts).

The service calls :func:`train_forecaster` (or :func:`load_forecaster` on a saved directory) once,
then :func:`advise` per product with that product's price observations.  Nothing here reads settings
or imports ``assistant``/``api``; torch is imported only by the neural model when it is used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from pricing.advice import advise, money
from pricing.backtest import BacktestConfig, BacktestResult, backtest, choose_model
from pricing.features import DROP_RATIO
from pricing.models import (
    BASELINES,
    ETSForecaster,
    Forecast,
    ForecastBatch,
    Forecaster,
    NaiveForecaster,
    Progress,
    SeasonalNaiveForecaster,
    load_forecaster,
)
from pricing.neural import NeuralConfig, NeuralForecaster
from pricing.series import FORMATS, History, PriceHistoryError, PriceSeries, read_history, weekly
from pricing.simulate import default_dynamics, simulate_history

__all__ = [
    "BASELINES",
    "DROP_RATIO",
    "FORMATS",
    "BacktestConfig",
    "BacktestResult",
    "ETSForecaster",
    "Forecast",
    "ForecastBatch",
    "Forecaster",
    "History",
    "NaiveForecaster",
    "NeuralConfig",
    "NeuralForecaster",
    "PriceHistoryError",
    "PriceSeries",
    "Progress",
    "SeasonalNaiveForecaster",
    "advise",
    "backtest",
    "choose_model",
    "default_dynamics",
    "load_forecaster",
    "money",
    "read_history",
    "simulate_history",
    "train_forecaster",
    "weekly",
]


def train_forecaster(
    series: Sequence[PriceSeries],
    config: NeuralConfig | None = None,
    progress: Progress | None = None,
    *,
    validate: bool = True,
) -> Forecaster:
    """Train the forecaster the service should use on all of ``series``.

    With ``validate`` the neural model is first checked on the last ``retrain_every`` periods (a time
    split: fitted on what came before, scored on forecasts made in that span by the backtest rule of
    :func:`pricing.backtest.choose_model`); when it does not beat naive there, a naive forecaster is
    returned instead.  Either way the returned model is fitted on all the data and carries
    ``validation`` (the scores per model, empty without validation).
    """
    if not series:
        raise ValueError("no price series to train on")
    config = config or NeuralConfig()
    validation: dict[str, Any] = {}
    if validate:
        validation = _validate(series, config)
    chosen = validation.get("chosen", "mlp")
    model: Forecaster
    if chosen == "mlp":
        model = NeuralForecaster(config).fit(series, progress=progress)
    else:
        model = BASELINES[chosen]().fit(series)
    model.validation = validation
    return model


def _validate(series: Sequence[PriceSeries], config: NeuralConfig) -> dict[str, Any]:
    """Rolling-origin scores of naive and the neural model over the most recent stretch of time."""
    bt = BacktestConfig.for_freq(series[0].freq)
    last = max(s.dates[-1] for s in series if len(s))
    span = np.timedelta64(bt.retrain_every * series[0].step_days, "D")
    cutoff = last - span
    recent = BacktestConfig(
        horizons=bt.horizons,
        drop_horizon=bt.drop_horizon,
        step=bt.step,
        warmup=bt.warmup,
        retrain_every=10_000,
    )
    try:
        result = backtest(
            series,
            [NaiveForecaster, lambda: NeuralForecaster(config)],
            recent,
            origin_from=cutoff,
            validation_until=last + np.timedelta64(1, "D"),
        )
    except ValueError:
        return {"chosen": "mlp", "note": "too little history to validate"}
    return {
        "chosen": result.chosen,
        "windows": result.n_windows,
        **{
            s.model: {k: (None if not math.isfinite(v) else round(v, 5)) for k, v in s.metrics.items()}
            for s in result.scores
        },
    }
