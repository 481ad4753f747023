"""POST /v1/chat/stream: SSE events meta, products, delta…, done (the whole response); errors as an event."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient


def _events(text: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [ln for ln in block.split("\n") if ln and not ln.startswith(":")]
        event = next((ln[6:].strip() for ln in lines if ln.startswith("event:")), None)
        data = "\n".join(ln[5:].strip() for ln in lines if ln.startswith("data:"))
        if event and data:
            out.append((event, json.loads(data)))
    return out


def test_stream_sends_meta_products_deltas_then_done(chat_app: Any) -> None:
    with TestClient(chat_app) as client:
        r = client.post("/v1/chat/stream", json={"session_id": None, "message": "show me black watches"})
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = _events(r.text)
    kinds = [e for e, _ in events]
    assert kinds[0] == "meta" and kinds[1] == "products" and kinds[-1] == "done"
    assert set(kinds[2:-1]) == {"delta"}
    done = events[-1][1]
    assert "".join(d["text"] for e, d in events if e == "delta") == done["reply"]
    assert events[0][1]["session_id"] == done["session_id"]
    assert events[1][1]["products"] == done["products"]


def test_stream_unknown_session_is_an_error_event(chat_app: Any) -> None:
    with TestClient(chat_app) as client:
        r = client.post("/v1/chat/stream", json={"session_id": "Z" * 43, "message": "hi"})
    events = _events(r.text)
    assert events == [
        ("error", {"error": {"code": "session_not_found", "message": events[0][1]["error"]["message"]}})
    ]


def test_chat_rejects_bad_bodies_with_the_envelope(chat_app: Any) -> None:
    with TestClient(chat_app) as client:
        for body in (
            {"message": ""},
            {"message": "x" * 2001},
            {"session_id": "../etc/passwd", "message": "hi"},
            {},
        ):
            r = client.post("/v1/chat", json=body)
            assert r.status_code == 422, body
            assert r.json()["error"]["code"] == "invalid_request"
        r = client.post("/v1/chat", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 422
        assert set(r.json()["error"]) == {"code", "message"}
