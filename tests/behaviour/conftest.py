"""A runtime over the demo catalog (hashing encoder, the session's NLU model) and simulated logs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings
from tests.conftest import DEMO_CATALOG

#: simulated sessions the quick tests use; the GRU-against-baseline test learns from more of the same
#: seed and is measured on held-out sessions of another seed
SMALL_SESSIONS = 300


def make_data_dir(root: Path, nlu_model_dir: Path) -> Path:
    """A data dir whose database and index hold the demo catalog (hashing encoder)."""
    from assistant.catalog import ingest_catalog
    from assistant.runtime import Runtime

    data = root / "var"
    (data / "models").mkdir(parents=True)
    (data / "models" / "nlu").symlink_to(nlu_model_dir.resolve())
    rt = Runtime(shop_settings(data))
    try:
        ingest_catalog(path=DEMO_CATALOG, db=rt.db, index=rt.index)
    finally:
        rt.close()
    return data


def shop_settings(data: Path) -> Settings:
    return Settings(data_dir=data, encoder="hashing", image_embedder="histogram", log_level="warning")


def stub_model(*, threshold: float, hidden: int = 4) -> Any:
    """An abandonment model with zero weights: every turn's risk is exactly 0.5."""
    from assistant.behaviour import AbandonmentModel

    return AbandonmentModel(hidden=hidden, threshold=threshold, version="stub")


@pytest.fixture(scope="session")
def sim_runtime(tmp_path_factory: pytest.TempPathFactory, nlu_model_dir: Path) -> Iterator[Any]:
    from assistant.runtime import Runtime

    rt = Runtime(shop_settings(make_data_dir(tmp_path_factory.mktemp("behaviour"), nlu_model_dir)))
    yield rt
    rt.close()


@pytest.fixture(scope="session")
def small_simulated(sim_runtime: Any) -> dict[str, Any]:
    """``SMALL_SESSIONS`` sessions (seed 11), simulated through the real API."""
    from api.cli.behaviour import in_process_connect
    from assistant.behaviour import load_sessions
    from assistant.simulator import simulate

    report = simulate(sim_runtime.db, in_process_connect(sim_runtime), sessions=SMALL_SESSIONS, seed=11)
    with sim_runtime.db.session() as s:
        return {"report": report, "logs": load_sessions(s, [x.session_id for x in report.sessions])}
