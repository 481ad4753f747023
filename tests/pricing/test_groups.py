"""Department markdown rates (GroupRates), the readers that fill ``group``, and the below/above
probabilities every forecaster now gives for the randomised coverage."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from pricing import Forecaster, NaiveForecaster, NeuralForecaster, PriceSeries, load_forecaster, read_history
from pricing.features import FEATURE_NAMES, GroupRates, origin_features
from pricing.series import _m5_department

from .conftest import make_series, periodic_panel
from .test_models import TINY


def _grouped(series: list[PriceSeries], group: str) -> list[PriceSeries]:
    return [PriceSeries(s.key, s.dates, s.prices, group=group) for s in series]


def _panel() -> list[PriceSeries]:
    """Two departments: one marked down every 13 weeks, one whose prices never move."""
    busy = _grouped(periodic_panel(n=6, weeks=120, seed=1), "deals")
    quiet = [make_series(f"q{i}", [20.0 + i] * 120) for i in range(6)]
    return busy + _grouped(quiet, "staples")


def test_m5_department_is_the_item_id_less_its_number() -> None:
    assert _m5_department("FOODS_3_090") == "FOODS_3"
    assert _m5_department("HOBBIES_1_001") == "HOBBIES_1"
    assert _m5_department("nonumber") == "" and _m5_department("A_b") == ""


def test_csv_category_column_becomes_the_group(tmp_path: Path) -> None:
    f = tmp_path / "h.csv"
    f.write_text(
        "product_id,date,price,category\na,2024-01-01,10,Sofas\na,2024-01-15,8,Sofas\nb,2024-01-03,3,\n"
    )
    by_key = {s.key: s for s in read_history(f, "csv").series}
    assert by_key["a"].group == "Sofas" and by_key["b"].group == ""


def test_a_department_that_marks_down_often_reads_higher_than_a_quiet_one() -> None:
    rates = GroupRates.fit(_panel())
    when = np.array([_panel()[0].dates[100]])
    deals, staples = rates.features("deals", when)[0], rates.features("staples", when)[0]
    unknown = rates.features("toys", when)[0]
    assert deals[:3].min() > 2 * staples[:3].max()
    assert deals[3] == staples[3] == 1.0 and unknown[3] == 0.0  # unknown group: the panel's rate
    assert staples[2] < unknown[2] < deals[2]


def test_group_rates_only_know_windows_that_had_ended_and_stop_at_the_cutoff() -> None:
    panel = _panel()
    dates = panel[0].dates
    cut = dates[60]
    later = [
        PriceSeries(s.key, s.dates, np.concatenate([s.prices[:61], s.prices[61:] * 0.5]), group=s.group)
        for s in panel
    ]
    a, b = GroupRates.fit(panel, cut), GroupRates.fit(later, cut)
    # later prices (a 50 % drop for everyone after the cutoff) cannot move any rate, at any date
    assert np.array_equal(a.features("staples", dates), b.features("staples", dates))
    # a window is counted once its 4th period has been seen: before that only the prior (2 %) is known
    early = GroupRates.fit(panel).features("deals", dates[:4])
    assert early[:, :3] == pytest.approx(np.full((4, 3), 0.2))
    # the quiet group's rate after the cutoff is its rate at the cutoff (a served model is that old)
    full = GroupRates.fit(later)
    assert full.features("staples", dates[100:101])[0, 1] > a.features("staples", dates[100:101])[0, 1]


def test_group_rates_survive_the_saved_config() -> None:
    rates = GroupRates.fit(_panel())
    again = GroupRates.from_dict(json.loads(json.dumps(rates.to_dict())))
    dates = _panel()[0].dates
    assert np.array_equal(rates.features("deals", dates), again.features("deals", dates))


def test_origin_features_carry_the_group_columns() -> None:
    panel = _panel()
    rates = GroupRates.fit(panel)
    x = origin_features(panel[0], np.arange(50, 60), rates)
    assert x.shape == (10, len(FEATURE_NAMES))
    col = FEATURE_NAMES.index("has_group")
    assert np.all(x[:, col] == 1.0)
    assert np.all(origin_features(panel[0], np.arange(50, 60))[:, col] == 0.0)  # no panel: no group


def test_neural_model_saves_its_group_rates(tmp_path: Path) -> None:
    panel = _panel()
    model = NeuralForecaster(TINY).fit(panel)
    loaded = load_forecaster(model.save(tmp_path / "m"))
    assert isinstance(loaded, NeuralForecaster)
    for s in (panel[0], panel[-1]):
        f1, f2 = model.predict(s, 4), loaded.predict(s, 4)
        assert f1.drop_probability == pytest.approx(f2.drop_probability)


def test_an_older_saved_forecaster_asks_to_be_retrained(tmp_path: Path) -> None:
    model = NeuralForecaster(TINY).fit(_panel())
    directory = model.save(tmp_path / "m")
    config = json.loads((directory / "config.json").read_text())
    config["features"] = config["features"][:-4]  # saved before the group columns existed
    (directory / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="retrain"):
        load_forecaster(directory)


@pytest.mark.parametrize("factory", [NaiveForecaster, lambda: NeuralForecaster(TINY)])
def test_below_and_above_are_probabilities_that_follow_the_items_moves(
    factory: Callable[[], Forecaster],
) -> None:
    panel = _panel()
    model = factory().fit(panel)
    moving = model.predict_origins(panel[0], np.arange(60, 100), 4, 4)
    still = model.predict_origins(panel[-1], np.arange(60, 100), 4, 4)
    for batch in (moving, still):
        assert batch.below is not None and batch.above is not None
        assert batch.below.shape == batch.above.shape == (40, 4)
        assert np.all((batch.below >= 0) & (batch.below <= 1) & (batch.above >= 0) & (batch.above <= 1))
    assert moving.below is not None and still.below is not None
    assert moving.below[:, 3].mean() > 2 * still.below[:, 3].mean()
