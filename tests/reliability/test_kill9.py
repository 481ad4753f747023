"""``kill -9`` in the middle of traffic loses nothing that was acknowledged and leaves nothing
half-written.

Shoppers (one thread and one session each) chat, add to the cart through the API and by chat, and
place orders against a real server; ``SIGKILL`` lands while they are at it.  The database then opens
and passes SQLite's integrity and foreign-key checks; after a restart on the same data dir, every
request that got a 2xx before the kill is there (turns, cart, orders with all their lines), and the
one request each shopper had in flight either happened completely or not at all.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.reliability.conftest import ADDRESS, catalog_ids, copy_data, start_server

SHOPPERS = 6
RUN_S = (2.5, 4.0)  # the kill comes at a random moment in this window


def _plus(cart: dict[str, int], pid: str, n: int = 1) -> dict[str, int]:
    out = dict(cart)
    out[pid] = out.get(pid, 0) + n
    return out


def _cart_of(body: dict[str, Any]) -> dict[str, int]:
    return {i["product_id"]: i["quantity"] for i in body["items"]}


@dataclass
class Shopper:
    sid: str
    pid: str
    turns: list[str] = field(default_factory=list)
    orders: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    cart: dict[str, int] = field(default_factory=dict)
    first_shown: str | None = None
    #: the request on the way when the server died: (kind, carts it may have left)
    pending: tuple[str, list[dict[str, int]]] | None = None
    errors: list[str] = field(default_factory=list)
    acked: Counter[str] = field(default_factory=Counter)

    def send(
        self, c: httpx.Client, kind: str, carts: list[dict[str, int]], method: str, url: str, **kw: Any
    ) -> Any:
        """One request; returns its JSON on a 2xx, None otherwise (the outcome recorded)."""
        self.pending = (kind, carts)
        try:
            r = c.request(method, url, **kw)
        except httpx.HTTPError:
            return None  # died with the server: stays pending
        self.pending = None
        if not 200 <= r.status_code < 300:
            self.errors.append(f"{kind}: {r.status_code} {r.text[:200]}")
            return None
        self.acked[kind] += 1
        return r.json()

    def run(self, base: str, dead: threading.Event, rng: random.Random) -> None:
        with httpx.Client(base_url=base, timeout=30) as c:
            cycle = 0
            while not dead.is_set():
                cycle += 1
                body = self.send(
                    c,
                    "search",
                    [self.cart],
                    "POST",
                    "/v1/chat",
                    json={"session_id": self.sid, "message": "show me black watches"},
                )
                if body is None:
                    return
                self.turns.append(body["turn_id"])
                self.cart = _cart_of(body["cart"])
                if body["products"]:
                    self.first_shown = body["products"][0]["id"]
                if dead.is_set():
                    return
                body = self.send(
                    c,
                    "cart_add",
                    [_plus(self.cart, self.pid)],
                    "POST",
                    f"/v1/sessions/{self.sid}/cart/items",
                    json={"product_id": self.pid, "quantity": 1},
                )
                if body is None:
                    return
                self.cart = _cart_of(body)
                if dead.is_set() or self.first_shown is None:
                    return
                body = self.send(
                    c,
                    "chat_add",
                    [self.cart, _plus(self.cart, self.first_shown)],
                    "POST",
                    "/v1/chat",
                    json={"session_id": self.sid, "message": "add the first one to my cart"},
                )
                if body is None:
                    return
                self.turns.append(body["turn_id"])
                self.cart = _cart_of(body["cart"])
                if dead.is_set():
                    return
                if cycle % 2 == 0:
                    body = self.send(
                        c,
                        "order",
                        [{}],
                        "POST",
                        "/v1/orders",
                        json={
                            "session_id": self.sid,
                            "email": "kill@example.com",
                            "shipping_address": ADDRESS,
                        },
                        headers={"Idempotency-Key": f"k9-{self.sid[:10]}-{cycle}"},
                    )
                    if body is None:
                        return
                    self.orders[body["id"]] = [(i["product_id"], i["quantity"]) for i in body["items"]]
                    self.cart = {}
                time.sleep(rng.uniform(0, 0.02))


def _integrity(db: Path) -> None:
    """The files the killed process left open cleanly (the WAL is replayed) and are consistent."""
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        orphans = con.execute(
            "SELECT o.id FROM orders o LEFT JOIN order_items i ON i.order_id = o.id WHERE i.order_id IS NULL"
        ).fetchall()
        assert orphans == [], f"orders without their lines: {orphans}"
        assert con.execute("SELECT id FROM turns WHERE reply IS NULL OR reply = ''").fetchall() == []
        mismatched = con.execute(
            "SELECT s.id, s.turn_count, count(t.id) FROM sessions s LEFT JOIN turns t ON t.session_id = s.id "
            "GROUP BY s.id HAVING s.turn_count != count(t.id)"
        ).fetchall()
        assert mismatched == [], f"session turn counts that disagree with their turns: {mismatched}"
        gaps = con.execute(
            "SELECT session_id FROM turns GROUP BY session_id HAVING max(idx) != count(*) OR min(idx) != 1"
        ).fetchall()
        assert gaps == [], f"turn numbering with gaps: {gaps}"


def _check_after_restart(base: str, shoppers: list[Shopper]) -> None:
    with httpx.Client(base_url=base, timeout=30) as c:
        for sh in shoppers:
            where = f"shopper {sh.sid[:8]} (pending: {sh.pending and sh.pending[0]})"
            history = c.get(f"/v1/sessions/{sh.sid}")
            assert history.status_code == 200, history.text
            turns = history.json()["turns"]
            ids = [t["turn_id"] for t in turns]
            assert ids[: len(sh.turns)] == sh.turns, where  # every acknowledged turn, in order
            extra = len(ids) - len(sh.turns)
            in_flight_turn = sh.pending is not None and sh.pending[0] in ("search", "chat_add")
            assert extra in ((0, 1) if in_flight_turn else (0,)), (where, extra)
            for t in turns:
                assert (
                    t["response"] and t["response"]["reply"] and t["response"]["turn_id"] == t["turn_id"]
                ), where

            for oid, items in sh.orders.items():
                got = c.get(f"/v1/orders/{oid}", params={"session_id": sh.sid})
                assert got.status_code == 200, (where, oid, got.text)
                assert [(i["product_id"], i["quantity"]) for i in got.json()["items"]] == items, where

            cart = _cart_of(c.get(f"/v1/sessions/{sh.sid}/cart").json())
            allowed = [sh.cart] + (sh.pending[1] if sh.pending else [])
            assert cart in allowed, (where, cart, allowed)


def _count_orders(db: Path, sid: str) -> int:
    with sqlite3.connect(db) as con:
        (n,) = con.execute("SELECT count(*) FROM orders WHERE session_id = ?", (sid,)).fetchone()
    return int(n)


def test_kill_9_under_load_loses_nothing_acknowledged(tmp_path: Path, rel_data: Path) -> None:
    data = copy_data(rel_data, tmp_path)
    env = {"SHOPASSIST_RATE_LIMIT_PER_SESSION": "100000/minute"}
    srv = start_server(data, tmp_path / "server-1.log", env=env)
    try:
        pids = catalog_ids(SHOPPERS)
        shoppers = []
        for pid in pids:
            r = httpx.post(f"{srv.base}/v1/chat", json={"session_id": None, "message": "hi"}, timeout=60)
            assert r.status_code == 200, r.text
            shoppers.append(Shopper(sid=r.json()["session_id"], pid=pid, turns=[r.json()["turn_id"]]))
        dead = threading.Event()
        rng = random.Random()
        threads = [
            threading.Thread(target=sh.run, args=(srv.base, dead, random.Random(rng.random())), daemon=True)
            for sh in shoppers
        ]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(*RUN_S))
        # the load must really be under way: a kill before anything was acknowledged proves nothing
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(sh.acked["order"] for sh in shoppers) < 2:
            time.sleep(0.1)
        assert srv.proc.poll() is None, srv.log_text()[-2000:]
        os.kill(srv.pid, signal.SIGKILL)
        dead.set()
        srv.proc.wait(timeout=30)
        for t in threads:
            t.join(timeout=60)
        assert srv.proc.returncode == -signal.SIGKILL
    finally:
        srv.stop(hard=True)

    errors = [e for sh in shoppers for e in sh.errors]
    assert errors == [], errors  # nothing failed before the kill
    acked = sum((sh.acked for sh in shoppers), Counter())
    assert acked["search"] >= SHOPPERS and acked["cart_add"] >= SHOPPERS and acked["order"] >= 2, acked

    db = data / "shopassist.db"
    _integrity(db)
    for sh in shoppers:
        pending_order = sh.pending is not None and sh.pending[0] == "order"
        assert _count_orders(db, sh.sid) - len(sh.orders) in ((0, 1) if pending_order else (0,)), sh.sid

    srv = start_server(data, tmp_path / "server-2.log", env=env)
    try:
        _check_after_restart(srv.base, shoppers)
        # and the conversations carry on
        for sh in shoppers[:2]:
            r = httpx.post(
                f"{srv.base}/v1/chat", json={"session_id": sh.sid, "message": "what's in my cart"}, timeout=60
            )
            assert r.status_code == 200, r.text
    finally:
        srv.stop()
