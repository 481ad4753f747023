"""Scripted multi-turn conversations (tests/dialogue/conversations/*.yaml) against the real app.

Each script is a list of turns; a turn says something (``say``) or acts as staff
(``staff_reply``) and states what the response must show (``expect``).  Besides
the expectations, every response is checked for the contract of DESIGN.md: all
keys present, a known action, cart total = sum of its lines, speech without markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from assistant.dialogue import ACTIONS

HERE = Path(__file__).parent
SCRIPTS = sorted((HERE / "conversations").glob("*.yaml"))
CONVERSATIONS = [(path.stem, conv) for path in SCRIPTS for conv in yaml.safe_load(path.read_text())]
RESPONSE_KEYS = {
    "session_id", "turn_id", "reply", "speech", "intent", "slots", "filters", "action", "products",
    "cart", "order", "price_advice", "notices", "suggestions",
}  # fmt: skip


def test_there_are_at_least_25_conversations() -> None:
    assert len(CONVERSATIONS) >= 25


def _num_eq(a: Any, b: Any) -> bool:
    if isinstance(b, int | float) and not isinstance(b, bool):
        return isinstance(a, int | float) and abs(float(a) - float(b)) < 0.01
    return str(a).lower().rstrip("s") == str(b).lower().rstrip("s")


def _product_matches(p: dict[str, Any], filters: dict[str, Any]) -> bool:
    attrs = p["attributes"]
    for key, want in filters.items():
        if key == "product_type" and not _num_eq(p["product_type"], want):
            return False
        if key in ("color", "material", "size") and want not in str(attrs.get(key, "")):
            return False
        if key == "gender" and attrs.get("gender") not in (want, "unisex"):
            return False
        if key == "brand" and str(want).lower() not in p["brand"].lower():
            return False
        if key == "price_max" and p["price"] > float(want) + 1e-9:
            return False
        if key == "price_min" and p["price"] < float(want) - 1e-9:
            return False
        if key == "rating_min" and (p["rating"] is None or p["rating"] < float(want)):
            return False
    return True


def _check_contract(body: dict[str, Any]) -> None:
    assert set(body) == RESPONSE_KEYS
    assert body["action"] in ACTIONS
    lines = body["cart"]["items"]
    assert abs(body["cart"]["total"] - sum(i["quantity"] * i["unit_price"] for i in lines)) < 0.005
    assert not re.search(r"[*#`<>\[\]]|https?://|\$\d", body["speech"]), body["speech"]
    assert len(body["products"]) <= 10


def _ref(history: list[dict[str, Any]], ref: dict[str, int]) -> str:
    products = history[ref["turn"]]["products"]
    n = ref["ordinal"]
    return str(products[n - 1 if n > 0 else n]["id"])


def _check(body: dict[str, Any], exp: dict[str, Any], history: list[dict[str, Any]]) -> None:
    reply = body["reply"].lower()
    if "action" in exp:
        assert body["action"] == exp["action"], body["reply"]
    if "action_in" in exp:
        assert body["action"] in exp["action_in"], body["reply"]
    if "intent" in exp:
        assert body["intent"]["name"] == exp["intent"]
    for key, want in exp.get("filters", {}).items():
        assert key in body["filters"] and _num_eq(body["filters"][key], want), body["filters"]
    for key in exp.get("filters_absent", []):
        assert key not in body["filters"], body["filters"]
    if "products_min" in exp:
        assert len(body["products"]) >= exp["products_min"], body["reply"]
    if exp.get("products_match_filters"):
        for p in body["products"]:
            assert _product_matches(p, body["filters"]), (p["title"], p["attributes"], body["filters"])
    if "products_sorted" in exp:
        key = exp["products_sorted"]
        values = [p["price"] if key.startswith("price") else p["rating"] or 0 for p in body["products"]]
        assert values == sorted(values, reverse=key != "price_asc"), values
    if "product_is" in exp:
        assert body["products"][0]["id"] == _ref(history, exp["product_is"])
    if "products_are" in exp:
        assert [p["id"] for p in body["products"]] == [_ref(history, r) for r in exp["products_are"]]
    if "products_disjoint_from" in exp:
        before = {p["id"] for p in history[exp["products_disjoint_from"]]["products"]}
        assert not before & {p["id"] for p in body["products"]}
    if "cart_count" in exp:
        assert len(body["cart"]["items"]) == exp["cart_count"], body["cart"]
    if "cart_has" in exp:
        pid = _ref(history, exp["cart_has"]["ref"])
        qty = {i["product_id"]: i["quantity"] for i in body["cart"]["items"]}
        assert qty.get(pid) == exp["cart_has"]["quantity"], body["cart"]
    for text in exp.get("reply_contains", []):
        assert text.lower() in reply, body["reply"]
    if exp.get("order_placed"):
        assert body["order"] and re.fullmatch(r"[A-Z0-9]{8}", body["order"]["id"])
        assert body["order"]["status"] == "placed"
    if "order_same_as" in exp:
        assert body["order"]["id"] == history[exp["order_same_as"]]["order"]["id"]
    if exp.get("no_order"):
        assert body["order"] is None
    if "suggestions_min" in exp:
        assert len(body["suggestions"]) >= exp["suggestions_min"]
    if "notices_kinds" in exp:
        assert [n["kind"] for n in body["notices"]] == exp["notices_kinds"]


def _reprice(runtime: Any, product_id: str, price: float) -> None:
    from assistant.models import ProductRow

    with runtime.db.session() as s:
        row = s.get(ProductRow, product_id)
        row.price = price
    runtime.index.update_products([runtime.index.get(product_id).model_copy(update={"price": price})])
    runtime.index.commit()


@pytest.fixture(scope="module")
def client(chat_app: Any) -> Iterator[TestClient]:
    with TestClient(chat_app) as c:
        yield c


@pytest.mark.parametrize(
    ("script", "conv"), CONVERSATIONS, ids=[f"{s}:{c['name']}" for s, c in CONVERSATIONS]
)
def test_conversation(script: str, conv: dict[str, Any], client: TestClient, chat_runtime: Any) -> None:
    from assistant import commerce

    session_id = None
    history: list[dict[str, Any]] = []
    for i, step in enumerate(conv["turns"]):
        if "reprice" in step:  # the store changes a price (as an ingest would) mid-conversation
            pid = _ref(history, step["reprice"]["ref"])
            _reprice(chat_runtime, pid, float(step["reprice"]["price"]))
            history.append({"products": [], "order": None})
            continue
        if "staff_reply" in step:
            with chat_runtime.db.session() as s:
                commerce.staff_reply(s, session_id=session_id, text=step["staff_reply"])
            history.append({"products": [], "order": None})
            continue
        r = client.post("/v1/chat", json={"session_id": session_id, "message": step["say"]})
        assert r.status_code == 200, r.text
        body = r.json()
        _check_contract(body)
        session_id = body["session_id"]
        try:
            _check(body, step.get("expect", {}), history)
        except AssertionError as exc:
            raise AssertionError(f"turn {i} {step['say']!r}: {exc}\nreply: {body['reply']}") from exc
        history.append(body)
