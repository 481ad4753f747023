"""A real app over the demo catalog (hashing encoder) with the session's NLU model, shared per module."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings
from tests.conftest import DEMO_CATALOG


@pytest.fixture(scope="module")
def chat_settings(tmp_path_factory: pytest.TempPathFactory, nlu_model_dir: Path) -> Settings:
    data = tmp_path_factory.mktemp("chat") / "var"
    (data / "models").mkdir(parents=True)
    shutil.copytree(nlu_model_dir, data / "models" / "nlu")
    # the module's many scripted turns come from one test client: the per-IP limit is not under test here
    return Settings(data_dir=data, encoder="hashing", rate_limit_per_ip="100000/minute")


@pytest.fixture(scope="module")
def chat_runtime(chat_settings: Settings) -> Iterator[Any]:
    from assistant.catalog import ingest_catalog
    from assistant.runtime import Runtime

    rt = Runtime(chat_settings)
    ingest_catalog(path=DEMO_CATALOG, db=rt.db, index=rt.index)
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def chat_app(chat_runtime: Any) -> Any:
    from api.app import create_app

    return create_app(runtime=chat_runtime)
