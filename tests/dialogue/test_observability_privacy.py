"""/metrics, the request log, request ids, erasure and retention, card numbers never stored."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from assistant.models import OrderRow, SessionRow, TurnRow, utcnow


@pytest.fixture(scope="module")
def client(chat_app: Any) -> Any:
    with TestClient(chat_app) as c:
        yield c


def _say(client: TestClient, message: str, sid: str | None = None) -> dict[str, Any]:
    r = client.post("/v1/chat", json={"session_id": sid, "message": message})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _metric(body: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    total = 0.0
    for line in body.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_count_turns_by_intent_and_action_and_latency_by_route(client: TestClient) -> None:
    before = client.get("/metrics").text
    out = _say(client, "show me black watches")
    _say(client, "qwzx vbnm plkj", out["session_id"])  # gibberish: low confidence
    client.get("/v1/sessions/" + "0" * 43)  # a 404 with its code
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    body = r.text
    intent, action = out["intent"]["name"], out["action"]
    grew = _metric(body, "shopassist_turns_total", intent=intent, action=action) - _metric(
        before, "shopassist_turns_total", intent=intent, action=action
    )
    assert grew == 1
    assert (
        _metric(body, "shopassist_http_request_duration_seconds_count", route="/v1/chat", status="200") >= 2
    )
    assert _metric(body, "shopassist_turn_stage_duration_seconds_count", stage="nlu") >= 2
    assert _metric(body, "shopassist_turn_stage_duration_seconds_count", stage="persist") >= 2
    assert _metric(body, "shopassist_http_errors_total", code="session_not_found") >= 1
    # the low-confidence counter exists and session ids never become label values
    assert "shopassist_nlu_low_confidence_turns_total" in body
    assert out["session_id"] not in body


def test_every_answer_carries_a_request_id_and_one_json_log_line(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="shopassist.request"):
        r = client.post("/v1/chat", json={"session_id": None, "message": "red dresses"})
        mine = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
        bad = client.post("/v1/chat", content=b"{not json", headers={"Content-Type": "application/json"})
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])
    assert mine.headers["x-request-id"] == "abc-123"
    lines = [json.loads(rec.getMessage()) for rec in caplog.records if rec.name == "shopassist.request"]
    by_id = {line["request_id"]: line for line in lines}
    chat = by_id[r.headers["x-request-id"]]
    assert chat["method"] == "POST" and chat["route"] == "/v1/chat" and chat["status"] == 200
    assert chat["ms"] > 0
    assert by_id["abc-123"]["route"] == "/healthz"
    assert by_id[bad.headers["x-request-id"]]["status"] == 422
    assert by_id[bad.headers["x-request-id"]]["error"] == "invalid_request"
    # session ids are secrets: routes are logged as templates
    sid = r.json()["session_id"]
    with caplog.at_level(logging.INFO, logger="shopassist.request"):
        client.get(f"/v1/sessions/{sid}")
    assert sid not in caplog.text
    assert "/v1/sessions/{session_id}" in caplog.text


def test_staff_search_query_with_an_email_is_masked_in_the_log(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="shopassist.request"):
        client.get("/v1/staff/conversations", params={"q": "jane.doe@example.com 555-123-4567"})
    assert "jane.doe@example.com" not in caplog.text
    assert "555-123-4567" not in caplog.text
    assert "/v1/staff/conversations" in caplog.text


def test_a_card_number_never_reaches_the_nlu_the_state_or_the_database(
    client: TestClient, chat_runtime: Any
) -> None:
    out = _say(client, "my card is 4111 1111 1111 1111, show me black watches")
    sid = out["session_id"]
    assert "4111" not in json.dumps(out)
    with chat_runtime.db.session() as s:
        row = s.get(SessionRow, sid)
        turn = s.scalars(select(TurnRow).where(TurnRow.session_id == sid)).one()
        assert "4111" not in json.dumps(row.state)
        assert "4111" not in turn.message and "[card number removed]" in turn.message
        assert "4111" not in json.dumps(turn.slots) + json.dumps(turn.response)


def _order(client: TestClient, sid: str) -> dict[str, Any]:
    pid = client.get("/v1/products/search", params={"q": "watch"}).json()["products"][0]["id"]
    assert (
        client.post(f"/v1/sessions/{sid}/cart/items", json={"product_id": pid, "quantity": 1}).status_code
        == 200
    )
    r = client.post(
        "/v1/orders",
        headers={"Idempotency-Key": f"k-{sid[:8]}"},
        json={
            "session_id": sid,
            "email": "jane.doe@example.com",
            "shipping_address": {
                "name": "Jane Doe",
                "line1": "12 Baker Street",
                "city": "London",
                "postal_code": "NW1 6XE",
                "country": "GB",
            },
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_erasing_a_session_deletes_the_conversation_and_scrubs_its_orders(
    client: TestClient, chat_runtime: Any
) -> None:
    sid = _say(client, "show me black watches")["session_id"]
    order = _order(client, sid)
    assert client.delete(f"/v1/sessions/{sid}").status_code == 204
    assert client.get(f"/v1/sessions/{sid}").json()["error"]["code"] == "session_not_found"
    assert client.delete(f"/v1/sessions/{sid}").status_code == 404
    assert client.post("/v1/chat", json={"session_id": sid, "message": "hi"}).status_code == 404
    with chat_runtime.db.session() as s:
        row = s.get(OrderRow, order["id"])
        assert row is not None and row.session_id is None
        assert "jane" not in row.email and "Baker" not in json.dumps(row.shipping_address)
        assert row.shipping_address == {"country": "GB"}
        assert not s.scalars(select(TurnRow).where(TurnRow.session_id == sid)).all()
        leftovers = s.execute(
            text("SELECT count(*) FROM cart_items WHERE session_id = :s"), {"s": sid}
        ).scalar()
        assert leftovers == 0


def test_retention_purges_only_conversations_idle_past_the_limit(
    client: TestClient, chat_runtime: Any
) -> None:
    from assistant.privacy import RetentionSweeper

    old = _say(client, "show me black watches")["session_id"]
    fresh = _say(client, "show me red dresses")["session_id"]
    with chat_runtime.db.session() as s:
        s.execute(
            update(SessionRow).where(SessionRow.id == old).values(updated_at=utcnow() - timedelta(days=40))
        )
    assert RetentionSweeper(chat_runtime.db, None).run_once().sessions == 0  # unset: keep everything
    report = RetentionSweeper(chat_runtime.db, 30, uploads=chat_runtime.uploads).run_once()
    assert report.sessions >= 1
    assert client.get(f"/v1/sessions/{old}").status_code == 404
    assert client.get(f"/v1/sessions/{fresh}").status_code == 200
