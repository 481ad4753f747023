"""A real runtime over the demo catalog (hashing encoder, 60 product photos by histogram) whose
``SHOPASSIST_LLM`` names the scripted fake model, plus one product whose text carries an injection."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings
from tests.conftest import DEMO_CATALOG
from tests.llm.support import INJECTED_PRODUCT


@pytest.fixture(scope="package")
def llm_settings(tmp_path_factory: pytest.TempPathFactory, nlu_model_dir: Path) -> Settings:
    data = tmp_path_factory.mktemp("llm") / "var"
    (data / "models").mkdir(parents=True)
    shutil.copytree(nlu_model_dir, data / "models" / "nlu")
    return Settings(
        data_dir=data,
        encoder="hashing",
        image_embedder="histogram",
        alert_sweep_interval_s=0,
        rate_limit_per_ip="100000/minute",
        llm="tests.llm.fakes:scripted_model",
        llm_timeout_s=20,
    )


@pytest.fixture(scope="package")
def rt(llm_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from assistant.catalog import ingest_catalog
    from assistant.runtime import Runtime

    runtime = Runtime(llm_settings)
    ingest_catalog(path=DEMO_CATALOG, db=runtime.db, index=runtime.index)
    extra = tmp_path_factory.mktemp("llm-extra") / "extra.jsonl"
    extra.write_text(json.dumps(INJECTED_PRODUCT) + "\n", encoding="utf-8")
    ingest_catalog(path=extra, db=runtime.db, index=runtime.index)
    runtime.images.embed_catalog([p for p in runtime.index.products() if p.image_path][:60])
    yield runtime
    runtime.close()


@pytest.fixture
def session_id(rt: Any) -> str:
    """A fresh shopper session (each test its own cart)."""
    from assistant import commerce

    with rt.db.session() as s:
        sid: str = commerce.create_session(s, channel="web").id
    return sid
