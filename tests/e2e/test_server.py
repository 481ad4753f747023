"""A real `shopassist serve` (uvicorn) process over a catalog ingested by `shopassist setup`."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str) -> list[str]:
    exe = shutil.which("shopassist", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "api"]


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    data = tmp_path_factory.mktemp("e2e") / "var"
    env = {
        **os.environ,
        "SHOPASSIST_DATA_DIR": str(data),
        "SHOPASSIST_ENCODER": "hashing",
        "HF_HUB_OFFLINE": "1",
    }
    setup = subprocess.run([*_cli(), "setup"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert setup.returncode == 0, setup.stderr
    assert "demo catalog: 2010 products" in setup.stdout
    port = _free_port()
    proc = subprocess.Popen(
        [*_cli(), "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("server did not become healthy: " + (proc.stderr.read().decode() if proc.stderr else ""))
    yield base
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    if proc.stderr:
        proc.stderr.close()


def test_health_reports_the_demo_catalog(server: str) -> None:
    body = httpx.get(f"{server}/healthz").json()
    assert body["status"] == "ok"
    assert body["products"] == 2010
    assert body["catalog_version"]


def test_search_watch_under_200_returns_matching_watches(server: str) -> None:
    r = httpx.get(f"{server}/v1/products/search", params={"q": "watch", "price_max": 200, "limit": 20})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] > 0
    assert body["filters"] == {"price_max": 200.0}
    assert body["products"], "a page with matches must not be empty"
    for p in body["products"]:
        assert p["price"] <= 200
        assert p["why"]
    assert sum(p["product_type"] == "watch" for p in body["products"]) >= len(body["products"]) // 2


def test_product_details_and_image(server: str) -> None:
    first = httpx.get(f"{server}/v1/products/search", params={"q": "backpack", "limit": 1}).json()[
        "products"
    ][0]
    detail = httpx.get(f"{server}/v1/products/{first['id']}").json()
    assert detail["title"] == first["title"]
    img = httpx.get(f"{server}{detail['image_url']}")
    assert img.status_code == 200
    assert img.headers["content-type"] == "image/jpeg"
    assert img.content[:2] == b"\xff\xd8"


def test_bad_input_gets_the_error_envelope(server: str) -> None:
    r = httpx.get(f"{server}/v1/products/search", params={"price_max": "cheap"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_request"
    assert "price_max" in r.json()["error"]["message"]
    r = httpx.get(f"{server}/v1/products/NOPE-123")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "product_not_found", "message": "no product with id 'NOPE-123'"}}
