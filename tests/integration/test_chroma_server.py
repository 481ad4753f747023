"""SHOPASSIST_CHROMA_URL: ingest and search through a real `chroma run` server, shared by replicas."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.catalog import ingest_catalog
from assistant.config import Settings
from assistant.runtime import Runtime
from retrieval import SearchFilters
from tests.e2e._server import free_port


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("the chroma CLI is not installed beside this Python")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma server did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.integration
def test_ingest_and_search_through_a_chroma_server(
    chroma_url: str, tmp_path: Path, small_catalog: Path
) -> None:
    writer = Runtime(Settings(data_dir=tmp_path / "a", encoder="hashing", chroma_url=chroma_url))
    report = ingest_catalog(path=small_catalog, db=writer.db, index=writer.index)
    assert report.n_new == 300
    hits = writer.index.search("black watch", SearchFilters(product_type="watch", price_max=400)).hits
    assert hits and all(h.product.product_type == "watch" and h.product.price <= 400 for h in hits)

    # a second process (its own data dir, no snapshot) mirrors the catalog from the server
    replica = Runtime(Settings(data_dir=tmp_path / "b", encoder="hashing", chroma_url=chroma_url))
    assert replica.index.n_active == 300
    assert replica.index.version == writer.index.version
    again = replica.index.search("black watch", SearchFilters(product_type="watch", price_max=400)).hits
    assert [h.product.id for h in again] == [h.product.id for h in hits]

    # a price change committed by the writer reaches the replica
    first = hits[0].product
    writer.index.update_products([first.model_copy(update={"price": 999.0})])
    writer.index.commit()
    assert replica.index.reload_if_changed(min_interval_s=0)
    assert replica.index.get(first.id).price == 999.0
    writer.close()
    replica.close()
