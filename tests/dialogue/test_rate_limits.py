"""Rate limits: turns per session and requests per client IP answer 429 with ``Retry-After``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.config import Settings


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory, nlu_model_dir: Path) -> Iterator[Any]:
    from api.app import create_app
    from assistant.catalog import ingest_catalog
    from assistant.runtime import Runtime
    from tests.conftest import DEMO_CATALOG

    data = tmp_path_factory.mktemp("limits") / "var"
    (data / "models").mkdir(parents=True)
    shutil.copytree(nlu_model_dir, data / "models" / "nlu")
    settings = Settings(
        data_dir=data,
        encoder="hashing",
        image_embedder="histogram",
        alert_sweep_interval_s=0,
        rate_limit_per_session="3/minute",
        rate_limit_per_ip="12/minute",
    )
    rt = Runtime(settings)
    ingest_catalog(path=DEMO_CATALOG, db=rt.db, index=rt.index)
    with TestClient(create_app(runtime=rt)) as client:
        yield client
    rt.close()


def test_a_session_past_its_turn_limit_gets_429_with_retry_after(limited: TestClient) -> None:
    first = limited.post("/v1/chat", json={"session_id": None, "message": "show me watches"})
    sid = first.json()["session_id"]
    codes = [
        limited.post("/v1/chat", json={"session_id": sid, "message": "under $50"}).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 200]
    refused = limited.post("/v1/chat", json={"session_id": sid, "message": "in black"})
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    voice = limited.post(
        "/v1/voice", json={"session_id": sid, "transcripts": [{"text": "hi", "confidence": 1}]}
    )
    assert voice.status_code == 429
    other = limited.post("/v1/chat", json={"session_id": None, "message": "show me backpacks"})
    assert other.status_code == 200  # another conversation is not held back


def test_a_client_past_its_request_limit_gets_429_and_health_stays_open(limited: TestClient) -> None:
    statuses = [limited.get("/v1/products/search", params={"q": "watch"}).status_code for _ in range(13)]
    assert statuses[-1] == 429 and 200 in statuses
    r = limited.get("/v1/products/search", params={"q": "watch"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert set(r.json()) == {"error"}
    assert limited.get("/healthz").status_code == 200
