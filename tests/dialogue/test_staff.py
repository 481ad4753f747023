"""The staff API: keys and roles on every route, conversation review with PII masked, replies,
label corrections exported for NLU training, order status, and the audit log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli import app as cli_app
from assistant.config import Settings
from assistant.models import AuditRow
from assistant.staff import create_key

EMAIL, PHONE, CARD = "jane.doe@example.com", "415-555-0123", "4111 1111 1111 1111"


@pytest.fixture(scope="module")
def shop(chat_app: Any, chat_runtime: Any) -> Any:
    with chat_runtime.db.session() as s:
        staff_key, _ = create_key(s, role="staff", name="agent")
        admin_key, _ = create_key(s, role="admin", name="boss")
    with TestClient(chat_app) as client:
        yield client, chat_runtime, staff_key, admin_key


def chat(client: TestClient, sid: str | None, message: str) -> dict[str, Any]:
    r = client.post("/v1/chat", json={"session_id": sid, "message": message})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def conversation(shop: Any) -> dict[str, Any]:
    client, *_ = shop
    first = chat(client, None, "show me black backpacks")
    sid = first["session_id"]
    pii = chat(client, sid, f"my email is {EMAIL} and my phone is {PHONE}, card {CARD}")
    handoff = chat(client, sid, "can I talk to a person please")
    assert handoff["action"] == "handoff"
    return {"sid": sid, "turn_id": pii["turn_id"], "first_turn": first["turn_id"]}


STAFF_ROUTES = [
    ("GET", "/v1/staff/conversations", None),
    ("GET", "/v1/staff/conversations/{sid}", None),
    ("POST", "/v1/staff/conversations/{sid}/messages", {"text": "Hi, Sam from support here."}),
    ("POST", "/v1/staff/turns/{turn}/label", {"intent": "search", "slots": {"color": "black"}}),
    ("GET", "/v1/staff/labels/export", None),
]
ADMIN_ROUTES = [
    ("GET", "/v1/staff/keys", None),
    ("POST", "/v1/staff/keys", {"role": "staff", "name": "temp"}),
]
OTHER_ROUTES = [  # need a real order / key to succeed; auth is checked first all the same
    ("PATCH", "/v1/staff/orders/ABCD2345", {"status": "shipped"}),
    ("DELETE", "/v1/staff/keys/key_000000000000", None),
]


def call(client: TestClient, method: str, path: str, body: Any, conv: dict[str, Any], **kw: Any) -> Any:
    url = path.format(sid=conv["sid"], turn=conv["first_turn"])
    return client.request(method, url, json=body, **kw)


@pytest.mark.parametrize(("method", "path", "body"), STAFF_ROUTES + ADMIN_ROUTES + OTHER_ROUTES)
def test_every_staff_route_needs_a_valid_key(
    shop: Any, conversation: Any, method: str, path: str, body: Any
) -> None:
    client, *_ = shop
    for headers in ({}, auth("sak_not-a-real-key"), {"Authorization": "Basic abc"}):
        r = call(client, method, path, body, conversation, headers=headers)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized", r.text


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_admin_routes_refuse_staff_keys(
    shop: Any, conversation: Any, method: str, path: str, body: Any
) -> None:
    client, _, staff_key, admin_key = shop
    r = call(client, method, path, body, conversation, headers=auth(staff_key))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert call(client, method, path, body, conversation, headers=auth(admin_key)).status_code in (200, 201)


@pytest.mark.parametrize(("method", "path", "body"), STAFF_ROUTES)
def test_staff_and_admin_keys_open_staff_routes(
    shop: Any, conversation: Any, method: str, path: str, body: Any
) -> None:
    client, _, staff_key, admin_key = shop
    for key in (staff_key, admin_key):
        r = call(client, method, path, body, conversation, headers={"X-API-Key": key})
        assert r.status_code in (200, 201), r.text


def test_order_status_and_key_revocation_behind_auth(shop: Any, conversation: Any) -> None:
    client, _, staff_key, admin_key = shop
    r = client.patch("/v1/staff/orders/ABCD2345", json={"status": "shipped"}, headers=auth(staff_key))
    assert r.status_code == 404 and r.json()["error"]["code"] == "order_not_found"
    r = client.patch("/v1/staff/orders/ABCD2345", json={"status": "lost"}, headers=auth(staff_key))
    assert r.status_code == 422
    gone = client.delete("/v1/staff/keys/key_000000000000", headers=auth(staff_key))
    assert gone.status_code == 403
    gone = client.delete("/v1/staff/keys/key_000000000000", headers=auth(admin_key))
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "key_not_found"


def test_review_shows_nlu_details_and_masks_pii_everywhere(shop: Any, conversation: Any) -> None:
    client, _, staff_key, _ = shop
    listed = client.get("/v1/staff/conversations", params={"handoff": True}, headers=auth(staff_key)).json()
    ids = [c["id"] for c in listed["conversations"]]
    assert conversation["sid"] in ids
    found = client.get("/v1/staff/conversations", params={"q": "black backpacks"}, headers=auth(staff_key))
    assert conversation["sid"] in [c["id"] for c in found.json()["conversations"]]
    none = client.get("/v1/staff/conversations", params={"q": "zyzzyva"}, headers=auth(staff_key)).json()
    assert none["conversations"] == [] and none["total"] == 0

    t = client.get(f"/v1/staff/conversations/{conversation['sid']}", headers=auth(staff_key)).json()
    first = t["turns"][0]
    assert first["intent"] == "search" and 0 <= first["confidence"] <= 1
    assert first["slots"]["color"] == "black" and first["action"] and first["products"]
    assert first["total_ms"] > 0 and "nlu_ms" in first["latency_ms"]
    assert t["open_handoff"] is not None
    dumped = json.dumps(t) + json.dumps(listed)
    for secret in (EMAIL, PHONE, CARD, "4111111111111111", "555-0123"):
        assert secret not in dumped


def test_a_label_correction_is_exported_as_training_jsonl_and_audited(shop: Any, conversation: Any) -> None:
    client, rt, staff_key, _ = shop
    r = client.post(
        f"/v1/staff/turns/{conversation['turn_id']}/label",
        json={"intent": "checkout", "slots": {}, "note": f"customer wrote {EMAIL}"},
        headers=auth(staff_key),
    )
    assert r.status_code == 201 and EMAIL not in r.text
    bad = client.post(
        f"/v1/staff/turns/{conversation['turn_id']}/label",
        json={"intent": "dance", "slots": {}},
        headers=auth(staff_key),
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_intent"
    export = client.get("/v1/staff/labels/export", headers=auth(staff_key))
    rows = [json.loads(line) for line in export.text.splitlines()]
    mine = [r for r in rows if r["intent"] == "checkout"]
    assert mine and set(mine[0]) == {"text", "intent", "slots"}
    assert EMAIL not in export.text and CARD not in export.text
    t = client.get(f"/v1/staff/conversations/{conversation['sid']}", headers=auth(staff_key)).json()
    labelled = next(x for x in t["turns"] if x["turn_id"] == conversation["turn_id"])
    assert labelled["labels"][-1]["intent"] == "checkout"
    with rt.db.session() as s:
        actions = [
            a.action for a in s.scalars(select(AuditRow).where(AuditRow.target == conversation["turn_id"]))
        ]
    assert "label" in actions


def test_a_staff_reply_reaches_the_shopper_and_is_audited(shop: Any, conversation: Any) -> None:
    client, rt, staff_key, _ = shop
    r = client.post(
        f"/v1/staff/conversations/{conversation['sid']}/messages",
        json={"text": "Happy to help with your order!"},
        headers=auth(staff_key),
    )
    assert r.status_code == 201
    nxt = chat(client, conversation["sid"], "thanks")
    assert any(n["kind"] == "staff_message" and "Happy to help" in n["text"] for n in nxt["notices"])
    with rt.db.session() as s:
        assert s.scalars(select(AuditRow).where(AuditRow.action == "reply")).first() is not None


def test_admins_create_and_revoke_keys_and_a_revoked_key_stops_working(shop: Any) -> None:
    client, rt, _, admin_key = shop
    made = client.post(
        "/v1/staff/keys", json={"role": "staff", "name": "night shift"}, headers=auth(admin_key)
    )
    assert made.status_code == 201
    key, key_id = made.json()["key"], made.json()["id"]
    assert client.get("/v1/staff/conversations", headers=auth(key)).status_code == 200
    listed = client.get("/v1/staff/keys", headers=auth(admin_key)).json()["keys"]
    assert key not in json.dumps(listed) and key_id in [k["id"] for k in listed]
    assert client.delete(f"/v1/staff/keys/{key_id}", headers=auth(admin_key)).json()["revoked_at"]
    assert client.get("/v1/staff/conversations", headers=auth(key)).status_code == 401
    with rt.db.session() as s:
        actions = {a.action for a in s.scalars(select(AuditRow).where(AuditRow.target == key_id))}
    assert actions == {"key_create", "key_revoke"}


def test_keys_cli_creates_lists_and_revokes(env_settings: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(cli_app, ["keys", "create", "--role", "staff", "--name", "desk"])
    assert made.exit_code == 0, made.output
    *_, line, key = made.stdout.strip().splitlines()
    record = json.loads(line)
    assert key.startswith("sak_") and record["role"] == "staff" and "key" not in record
    listed = runner.invoke(cli_app, ["keys", "list"])
    assert record["id"] in listed.stdout and key not in listed.stdout
    assert runner.invoke(cli_app, ["keys", "revoke", record["id"]]).exit_code == 0
    bad = runner.invoke(cli_app, ["keys", "create", "--role", "wizard"])
    assert (
        bad.exit_code == 1
        and bad.stderr.strip().startswith("error:")
        and len(bad.stderr.strip().splitlines()) == 1
    )
    out = tmp_path / "labels.jsonl"
    exported = runner.invoke(cli_app, ["nlu", "export-labels", "--out", str(out)])
    assert exported.exit_code == 0 and out.read_text() == ""
