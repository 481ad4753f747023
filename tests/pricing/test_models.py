"""Forecasters: what they predict, that a forecast never reads the future, save / load."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import (
    ETSForecaster,
    Forecaster,
    NaiveForecaster,
    NeuralConfig,
    NeuralForecaster,
    SeasonalNaiveForecaster,
    load_forecaster,
)
from pricing.models import _prefix_quantiles

from .conftest import make_series, periodic_panel

TINY = NeuralConfig(hidden=16, epochs=2, max_samples=5_000)


@given(
    values=st.lists(st.floats(-1, 1, allow_nan=False), min_size=1, max_size=40),
    counts=st.lists(st.integers(0, 40), min_size=1, max_size=5),
)
@settings(max_examples=60, deadline=None)
def test_prefix_quantiles_equal_numpy_on_each_prefix(values: list[float], counts: list[int]) -> None:
    v = np.array(values)
    c = np.minimum(np.array(counts), len(v))
    got = _prefix_quantiles(v, c, (0.1, 0.9))
    for row, n in zip(got, c, strict=True):
        want = np.quantile(v[:n], (0.1, 0.9)) if n else np.zeros(2)
        assert row == pytest.approx(want, abs=1e-12)


def test_naive_repeats_the_last_price_and_knows_which_items_drop() -> None:
    steady = make_series("steady", [10.0] * 80)
    flappy = make_series("flappy", [10.0, 10.0, 10.0, 8.0] * 20)
    model = NaiveForecaster().fit([steady, flappy])
    f_steady = model.predict(steady, 4)
    f_flappy = model.predict(flappy.upto(78), 4)
    assert f_steady.point.tolist() == [10.0] * 4
    spread_steady = f_steady.high - f_steady.low
    spread_flappy = f_flappy.high - f_flappy.low
    assert np.all(
        spread_steady[:3] < 0.5 * spread_flappy[:3]
    )  # its own history never moved: narrow (panel share only)
    assert f_flappy.drop_probability > 0.5 > f_steady.drop_probability
    assert np.all(f_flappy.low <= f_flappy.point) and np.all(f_flappy.point <= f_flappy.high)
    assert f_flappy.low[0] < 10.0  # its history has 20 % drops inside the 80 % range


def test_seasonal_naive_repeats_last_year_and_falls_back_to_naive() -> None:
    prices = np.concatenate([np.arange(1, 53, dtype=float), np.full(10, 100.0)])
    s = make_series("s", prices)
    f = SeasonalNaiveForecaster().fit([s]).predict(s, 3)
    assert f.point.tolist() == [11.0, 12.0, 13.0]  # prices 52 weeks before the targets
    short = make_series("short", [5.0, 6.0, 7.0])
    assert SeasonalNaiveForecaster().predict(short, 2).point.tolist() == [7.0, 7.0]


def test_ets_follows_a_trend_on_log_price() -> None:
    s = make_series("t", 10 * np.exp(0.01 * np.arange(60)))
    model = ETSForecaster().fit([s])
    f = model.predict(s, 4)
    assert f.point[0] > s.prices[-1]  # a damped or full trend, not flat
    assert np.all(np.diff(f.point) > 0)


MODELS = [
    NaiveForecaster,
    SeasonalNaiveForecaster,
    ETSForecaster,
    lambda: NeuralForecaster(TINY),
]


@pytest.mark.parametrize("factory", MODELS, ids=["naive", "seasonal_naive", "ets", "mlp"])
def test_future_prices_cannot_change_a_past_forecast(factory: type[Forecaster]) -> None:
    panel = periodic_panel(n=8, weeks=100)
    model = factory().fit(panel, until=panel[0].dates[59])
    s = panel[3]
    changed = make_series(s.key, np.concatenate([s.prices[:61], s.prices[61:] * 3.0]))
    origins = np.array([52, 56, 60])
    a = model.predict_origins(s, origins, 12, 4)
    b = model.predict_origins(changed, origins, 12, 4)
    for x, y in ((a.point, b.point), (a.low, b.low), (a.high, b.high), (a.drop, b.drop)):
        assert np.array_equal(x, y)
    single = model.predict(s.upto(56), 12, drop_horizon=4)  # the served path equals the backtested one
    assert np.allclose(single.point, a.point[1]) and single.drop_probability == pytest.approx(a.drop[1])


def test_fitting_with_until_ignores_later_data() -> None:
    panel = periodic_panel(n=6, weeks=100)
    cut = panel[0].dates[59]
    later = [make_series(s.key, np.concatenate([s.prices[:60], s.prices[60:] * 0.5])) for s in panel]
    a = NeuralForecaster(TINY).fit(panel, until=cut)
    b = NeuralForecaster(TINY).fit(later, until=cut)
    fa, fb = a.predict(panel[0].upto(59), 4), b.predict(panel[0].upto(59), 4)
    assert np.array_equal(fa.point, fb.point) and fa.drop_probability == pytest.approx(fb.drop_probability)


def test_one_item_in_several_stores_counts_once_per_training_pass() -> None:
    """M5 files with several stores repeat most items' prices store by store.  A pass over the panel
    must not get three times longer for it (the net then overfits: drop AUC 0.665 → 0.639 on CA_1
    items copied into three stores), and an item's copies are held out together."""
    panel = periodic_panel(n=20, weeks=80)
    one = [dataclasses.replace(s, item=s.key) for s in panel]
    stores = [
        dataclasses.replace(s, key=f"{store}/{s.key}", item=s.key)
        for store in ("CA_1", "TX_1", "WI_1")
        for s in panel
    ]
    a, b = NeuralForecaster(TINY).fit(one), NeuralForecaster(TINY).fit(stores)
    assert a.metrics["epoch_windows"] == b.metrics["epoch_windows"] > 0
    assert b.metrics["windows"] == 3 * a.metrics["windows"]  # all copies are still trained on
    # the same series as different products (no item): a pass covers all of them
    apart = NeuralForecaster(TINY).fit([dataclasses.replace(s, item="") for s in stores])
    assert apart.metrics["epoch_windows"] == apart.metrics["windows"] > b.metrics["epoch_windows"]


