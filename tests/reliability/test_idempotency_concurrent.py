"""Twenty checkouts of one cart at the same instant, against a real ``shopassist serve``: one order,
whatever the retries and double clicks.

With one ``Idempotency-Key`` every answer is the same order (201, the replays marked
``Idempotent-Replayed: true``); with the key reused for another body the others are 409
``idempotency_conflict``; with a fresh key per request the cart still becomes one order (the rest
409 ``cart_empty``).  The database holds exactly one order, with all its lines, and the cart is empty.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.reliability.conftest import ADDRESS, LiveServer, assert_envelope, catalog_ids, new_session

N = 20


def _filled_cart(base: str, n_items: int = 3) -> tuple[str, list[str]]:
    sid = new_session(base, "show me black backpacks")
    pids = catalog_ids(n_items)
    with httpx.Client(base_url=base, timeout=60) as c:
        for i, pid in enumerate(pids, 1):
            r = c.post(f"/v1/sessions/{sid}/cart/items", json={"product_id": pid, "quantity": i})
            assert r.status_code == 200, r.text
    return sid, pids


def _all_at_once(
    base: str, make: Callable[[int], tuple[dict[str, Any], dict[str, str]]]
) -> list[httpx.Response]:
    """``N`` POST /v1/orders released together from ``N`` threads, each on its own connection."""
    barrier = threading.Barrier(N)
    out: list[httpx.Response | BaseException | None] = [None] * N

    def worker(i: int) -> None:
        body, headers = make(i)
        with httpx.Client(base_url=base, timeout=90) as c:
            c.get("/healthz")  # connect before the barrier, so the requests really overlap
            barrier.wait(timeout=60)
            try:
                out[i] = c.post("/v1/orders", json=body, headers=headers)
            except BaseException as exc:  # reported below with the others
                out[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    failed = [r for r in out if not isinstance(r, httpx.Response)]
    assert not failed, failed
    return [r for r in out if isinstance(r, httpx.Response)]


def _orders_in_db(data: Path, sid: str) -> list[tuple[str, int, float]]:
    """``(order id, number of lines, total)`` of the session's orders, read from the SQLite file."""
    with sqlite3.connect(f"file:{data / 'shopassist.db'}?mode=ro", uri=True) as con:
        return [
            (oid, n, total)
            for oid, total in con.execute("SELECT id, total FROM orders WHERE session_id = ?", (sid,))
            for (n,) in con.execute("SELECT count(*) FROM order_items WHERE order_id = ?", (oid,))
        ]


def _order_events(data: Path, sid: str) -> int:
    with sqlite3.connect(f"file:{data / 'shopassist.db'}?mode=ro", uri=True) as con:
        (n,) = con.execute(
            "SELECT count(*) FROM events WHERE session_id = ? AND type = 'order'", (sid,)
        ).fetchone()
    return int(n)


def _body(sid: str, email: str = "jane@example.com") -> dict[str, Any]:
    return {"session_id": sid, "email": email, "shipping_address": ADDRESS}


def _assert_one_order(srv: LiveServer, sid: str, order_id: str, n_lines: int) -> None:
    rows = _orders_in_db(srv.data, sid)
    assert [(oid, n) for oid, n, _ in rows] == [(order_id, n_lines)], rows
    assert _order_events(srv.data, sid) == n_lines  # one "order" event per line, not per request
    with httpx.Client(base_url=srv.base, timeout=30) as c:
        got = c.get(f"/v1/orders/{order_id}", params={"session_id": sid})
        assert got.status_code == 200 and got.json()["id"] == order_id
        assert len(got.json()["items"]) == n_lines
        assert c.get(f"/v1/sessions/{sid}/cart").json()["items"] == []


def test_one_key_twenty_simultaneous_requests_one_order(live_server: LiveServer) -> None:
    sid, pids = _filled_cart(live_server.base)
    responses = _all_at_once(
        live_server.base, lambda i: (_body(sid), {"Idempotency-Key": f"same-{sid[:16]}"})
    )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {200, 201}, [(r.status_code, r.text[:200]) for r in responses]
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1, ids
    bodies = {r.text for r in responses}
    assert len(bodies) == 1, "replays must answer the very same order"
    fresh = [r for r in responses if r.headers.get("Idempotent-Replayed") != "true"]
    assert len(fresh) == 1, [dict(r.headers) for r in fresh]  # exactly one request placed it
    order_id = ids.pop()
    assert [(i["product_id"], i["quantity"]) for i in responses[0].json()["items"]] == sorted(
        [(pid, n) for n, pid in enumerate(pids, 1)]
    )
    _assert_one_order(live_server, sid, order_id, len(pids))


def test_one_key_with_two_different_bodies_one_order_and_conflicts(live_server: LiveServer) -> None:
    sid, pids = _filled_cart(live_server.base)
    key = {"Idempotency-Key": f"mixed-{sid[:16]}"}
    emails = ["jane@example.com", "john@example.com"]
    responses = _all_at_once(live_server.base, lambda i: (_body(sid, emails[i % 2]), key))
    placed = [r for r in responses if r.status_code in (200, 201)]
    conflicts = [r for r in responses if r.status_code == 409]
    assert len(placed) + len(conflicts) == N, [(r.status_code, r.text[:200]) for r in responses]
    for r in conflicts:
        assert_envelope(r, 409, "idempotency_conflict")
    assert len({r.json()["id"] for r in placed}) == 1
    assert len(placed) == N // 2, "every request with the winning body gets the order, the others 409"
    _assert_one_order(live_server, sid, placed[0].json()["id"], len(pids))


def test_a_fresh_key_per_click_still_orders_the_cart_once(live_server: LiveServer) -> None:
    sid, pids = _filled_cart(live_server.base)
    responses = _all_at_once(
        live_server.base, lambda i: (_body(sid), {"Idempotency-Key": f"click-{i}-{sid[:12]}"})
    )
    placed = [r for r in responses if r.status_code == 201]
    assert len(placed) == 1, [(r.status_code, r.text[:200]) for r in responses]
    for r in responses:
        if r.status_code != 201:
            assert_envelope(r, 409, "cart_empty")
    _assert_one_order(live_server, sid, placed[0].json()["id"], len(pids))
