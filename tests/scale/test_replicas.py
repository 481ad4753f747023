"""Two real API processes behind one PostgreSQL database, one Chroma server and one Redis serve one store.

Replica A and replica B (``shopassist serve``) each have a data dir of their own (their BM25 index and
snapshot, caches) and share what a scaled-out deployment shares: the database, the Chroma collections,
the Redis that counts rate limits, the uploads folder and the trained models.  The tests move one
shopper between them turn by turn, race them on one session, count one session's turns across both,
hand a photo from one to the other and re-ingest the catalog through one of them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.config import Settings
from tests.conftest import DEMO_CATALOG
from tests.dialogue import test_conversations as suite
from tests.e2e._server import REPO, Server, cli, server_env, start
from tests.scale.conftest import CHROMA_URL, REDIS_URL

#: chat turns per session per minute: more than the longest scripted conversation (9 turns)
PER_SESSION = 12
N_IMAGES = 40


@dataclass
class Store:
    a: httpx.Client
    b: httpx.Client
    a_data: Path
    b_data: Path
    env: dict[str, str]
    runtime: Any  # an in-process runtime on the same database and Chroma (staff replies, repricing)


class Alternating:
    """An HTTP client that sends each POST to the next replica in turn (what a load balancer may do)."""

    def __init__(self, *clients: httpx.Client) -> None:
        self.clients = clients
        self.n = 0

    def post(self, path: str, *, json: Any) -> httpx.Response:
        client = self.clients[self.n % len(self.clients)]
        self.n += 1
        return client.post(path, json=json)


@pytest.fixture(scope="module")
def store(
    tmp_path_factory: pytest.TempPathFactory, nlu_model_dir: Path, pg_url: str, chroma_collection: str
) -> Iterator[Store]:
    from assistant.catalog import ingest_catalog
    from assistant.runtime import Runtime

    root = tmp_path_factory.mktemp("replicas")
    shared = root / "shared"  # the volume every replica mounts: uploads and trained models
    (shared / "uploads").mkdir(parents=True)
    shutil.copytree(nlu_model_dir, shared / "models" / "nlu")
    env = {
        "SHOPASSIST_DATABASE_URL": pg_url,
        "SHOPASSIST_CHROMA_URL": CHROMA_URL,
        "SHOPASSIST_CHROMA_COLLECTION": chroma_collection,
        "SHOPASSIST_RATE_LIMIT_STORAGE_URI": REDIS_URL,
        "SHOPASSIST_RATE_LIMIT_PER_SESSION": f"{PER_SESSION}/minute",
        "SHOPASSIST_UPLOADS_DIR": str(shared / "uploads"),
        "SHOPASSIST_ALERT_SWEEP_INTERVAL_S": "0",
        "SHOPASSIST_LOG_LEVEL": "warning",  # the server's stderr is a pipe nobody reads until it exits
    }
    seed = Settings(
        data_dir=root / "seed",
        encoder="hashing",
        image_embedder="histogram",
        database_url=pg_url,
        chroma_url=CHROMA_URL,
        chroma_collection=chroma_collection,
        uploads_dir=shared / "uploads",
    )
    rt = Runtime(seed)
    ingest_catalog(path=DEMO_CATALOG, db=rt.db, index=rt.index)
    photographed = [p for p in rt.index.products() if p.image_path][:N_IMAGES]
    assert rt.images.embed_catalog(photographed).n_embedded == N_IMAGES

    datas = []
    for name in ("a", "b"):
        data = root / name
        data.mkdir()
        (data / "models").symlink_to(shared / "models", target_is_directory=True)
        datas.append(data)
    servers: list[Server] = []
    try:
        with ThreadPoolExecutor(2) as pool:  # both start at once, as replicas of a deployment do
            starting = [pool.submit(start, d, env=env, timeout_s=240) for d in datas]
            for f in starting:
                try:
                    servers.append(f.result())
                except Exception as exc:
                    pytest.fail(f"a replica did not start: {exc}")
        with (
            httpx.Client(base_url=servers[0].base, timeout=60) as a,
            httpx.Client(base_url=servers[1].base, timeout=60) as b,
        ):
            yield Store(a, b, datas[0], datas[1], env, rt)
    finally:
        for srv in servers:
            srv.stop()
        rt.close()


def chat(client: httpx.Client, sid: str | None, message: str, **extra: Any) -> dict[str, Any]:
    r = client.post("/v1/chat", json={"session_id": sid, "message": message, **extra})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_both_replicas_serve_one_catalog(store: Store) -> None:
    health = [c.get("/healthz").json() for c in (store.a, store.b)]
    assert [h["products"] for h in health] == [2010, 2010]
    assert health[0]["catalog_version"] == health[1]["catalog_version"] == store.runtime.index.version


def test_one_shopper_moves_between_replicas_turn_by_turn(store: Store) -> None:
    a, b = store.a, store.b
    first = chat(a, None, "show me black watches under $200")
    sid = first["session_id"]
    assert len(first["products"]) >= 2
    second = first["products"][1]["id"]
    detail = chat(b, sid, "tell me about the second one")
    assert detail["action"] == "show_details"
    assert detail["products"][0]["id"] == second
    added = chat(a, sid, "add it to my cart")
    assert added["action"] == "cart_updated"
    assert [(i["product_id"], i["quantity"]) for i in added["cart"]["items"]] == [(second, 1)]
    assert chat(b, sid, "checkout")["action"] == "collect_checkout_details"
    assert chat(a, sid, "jane.doe@example.com")["action"] == "collect_checkout_details"
    confirm = chat(b, sid, "Jane Doe, 12 Main Street, Springfield, IL 62704, US")
    assert confirm["action"] == "confirm_order"
    placed = chat(a, sid, "yes please")
    assert placed["action"] == "order_placed"
    assert placed["cart"]["items"] == []
    status = chat(b, sid, "what's the status of my order")
    assert status["order"]["id"] == placed["order"]["id"]
    for client in (a, b):  # either replica tells the whole story
        history = client.get(f"/v1/sessions/{sid}").json()
        assert [t["message"] for t in history["turns"]][:2] == [
            "show me black watches under $200",
            "tell me about the second one",
        ]
        assert len(history["turns"]) == 8


@pytest.mark.parametrize(
    ("script", "conv"), suite.CONVERSATIONS, ids=[f"{s}:{c['name']}" for s, c in suite.CONVERSATIONS]
)
def test_conversation_alternating_replicas(script: str, conv: dict[str, Any], store: Store) -> None:
    """Every scripted conversation again, each turn on the other replica than the one before."""
    suite.test_conversation(script, conv, Alternating(store.a, store.b), store.runtime)  # type: ignore[arg-type]


def _race(calls: list[tuple[httpx.Client, str, dict[str, Any]]]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(calls))
    out: list[httpx.Response | None] = [None] * len(calls)

    def go(i: int) -> None:
        client, path, body = calls[i]
        barrier.wait()
        out[i] = client.post(path, json=body)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(r is not None for r in out)
    return [r for r in out if r is not None]


def test_concurrent_writes_to_one_session_on_both_replicas_are_serialised(store: Store) -> None:
    a, b = store.a, store.b
    found = chat(a, None, "show me backpacks")
    sid, pid = found["session_id"], found["products"][0]["id"]
    # the cart API, four requests on each replica at once: no add is lost
    adds = _race(
        [(c, f"/v1/sessions/{sid}/cart/items", {"product_id": pid, "quantity": 1}) for c in (a, b) * 4]
    )
    assert [r.status_code for r in adds] == [200] * 8, [r.text for r in adds]
    cart = a.get(f"/v1/sessions/{sid}/cart").json()
    assert [(i["product_id"], i["quantity"]) for i in cart["items"]] == [(pid, 8)]
    # chat turns at once on both replicas: each one sees the cart and state the one before it left
    turns = _race(
        [(c, "/v1/chat", {"session_id": sid, "message": "add the first one to my cart"}) for c in (a, b) * 2]
    )
    assert [r.status_code for r in turns] == [200] * 4, [r.text for r in turns]
    assert [r.json()["action"] for r in turns] == ["cart_updated"] * 4, [r.json()["reply"] for r in turns]
    seen = sorted(i["quantity"] for r in turns for i in r.json()["cart"]["items"] if i["product_id"] == pid)
    assert seen == [9, 10, 11, 12]  # serialised: every turn added to the cart the one before left
    history = b.get(f"/v1/sessions/{sid}").json()
    assert len(history["turns"]) == 5
    assert [(i["product_id"], i["quantity"]) for i in history["cart"]["items"]] == [(pid, 12)]


def test_the_per_session_rate_limit_counts_turns_on_both_replicas(store: Store) -> None:
    sid = chat(store.a, None, "hello")["session_id"]  # a turn without a session id starts one; not counted
    for i in range(PER_SESSION):
        chat((store.a, store.b)[i % 2], sid, "hello")
    for client in (store.a, store.b):
        r = client.post("/v1/chat", json={"session_id": sid, "message": "hello"})
        assert r.status_code == 429, r.text
        assert r.json()["error"]["code"] == "rate_limited"
        assert int(r.headers["Retry-After"]) >= 1
    # another session on the same replicas is not affected
    other = chat(store.b, None, "hello")["session_id"]
    chat(store.a, other, "hello")


def test_a_photo_uploaded_on_one_replica_is_searched_on_the_other(store: Store) -> None:
    product = next(p for p in store.runtime.index.products() if p.id in store.runtime.images)
    photo = Path(str(product.image_path)).read_bytes()
    r = store.a.post("/v1/images", files={"file": ("photo.jpg", photo, "image/jpeg")})
    assert r.status_code == 201, r.text
    image_id = r.json()["image_id"]
    assert store.b.get(f"/v1/images/{image_id}").status_code == 200
    found = chat(store.b, None, "find me something like this", image_id=image_id)
    assert found["products"] and found["products"][0]["id"] == product.id, found["reply"]
    # the next turn, on the other replica, still searches by that photo (state and upload are shared)
    more = chat(store.a, found["session_id"], "show me more")
    assert more["products"] and product.id not in {p["id"] for p in more["products"]}


def _search(client: httpx.Client, q: str) -> list[dict[str, Any]]:
    r = client.get("/v1/products/search", params={"q": q, "limit": 5})
    assert r.status_code == 200, r.text
    products: list[dict[str, Any]] = r.json()["products"]
    return products


def test_a_catalog_ingest_through_one_replica_reaches_the_other(store: Store, tmp_path: Path) -> None:
    row = json.loads(DEMO_CATALOG.read_text(encoding="utf-8").splitlines()[7])
    row["title"] = f"Quizzaciously Grand {row['title']}"
    row["price"] = round(float(row["price"]) + 1.25, 2)
    row.pop("image_path", None)
    feed = tmp_path / "update.jsonl"
    feed.write_text(json.dumps(row) + "\n", encoding="utf-8")
    assert _search(store.b, "quizzaciously") == []
    # the store's ingest job runs with replica A's settings (its data dir, the shared database and Chroma)
    done = subprocess.run(
        [*cli(), "ingest", str(feed), "--no-images", "--json"],
        cwd=REPO,
        env={**server_env(store.a_data), **store.env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    deadline = time.monotonic() + 30
    seen: dict[str, list[dict[str, Any]]] = {}
    while time.monotonic() < deadline:  # each replica checks the catalog version every 2 s
        seen = {name: _search(c, "quizzaciously") for name, c in (("a", store.a), ("b", store.b))}
        if all(seen.values()):
            break
        time.sleep(0.5)
    for name, hits in seen.items():
        assert hits and hits[0]["id"] == str(row["id"]), (name, hits)
        assert hits[0]["price"] == pytest.approx(row["price"])
    versions = {c.get("/healthz").json()["catalog_version"] for c in (store.a, store.b)}
    assert len(versions) == 1
    for data in (store.a_data, store.b_data):  # each replica rebuilt (or loaded) its own BM25 snapshot
        manifest = json.loads((data / "index" / "snapshot" / "manifest.json").read_text())
        assert manifest["version"] in versions
        assert (data / "index" / "snapshot" / "bm25").exists()
