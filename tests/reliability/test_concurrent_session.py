"""Several requests on one session at once (a shopper with two tabs, a widget retrying, a fast
double click), against a real server: no cart update is lost, and the conversation's turns are all
there, once each, in the order they were answered."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from tests.reliability.conftest import LiveServer, catalog_ids, new_session

N = 8


Call = tuple[str, dict[str, Any]]  # (path, JSON body) of a POST


def _together(base: str, calls: list[Call]) -> list[httpx.Response]:
    """POST each call from a thread of its own, all released at the same moment."""
    barrier = threading.Barrier(len(calls))
    out: list[Any] = [None] * len(calls)

    def worker(i: int) -> None:
        with httpx.Client(base_url=base, timeout=90) as c:
            c.get("/healthz")
            barrier.wait(timeout=60)
            try:
                out[i] = c.post(calls[i][0], json=calls[i][1])
            except BaseException as exc:
                out[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    bad = [r for r in out if not isinstance(r, httpx.Response) or r.status_code != 200]
    assert not bad, [(getattr(r, "status_code", r), getattr(r, "text", "")[:300]) for r in bad]
    return list(out)


def _cart(base: str, sid: str) -> dict[str, int]:
    items = httpx.get(f"{base}/v1/sessions/{sid}/cart", timeout=30).json()["items"]
    return {i["product_id"]: i["quantity"] for i in items}


def test_concurrent_adds_of_different_products_all_land(live_server: LiveServer) -> None:
    sid = new_session(live_server.base)
    pids = catalog_ids(N)
    _together(
        live_server.base,
        [(f"/v1/sessions/{sid}/cart/items", {"product_id": p}) for p in pids],
    )
    assert _cart(live_server.base, sid) == dict.fromkeys(pids, 1)


def test_concurrent_adds_of_one_product_add_up(live_server: LiveServer) -> None:
    sid = new_session(live_server.base)
    pid = catalog_ids(1)[0]
    responses = _together(
        live_server.base,
        [(f"/v1/sessions/{sid}/cart/items", {"product_id": pid, "quantity": q}) for q in range(1, N + 1)],
    )
    assert _cart(live_server.base, sid) == {pid: N * (N + 1) // 2}
    # each answer is the cart right after its own add: all different, the last one complete
    seen = sorted(r.json()["items"][0]["quantity"] for r in responses)
    assert len(set(seen)) == N and seen[-1] == N * (N + 1) // 2


def _history(base: str, sid: str) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = httpx.get(f"{base}/v1/sessions/{sid}", timeout=30).json()["turns"]
    return turns


def test_concurrent_chat_turns_are_all_kept_once_and_in_order(live_server: LiveServer) -> None:
    base = live_server.base
    first = httpx.post(
        f"{base}/v1/chat", json={"session_id": None, "message": "show me black watches"}, timeout=60
    ).json()
    sid, shown = first["session_id"], [p["id"] for p in first["products"]]
    assert len(shown) >= 2, first["reply"]
    other = catalog_ids(1)[0]
    messages = ["add the first one to my cart" if i % 2 == 0 else "show me black watches" for i in range(N)]
    calls: list[Call] = [("/v1/chat", {"session_id": sid, "message": m}) for m in messages]
    # the same moment, the other tab adds a product through the cart API
    calls += [(f"/v1/sessions/{sid}/cart/items", {"product_id": other}) for _ in range(N // 2)]
    responses = _together(base, calls)

    turns = _history(base, sid)
    assert len(turns) == 1 + N, [t["message"] for t in turns]
    ids = [t["turn_id"] for t in turns]
    assert len(set(ids)) == len(ids), "a turn is listed twice"
    answered = {r.json()["turn_id"] for r in responses[:N]}
    assert set(ids[1:]) == answered, "every answered turn is stored, and nothing else"
    assert sorted(t["message"] for t in turns[1:]) == sorted(messages)
    stamps = [t["created_at"] for t in turns]
    assert stamps == sorted(stamps), "turns are listed in the order they were answered"
    for t in turns:
        assert t["response"]["reply"], t  # no turn without its reply

    # every "add the first one" landed, as did the cart API's adds
    adds = sum(1 for r in responses[:N] if r.json()["action"] == "cart_updated")
    assert adds == N // 2, [(r.json()["action"], r.json()["reply"][:80]) for r in responses[:N]]
    assert other != shown[0]  # a backpack, not a watch
    assert _cart(base, sid) == {shown[0]: adds, other: N // 2}
