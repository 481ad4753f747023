"""Recommendations in the conversation: the session's history changes them, and the card says why."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant import commerce
from assistant.recommend import log_sequences
from rankers import SequentialConfig, train_sequential


def _chat(client: TestClient, session_id: str | None, message: str) -> dict[str, Any]:
    r = client.post("/v1/chat", json={"session_id": session_id, "message": message})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _focus(client: TestClient, query: str) -> tuple[str, str]:
    """A session that searched and opened the first result: (session id, product id in focus)."""
    first = _chat(client, None, query)
    assert first["products"], first["reply"]
    sid = first["session_id"]
    details = _chat(client, sid, "tell me about the first one")
    assert details["action"] == "show_details"
    return sid, details["products"][0]["id"]


def _log(rt: Any, pattern: list[tuple[str, str]], n: int) -> None:
    """``n`` past shoppers who looked at the first product and then carted the second, per pair."""
    with rt.db.session() as s:
        for first, then in pattern:
            for _ in range(n):
                sid = commerce.create_session(s, channel="web").id
                commerce.add_event(s, session_id=sid, type="view", product_id=first)
                commerce.add_event(s, session_id=sid, type="cart_add", product_id=then)


@pytest.mark.timeout(300)
def test_history_changes_recommendations_and_the_model_explains_them(
    chat_runtime: Any, chat_app: Any
) -> None:
    rt = chat_runtime
    with TestClient(chat_app) as client:
        sid_a, a = _focus(client, "show me heels")
        sid_c, c = _focus(client, "show me backpacks")

        # without a trained model: similar products, said so
        before = _chat(client, sid_a, "can you recommend something similar")
        assert before["action"] == "recommend"
        assert before["products"][0]["why"].startswith("similar to ")

        # the shop's log: shoppers who opened a then carted b; who opened c then carted d
        others = [p.id for p in rt.index.products() if p.id not in (a, c) and p.in_stock]
        b, d = others[7], others[400]
        _log(rt, [(a, b), (c, d)], n=30)
        sequences = log_sequences(rt.db)
        assert [a, b] in sequences and [c, d] in sequences
        config = SequentialConfig.for_model("sasrec", dim=32, epochs=40, batch_size=32, seed=3)
        train_sequential(sequences, config, valid=False).save(rt.recommender_path)
        # the running service picks the new model up within seconds, without a restart
        deadline = time.monotonic() + 10
        while rt.recommender.model() is None and time.monotonic() < deadline:
            time.sleep(0.2)

        after_a = _chat(client, sid_a, "can you recommend something similar")
        after_c = _chat(client, sid_c, "can you recommend something similar")

    title = {p.id: p.title for p in rt.index.products()}
    assert after_a["action"] == after_c["action"] == "recommend"
    # each shopper's own history decides what comes first …
    assert after_a["products"][0]["id"] == b
    assert after_c["products"][0]["id"] == d
    assert [p["id"] for p in after_a["products"]] != [p["id"] for p in after_c["products"]]
    # … and the card names the history item that led there
    assert after_a["products"][0]["why"] == f"often chosen after {title[a]}"
    assert after_c["products"][0]["why"] == f"often chosen after {title[c]}"
    assert "often go on to" in after_a["reply"]
    # what the shopper already looked at is not recommended back to them
    assert a not in [p["id"] for p in after_a["products"]]
