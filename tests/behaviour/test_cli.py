"""``shopassist simulate``, ``train abandonment`` and ``eval abandonment`` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.behaviour.conftest import make_data_dir, stub_model

runner = CliRunner()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, nlu_model_dir: Path) -> Path:
    return make_data_dir(tmp_path_factory.mktemp("cli"), nlu_model_dir)


@pytest.fixture
def env(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from assistant.config import get_settings

    monkeypatch.setenv("SHOPASSIST_DATA_DIR", str(data_dir))
    monkeypatch.setenv("SHOPASSIST_ENCODER", "hashing")
    monkeypatch.setenv("SHOPASSIST_IMAGE_EMBEDDER", "histogram")
    monkeypatch.setenv("SHOPASSIST_LOG_LEVEL", "warning")
    get_settings.cache_clear()
    return data_dir


def last_json(result: Any) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    row: dict[str, Any] = json.loads(lines[-1])
    return row


def test_train_says_when_the_log_is_too_short(env: Path) -> None:
    result = runner.invoke(app, ["train", "abandonment"])
    assert result.exit_code == 1
    assert "finished simulated sessions" in result.stderr and "shopassist simulate" in result.stderr


def test_eval_without_a_model_says_so(env: Path) -> None:
    result = runner.invoke(app, ["eval", "abandonment", "--sessions", "10"])
    assert result.exit_code == 1 and "train abandonment" in result.stderr


def test_simulate_then_eval_print_one_json_line(env: Path) -> None:
    sim = last_json(runner.invoke(app, ["simulate", "--sessions", "12", "--seed", "4"]))
    assert sim["sessions"] == 12 and sim["turns"] >= 12 and sim["errors"] == 0
    assert sum(sum(v.values()) for v in sim["personas"].values()) == 12

    stub_model(threshold=0.4).save(env / "models" / "abandonment")
    row = last_json(runner.invoke(app, ["eval", "abandonment", "--sessions", "12", "--seed", "5"]))
    assert list(row)[:5] == ["n_sessions", "auc", "f1", "baseline_auc", "baseline_f1"]
    assert 1 <= row["n_sessions"] <= 12 and row["model"] == "stub" and row["seed"] == 5
    assert row["precision"] >= 0 and row["recall"] == 1.0  # risk 0.5 ≥ 0.4: every turn flagged
    # the held-out sessions went to a temporary database, not the store's
    again = last_json(runner.invoke(app, ["simulate", "--sessions", "1", "--seed", "4"]))
    assert again["sessions"] == 1
    from assistant.behaviour import count_finished
    from assistant.db import Database

    db = Database(f"sqlite:///{env / 'shopassist.db'}", run_migrations=False)
    try:
        with db.session() as s:
            assert count_finished(s)["simulated"] == 13
    finally:
        db.dispose()
