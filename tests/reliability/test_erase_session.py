"""``DELETE /v1/sessions/{id}``: the shopper's conversation is gone for good (204, then 404
everywhere), the store keeps its orders with the personal data scrubbed, and nobody else's
conversation is touched."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from PIL import Image

from tests.reliability.conftest import ADDRESS, LiveServer, assert_envelope, auth, catalog_ids, new_session

EMAIL = "erase.me@example.com"
NAME = "Erika Mustermann"
STREET = "99 Forgotten Lane"
MESSAGE = "show me black backpacks for Erika please"


def _photo() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buf, format="JPEG")
    return buf.getvalue()


def _full_session(client: TestClient, staff_key: str) -> dict[str, Any]:
    """A session with turns, a photo turn, a cart, an order, an alert, a notice and a staff label."""
    sid = new_session(client, MESSAGE)
    image_id = client.post("/v1/images", files={"file": ("p.jpg", _photo(), "image/jpeg")}).json()["image_id"]
    r = client.post(
        "/v1/chat", json={"session_id": sid, "message": "something like this", "image_id": image_id}
    )
    assert r.status_code == 200, r.text
    pid, other = catalog_ids(2)
    assert client.post(f"/v1/sessions/{sid}/cart/items", json={"product_id": pid}).status_code == 200
    order = client.post(
        "/v1/orders",
        json={
            "session_id": sid,
            "email": EMAIL,
            "shipping_address": {**ADDRESS, "name": NAME, "line1": STREET},
        },
        headers={"Idempotency-Key": f"erase-{sid[:10]}"},
    )
    assert order.status_code == 201, order.text
    assert client.post(f"/v1/sessions/{sid}/cart/items", json={"product_id": other}).status_code == 200
    alert = client.post(
        "/v1/alerts", json={"session_id": sid, "product_id": pid, "price_max": 1.0, "email": EMAIL}
    )
    assert alert.status_code == 201, alert.text
    r = client.post(
        f"/v1/staff/conversations/{sid}/messages", json={"text": "Hi Erika!"}, headers=auth(staff_key)
    )
    assert r.status_code == 201
    turn_id = client.get(f"/v1/sessions/{sid}").json()["turns"][0]["turn_id"]
    r = client.post(
        f"/v1/staff/turns/{turn_id}/label",
        json={"intent": "search", "slots": {"color": "black"}, "note": "erase-probe-label"},
        headers=auth(staff_key),
    )
    assert r.status_code == 201, r.text
    return {"sid": sid, "order": order.json()["id"], "image_id": image_id, "pid": pid}


def _db_text(runtime: Any) -> str:
    """Every cell of every table as text (through SQLite, the WAL included), but the staff audit
    log: it records which (now dead) session id a staff member answered, and nothing personal."""
    db = Path(runtime.settings.data_dir) / "shopassist.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        tables = [t for t in tables if t != "audit_log"]
        return "\n".join(
            " | ".join(str(c) for c in row) for t in tables for row in con.execute(f'SELECT * FROM "{t}"')
        )


def test_erasing_a_session_forgets_the_conversation_and_keeps_a_scrubbed_order(
    client: TestClient, staff_key: str, rel_runtime: Any
) -> None:
    probe = _full_session(client, staff_key)
    keep = _full_session(client, staff_key)  # another shopper's, which must stay as it is
    sid = probe["sid"]
    keep_history = client.get(f"/v1/sessions/{keep['sid']}").json()
    before = _db_text(rel_runtime)
    assert EMAIL in before and STREET in before

    r = client.delete(f"/v1/sessions/{sid}")
    assert r.status_code == 204, r.text
    assert r.content == b""

    # the shopper's side: the id is unknown everywhere
    for method, path, body in [
        ("GET", f"/v1/sessions/{sid}", None),
        ("GET", f"/v1/sessions/{sid}/cart", None),
        ("GET", f"/v1/sessions/{sid}/notices", None),
        ("GET", f"/v1/sessions/{sid}/alerts", None),
        ("POST", f"/v1/sessions/{sid}/cart/items", {"product_id": probe["pid"]}),
        ("POST", "/v1/chat", {"session_id": sid, "message": "hello again"}),
        ("DELETE", f"/v1/sessions/{sid}", None),
    ]:
        assert_envelope(client.request(method, path, json=body), 404, "session_not_found")
    assert_envelope(
        client.get(f"/v1/orders/{probe['order']}", params={"session_id": sid}), 404, "order_not_found"
    )
    assert client.get(f"/v1/images/{probe['image_id']}").status_code == 404  # the uploaded photo too

    # staff: no transcript, not in the list, its label gone from the export
    assert_envelope(
        client.get(f"/v1/staff/conversations/{sid}", headers=auth(staff_key)), 404, "session_not_found"
    )
    listed = client.get("/v1/staff/conversations", params={"limit": 200}, headers=auth(staff_key)).json()
    assert sid not in {c["id"] for c in listed["conversations"]}
    assert keep["sid"] in {c["id"] for c in listed["conversations"]}
    export = client.get("/v1/staff/labels/export", headers=auth(staff_key)).text
    assert export.count("black backpacks for Erika") == 1  # the other session's label only

    # the store: the order is still there and can be shipped, without the shopper's personal data
    shipped = client.patch(
        f"/v1/staff/orders/{probe['order']}", json={"status": "shipped"}, headers=auth(staff_key)
    )
    assert shipped.status_code == 200, shipped.text
    with sqlite3.connect(
        f"file:{Path(rel_runtime.settings.data_dir) / 'shopassist.db'}?mode=ro", uri=True
    ) as con:
        row = con.execute(
            "SELECT session_id, email, shipping_address, status, total FROM orders WHERE id = ?",
            (probe["order"],),
        ).fetchone()
        items = con.execute(
            "SELECT count(*) FROM order_items WHERE order_id = ?", (probe["order"],)
        ).fetchone()[0]
        sid_rows = (
            sum(
                con.execute(f'SELECT count(*) FROM "{t}" WHERE session_id = ?', (sid,)).fetchone()[0]
                for t in ("turns", "cart_items", "notices", "events", "price_alerts", "handoffs", "sessions")
                if t != "sessions"
            )
            + con.execute("SELECT count(*) FROM sessions WHERE id = ?", (sid,)).fetchone()[0]
        )
    assert row is not None and row[0] is None and row[3] == "shipped" and row[4] > 0 and items == 1
    assert EMAIL not in row[1]
    address = json.loads(row[2]) if isinstance(row[2], str) else row[2]
    assert NAME not in json.dumps(address) and STREET not in json.dumps(address)
    assert sid_rows == 0
    remaining = _db_text(rel_runtime)
    assert sid not in remaining
    # both shoppers said the same things: what is left of them is the other shopper's half
    assert remaining.count("for Erika") * 2 == before.count("for Erika") > 0

    # the other shopper's conversation is exactly as it was
    assert client.get(f"/v1/sessions/{keep['sid']}").json() == keep_history
    assert client.get(f"/v1/orders/{keep['order']}", params={"session_id": keep["sid"]}).status_code == 200
    assert client.get(f"/v1/images/{keep['image_id']}").status_code == 200


def test_erasing_an_unknown_or_malformed_session_is_a_4xx(client: TestClient) -> None:
    assert_envelope(client.delete("/v1/sessions/" + "Z" * 43), 404, "session_not_found")
    for bad in ("short", "..%2f..%2fetc%2fpasswd", "x" * 65):
        assert_envelope(client.delete(f"/v1/sessions/{bad}"))


def test_erasing_over_real_http(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.base, timeout=60) as c:
        sid = new_session(live_server.base, "show me black watches")
        assert (
            c.post(f"/v1/sessions/{sid}/cart/items", json={"product_id": catalog_ids(1)[0]}).status_code
            == 200
        )
        r = c.delete(f"/v1/sessions/{sid}")
        assert r.status_code == 204 and r.content == b""
        assert_envelope(c.get(f"/v1/sessions/{sid}"), 404, "session_not_found")
        assert_envelope(c.delete(f"/v1/sessions/{sid}"), 404, "session_not_found")
