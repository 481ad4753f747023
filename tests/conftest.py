"""Shared fixtures: isolated settings, a tiny deterministic encoder, a runtime on a temp data dir."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import Settings, get_settings

REPO = Path(__file__).resolve().parents[1]
#: a trained NLU model to reuse instead of training one for the session (developer speed-up only)
PRETRAINED_NLU = os.environ.get("SHOPASSIST_TEST_NLU_MODEL")
DEMO_CATALOG = REPO / "data" / "demo" / "catalog.jsonl"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's SHOPASSIST_* variables; settings are re-read per test."""
    for key in list(os.environ):
        if key.startswith("SHOPASSIST_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a fresh data dir with the hashing encoder (no model load)."""
    return Settings(data_dir=tmp_path / "var", encoder="hashing", image_embedder="histogram")


@pytest.fixture
def env_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Like ``settings`` but through the environment, for CLI and server tests."""
    monkeypatch.setenv("SHOPASSIST_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SHOPASSIST_ENCODER", "hashing")
    monkeypatch.setenv("SHOPASSIST_IMAGE_EMBEDDER", "histogram")
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
def runtime(settings: Settings) -> Iterator[object]:
    from assistant.runtime import Runtime

    rt = Runtime(settings)
    yield rt
    rt.close()


@pytest.fixture(scope="session")
def demo_rows() -> list[dict[str, object]]:
    """The bundled demo catalog as dicts (2,010 products)."""
    with DEMO_CATALOG.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture
def small_catalog(tmp_path: Path, demo_rows: list[dict[str, object]]) -> Path:
    """A 300-product JSONL slice of the demo catalog (10 per type), images resolved to the repo."""
    per_type: dict[str, int] = {}
    out = tmp_path / "small.jsonl"
    with out.open("w", encoding="utf-8") as fh:
        for row in demo_rows:
            t = str(row["product_type"])
            if per_type.get(t, 0) >= 10:
                continue
            per_type[t] = per_type.get(t, 0) + 1
            row = dict(row)
            row["image_path"] = str(DEMO_CATALOG.parent / str(row["image_path"]))
            fh.write(json.dumps(row) + "\n")
    return out


@pytest.fixture(scope="session")
def nlu_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The NLU model `make run` trains (default settings, generated data only), once per test session."""
    if PRETRAINED_NLU and (Path(PRETRAINED_NLU) / "config.json").is_file():
        return Path(PRETRAINED_NLU)
    from assistant.nlu import train_nlu, vocabulary_from_catalog_file

    out = tmp_path_factory.mktemp("nlu-session") / "nlu"
    train_nlu(
        vocabulary=vocabulary_from_catalog_file(DEMO_CATALOG),
        out_dir=out,
        seed=0,
        progress=False,
    )
    return out
