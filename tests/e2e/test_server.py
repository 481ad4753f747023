"""A real `shopassist serve` (uvicorn) process over a catalog ingested by `shopassist setup`."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e._server import REPO, cli, prepare, server_env, start


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, nlu_model_dir: Path) -> Path:
    data = tmp_path_factory.mktemp("e2e") / "var"
    setup = prepare(data, nlu_model_dir)
    assert setup.returncode == 0, setup.stderr
    assert "demo catalog: 2010 products" in setup.stdout
    assert "nlu model:" in setup.stdout
    return data


@pytest.fixture(scope="module")
def server(prepared: Path) -> Iterator[str]:
    srv = start(prepared)
    yield srv.base
    srv.stop()


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


def test_a_chat_turn_over_http_finds_products(server: str) -> None:
    r = httpx.post(
        f"{server}/v1/chat", json={"session_id": None, "message": "show me black watches under $200"}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["filters"]["product_type"] == "watch"
    assert body["products"]
    assert all(p["price"] <= 200 for p in body["products"])
    unknown = httpx.post(f"{server}/v1/chat", json={"session_id": "x" * 43, "message": "hi"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "session_not_found"


def _channels(data: Path) -> dict[str, tuple[int, int]]:
    """(sessions, turns) per channel in the data dir's database."""
    with sqlite3.connect(data / "shopassist.db") as db:
        sessions = dict(db.execute("SELECT channel, count(*) FROM sessions GROUP BY channel").fetchall())
        turns = dict(db.execute("SELECT channel, count(*) FROM turns GROUP BY channel").fetchall())
    return {c: (sessions.get(c, 0), turns.get(c, 0)) for c in set(sessions) | set(turns)}


def test_bench_load_drives_scripted_shoppers_against_its_own_server(prepared: Path) -> None:
    before = _channels(prepared)
    out = subprocess.run(
        [*cli(), "bench", "load", "--concurrency", "2", "--duration", "5", "--seed", "1", "--saturation"],
        cwd=REPO,
        env=server_env(prepared),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(result) >= {
        "concurrency",
        "turns",
        "errors",
        "throughput",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "rss_mb",
    }
    assert result["concurrency"] == 2 and result["turns"] >= 2 and result["errors"] == 0
    assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"] and result["rss_mb"] > 50
    # per route template; the top-level figures are the chat turns'
    endpoints = result["endpoints"]
    assert list(endpoints)[0] == "POST /v1/chat" and "POST /v1/events" in endpoints
    chat = endpoints["POST /v1/chat"]
    assert chat["n"] == result["turns"]
    assert (chat["p50_ms"], chat["p95_ms"], chat["p99_ms"]) == (
        result["p50_ms"],
        result["p95_ms"],
        result["p99_ms"],
    )
    for route, e in endpoints.items():
        assert set(e) == {"n", "p50_ms", "p95_ms", "p99_ms", "errors"}, route
        assert e["n"] > 0 and e["errors"] == 0 and 0 < e["p50_ms"] <= e["p95_ms"] <= e["p99_ms"], route
    assert result["requests"] == sum(e["n"] for e in endpoints.values())
    # the per-stage breakdown of those turns, from the timings the server stored with them
    stages = result["stages"]
    assert stages["n"] == result["turns"]
    assert {"session load", "NLU", "policy", "persistence", "HTTP, queueing, commit"} <= set(stages["stages"])
    assert stages["dominant"] in stages["stages"]
    # the load test's shoppers are labelled simulated afterwards: they never count as real shoppers
    # in analytics, the at-risk list or abandonment training
    after = _channels(prepared)
    assert result["simulated_sessions"] >= result["conversations"] >= 1
    assert after.get("web", (0, 0)) == before.get("web", (0, 0))
    sim_before, sim_after = before.get("simulated", (0, 0)), after["simulated"]
    assert sim_after[0] - sim_before[0] == result["simulated_sessions"]
    assert sim_after[1] - sim_before[1] >= result["turns"]
    assert [x["concurrency"] for x in result["saturation"]] == [1, 2]
    within = [x["throughput"] for x in result["saturation"] if x["p95_ms"] <= 150]
    assert result["max_turns_per_s_within_budget"] == max(within, default=0.0)
