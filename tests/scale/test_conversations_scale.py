"""The scripted conversation suite (tests/dialogue) again, on PostgreSQL + a Chroma server + Redis.

The scripts, the contract checks and the per-turn expectations are those of
``tests/dialogue/test_conversations.py``, called here with a runtime on the scale-out engines
(a fresh PostgreSQL database migrated by Alembic, a collection of its own on the Chroma server,
rate-limit counts in Redis) instead of SQLite + embedded Chroma.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.config import Settings
from tests.conftest import DEMO_CATALOG
from tests.dialogue import test_conversations as suite
from tests.scale.conftest import CHROMA_URL, REDIS_URL


@pytest.fixture(scope="module")
def scale_runtime(
    tmp_path_factory: pytest.TempPathFactory, nlu_model_dir: Path, pg_url: str, chroma_collection: str
) -> Iterator[Any]:
    from assistant.catalog import ingest_catalog
    from assistant.runtime import Runtime

    data = tmp_path_factory.mktemp("scale-chat") / "var"
    (data / "models").mkdir(parents=True)
    shutil.copytree(nlu_model_dir, data / "models" / "nlu")
    settings = Settings(
        data_dir=data,
        encoder="hashing",
        database_url=pg_url,
        chroma_url=CHROMA_URL,
        chroma_collection=chroma_collection,
        rate_limit_storage_uri=REDIS_URL,
        rate_limit_per_ip="100000/minute",
    )
    rt = Runtime(settings)
    ingest_catalog(path=DEMO_CATALOG, db=rt.db, index=rt.index)
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def scale_client(scale_runtime: Any) -> Iterator[TestClient]:
    from api.app import create_app

    with TestClient(create_app(runtime=scale_runtime)) as c:
        yield c


def test_the_runtime_runs_on_the_scale_out_engines(scale_runtime: Any) -> None:
    import chromadb
    from limits.storage import RedisStorage

    assert scale_runtime.db.engine.dialect.name == "postgresql"
    assert isinstance(scale_runtime.index._client, chromadb.api.client.Client)
    assert type(scale_runtime.index._client._server).__name__ == "FastAPI"  # HTTP, not embedded
    assert isinstance(scale_runtime.rate_limits._limiter.storage, RedisStorage)
    assert scale_runtime.index.n_active == 2010


@pytest.mark.parametrize(
    ("script", "conv"), suite.CONVERSATIONS, ids=[f"{s}:{c['name']}" for s, c in suite.CONVERSATIONS]
)
def test_conversation(
    script: str, conv: dict[str, Any], scale_client: TestClient, scale_runtime: Any
) -> None:
    suite.test_conversation(script, conv, scale_client, scale_runtime)
