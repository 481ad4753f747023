"""Restarting the server mid-conversation loses nothing: filters, cart and shown products carry on."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.e2e._server import prepare, start


def test_conversation_survives_a_hard_restart(tmp_path: Path, nlu_model_dir: Path) -> None:
    data = tmp_path / "var"
    assert prepare(data, nlu_model_dir).returncode == 0
    srv = start(data)
    try:

        def say(base: str, sid: str | None, text: str) -> dict[str, object]:
            r = httpx.post(f"{base}/v1/chat", json={"session_id": sid, "message": text}, timeout=30)
            assert r.status_code == 200, r.text
            return dict(r.json())

        first = say(srv.base, None, "show me black watches under 200 dollars")
        sid = str(first["session_id"])
        shown = [p["id"] for p in first["products"]]  # type: ignore[attr-defined]
        assert len(shown) >= 2
        added = say(srv.base, sid, "add the first one to my cart")
        assert added["action"] == "cart_updated"
    finally:
        srv.stop(hard=True)  # kill -9: only what was committed survives

    srv = start(data)
    try:
        history = httpx.get(f"{srv.base}/v1/sessions/{sid}").json()
        assert len(history["turns"]) == 2
        assert history["filters"] == first["filters"]
        second = say(srv.base, sid, "add the second one too")
        assert second["action"] == "cart_updated"
        assert second["filters"] == first["filters"]
        cart_ids = {i["product_id"] for i in second["cart"]["items"]}  # type: ignore[index]
        assert cart_ids == {shown[0], shown[1]}
        cheaper = say(srv.base, sid, "actually under 100")
        assert cheaper["filters"]["product_type"] == "watch"  # type: ignore[index]
        assert cheaper["filters"]["color"] == "black"  # type: ignore[index]
        assert cheaper["filters"]["price_max"] == 100  # type: ignore[index]
    finally:
        srv.stop()
