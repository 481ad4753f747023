"""``POST /v1/voice``: the n-best hypothesis the assistant understands wins; spoken numbers parse;
``speech`` is short, plain and reads at most three products with prices in words."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def client(chat_app: Any) -> Any:
    with TestClient(chat_app) as c:
        yield c


def voice(client: TestClient, sid: str | None, *hypotheses: tuple[str, float]) -> dict[str, Any]:
    r = client.post(
        "/v1/voice",
        json={"session_id": sid, "transcripts": [{"text": t, "confidence": c} for t, c in hypotheses]},
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_a_misheard_top_hypothesis_loses_to_the_one_the_catalog_understands(client: TestClient) -> None:
    body = voice(
        client,
        None,
        ("show me black washes under two hundred", 0.62),
        ("show me black watches under two hundred dollars", 0.55),
    )
    assert body["filters"]["product_type"] == "watch"
    assert body["filters"]["color"] == "black" and body["filters"]["price_max"] == 200
    assert body["products"] and all(p["price"] <= 200 for p in body["products"])


def test_the_top_hypothesis_wins_when_both_are_understood(client: TestClient) -> None:
    body = voice(client, None, ("show me backpacks", 0.9), ("show me black packs", 0.3))
    assert body["filters"] == {"product_type": "backpack"}


def test_spoken_prices_and_sizes_parse(client: TestClient) -> None:
    body = voice(client, None, ("i need sports shoes in size nine for men under eighty dollars", 0.9))
    assert body["slots"]["size"] == "9" and body["slots"]["price_max"] == 80
    assert body["filters"]["gender"] == "men"
    body = voice(client, None, ("show me sneakers in size ten and a half under fifty dollars", 0.8))
    assert body["slots"]["size"] == "10.5" and body["slots"]["price_max"] == 50


def test_speech_is_plain_with_prices_in_words_and_three_products_at_most(client: TestClient) -> None:
    body = voice(client, None, ("show me watches", 0.9))
    speech = body["speech"]
    assert len(body["products"]) > 3
    assert "$" not in speech and "http" not in speech and "*" not in speech and "<" not in speech
    assert re.search(r"\b(dollars?|cents)\b", speech)
    read = [p["title"] for p in body["products"] if p["title"] in speech]
    assert 1 <= len(read) <= 3
    assert body["products"][3]["title"] not in speech
    assert len(speech) < 600


def test_bad_voice_requests_are_4xx(client: TestClient) -> None:
    for payload in (
        {"session_id": None, "transcripts": []},
        {"session_id": None, "transcripts": [{"text": "hi", "confidence": 1.5}]},
        {"session_id": None},
    ):
        r = client.post("/v1/voice", json=payload)
        assert r.status_code == 422 and set(r.json()) == {"error"}
    r = client.post(
        "/v1/voice", json={"session_id": None, "transcripts": [{"text": "   ", "confidence": 0.9}]}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    r = client.post(
        "/v1/voice", json={"session_id": "x" * 32, "transcripts": [{"text": "hi", "confidence": 0.9}]}
    )
    assert r.status_code == 404
