"""``shopassist eval pricing`` / ``train pricing`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from api.cli import app
from pricing import NeuralForecaster, load_forecaster

LINE_KEYS = {
    "model",
    "chosen",
    "mae@4",
    "mae@12",
    "smape@4",
    "smape@12",
    "coverage@4",
    "coverage_closed@4",
    "drop_auc",
    "drop_brier",
}


def write_m5(tmp_path: Path, n_items: int = 12, weeks: int = 90) -> tuple[Path, Path]:
    cal = tmp_path / "m5_calendar.csv"
    rows = [
        "date,wm_yr_wk,weekday,wday,month,year,d,event_name_1,event_type_1,event_name_2,event_type_2,"
        "snap_CA,snap_TX,snap_WI"
    ]
    day = np.datetime64("2011-01-29")
    for w in range(weeks):
        wk = 11101 + w  # any increasing ids; the calendar gives the dates
        for d in range(7):
            rows.append(f"{day + 7 * w + d},{wk},x,1,1,2011,d_{7 * w + d},,,,,{int(d < 2)},0,0")
    cal.write_text("\n".join(rows) + "\n")
    rng = np.random.default_rng(0)
    lines = ["store_id,item_id,wm_yr_wk,sell_price"]
    for i in range(n_items):
        base, phase = rng.uniform(2, 20), int(rng.integers(10))
        for w in range(weeks):
            price = base * (0.75 if (w + phase) % 10 in (0, 1) else 1.0)
            lines.append(f"CA_1,ITEM_{i},{11101 + w},{price:.2f}")
    prices = tmp_path / "prices.csv"
    prices.write_text("\n".join(lines) + "\n")
    return prices, cal


def json_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_eval_prints_one_line_per_model_with_exactly_one_chosen(tmp_path: Path) -> None:
    prices, cal = write_m5(tmp_path)
    result = CliRunner().invoke(
        app,
        ["eval", "pricing", "--history", str(prices), "--format", "m5", "--calendar", str(cal), "--quiet"],
    )
    assert result.exit_code == 0, result.output
    lines = json_lines(result.stdout)
    assert [line["model"] for line in lines] == ["naive", "seasonal_naive", "ets", "mlp"]
    assert all(set(line) == LINE_KEYS for line in lines)
    assert sum(bool(line["chosen"]) for line in lines) == 1
    naive = lines[0]
    assert isinstance(naive["mae@4"], float) and isinstance(naive["coverage@4"], float)


def test_eval_on_a_file_that_is_not_a_price_history_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "orders.csv"
    bad.write_text("order_id,total\n1,2\n")
    result = CliRunner().invoke(app, ["eval", "pricing", "--history", str(bad), "--format", "csv"])
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("error: ") and "not a price history in csv format" in result.stderr
    missing = CliRunner().invoke(app, ["eval", "pricing", "--history", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "no such file" in missing.stderr
    fmt = CliRunner().invoke(app, ["eval", "pricing", "--history", str(bad), "--format", "xlsx"])
    assert fmt.exit_code == 1 and "unknown format" in fmt.stderr


def test_train_saves_a_model_the_service_can_load(tmp_path: Path, env_settings: object) -> None:
    f = tmp_path / "h.csv"
    rows = ["product_id,date,price"]
    day = np.datetime64("2022-01-03")
    for i in range(15):
        for w in range(80):
            price = 20 + i if (w + i) % 9 else 15 + i
            rows.append(f"p{i},{day + 7 * w},{price}")
    f.write_text("\n".join(rows) + "\n")
    out = tmp_path / "model"
    result = CliRunner().invoke(app, ["train", "pricing", "--history", str(f), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    report = json_lines(result.stdout)[-1]
    assert report["out"] == str(out) and report["series"] == 15
    model = load_forecaster(out)
    assert model.name == report["model"]
    if isinstance(model, NeuralForecaster):
        assert model.validation["chosen"] == "mlp"


def test_setup_retrains_a_saved_forecaster_that_no_longer_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A data dir from an older version keeps working: `make run` replaces the model it cannot read."""
    from types import SimpleNamespace

    import api.cli.alerts
    from api.cli.serve import _ensure_pricing
    from pricing import NeuralConfig

    from .conftest import periodic_panel

    panel = periodic_panel(n=8, weeks=70)
    monkeypatch.setattr(api.cli.alerts, "store_series", lambda db: panel)
    rt = SimpleNamespace(pricing_path=tmp_path / "pricing", db=None)
    NeuralForecaster(NeuralConfig(hidden=8, epochs=1, ensemble=1)).fit(panel).save(rt.pricing_path)
    config = json.loads((rt.pricing_path / "config.json").read_text())
    config["features"] = config["features"][:-4]  # as saved before the department columns
    (rt.pricing_path / "config.json").write_text(json.dumps(config))

    _ensure_pricing(rt)
    assert "training a new one" in capsys.readouterr().out
    model = load_forecaster(rt.pricing_path)  # loads now
    written = (rt.pricing_path / "config.json").stat().st_mtime_ns

    _ensure_pricing(rt)  # a loadable model is kept
    assert "training" not in capsys.readouterr().out
    assert (rt.pricing_path / "config.json").stat().st_mtime_ns == written
    assert model.name in {"mlp", "naive"}