def test_neural_model_saves_and_loads_to_the_same_forecasts(tmp_path: Path) -> None:
    panel = periodic_panel(n=10, weeks=80)
    model = NeuralForecaster(TINY).fit(panel)
    model.save(tmp_path / "m")
    files = {p.name: p.stat().st_size for p in (tmp_path / "m").iterdir()}
    assert set(files) == {"config.json", "model.safetensors"} and sum(files.values()) < 1_000_000
    assert json.loads((tmp_path / "m" / "config.json").read_text())["model"] == "mlp"
    loaded = load_forecaster(tmp_path / "m")
    assert isinstance(loaded, NeuralForecaster)
    f1, f2 = model.predict(panel[0], 6), loaded.predict(panel[0], 6)
    assert np.allclose(f1.low, f2.low) and np.allclose(f1.high, f2.high)
    assert f1.drop_probability == pytest.approx(f2.drop_probability)


def test_baselines_save_and_load(tmp_path: Path) -> None:
    panel = periodic_panel(n=5, weeks=80)
    model = ETSForecaster().fit(panel)
    loaded = load_forecaster(model.save(tmp_path / "ets"))
    assert isinstance(loaded, ETSForecaster) and (loaded.alpha, loaded.phi) == (model.alpha, model.phi)
    assert np.allclose(loaded.predict(panel[1], 4).high, model.predict(panel[1], 4).high)


def test_loading_a_directory_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no saved price forecaster"):
        load_forecaster(tmp_path)
    (tmp_path / "config.json").write_text('{"model": "prophet"}')
    with pytest.raises(ValueError, match="unknown model"):
        load_forecaster(tmp_path)


def test_neural_quantiles_are_ordered_and_probabilities_bounded() -> None:
    panel = periodic_panel(n=10, weeks=80)
    model = NeuralForecaster(TINY).fit(panel)
    batch = model.predict_origins(panel[2], np.arange(3, 70), 15, 4)
    assert np.all(batch.low <= batch.point) and np.all(batch.point <= batch.high)
    assert np.all((batch.drop >= 0) & (batch.drop <= 1))
    assert batch.point.shape == (67, 15)
