"""The commerce routes through the real app (TestClient): cart, orders, notices, events, error envelopes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from api.routers.orders import get_order_webhook
from assistant.commerce import (
    OrderWebhook,
    add_notice,
    create_session,
    set_order_status,
    verify_signature,
)
from assistant.config import Settings
from assistant.runtime import Runtime
from tests.commerce.factories import ADDRESS, SECRET, hook_server, insert_product, update_product


@pytest.fixture
def shop(runtime: Runtime) -> dict[str, str]:
    return {
        "shirt": insert_product(runtime.db, "SHIRT-1", 19.99, title="Linen Shirt"),
        "socks": insert_product(runtime.db, "SOCKS-2", 0.1, title="Wool Socks"),
        "gone": insert_product(runtime.db, "GONE-5", 5.0, title="Old Mug", in_stock=False),
    }


@pytest.fixture
def new_sid(runtime: Runtime) -> Callable[[], str]:
    def make() -> str:
        with runtime.db.session() as s:
            return create_session(s).id

    return make


@pytest.fixture
def api_sid(new_sid: Callable[[], str]) -> str:
    return new_sid()


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return dict(body["error"])


def order_body(sid: str, **changes: Any) -> dict[str, Any]:
    return {"session_id": sid, "email": "jane@example.com", "shipping_address": dict(ADDRESS), **changes}


def checkout(client: TestClient, sid: str, key: str, **changes: Any) -> Any:
    return client.post("/v1/orders", json=order_body(sid, **changes), headers={"Idempotency-Key": key})


# ---------------------------------------------------------------------------- cart


def test_cart_routes_answer_the_cart(client: TestClient, api_sid: str, shop: dict[str, str]) -> None:
    base = f"/v1/sessions/{api_sid}/cart"
    assert client.get(base).json() == {"items": [], "total": 0.0, "currency": "USD"}
    r = client.post(f"{base}/items", json={"product_id": shop["socks"], "quantity": 3})
    assert r.status_code == 200
    r = client.post(f"{base}/items", json={"product_id": shop["shirt"]})
    assert r.json() == {
        "items": [
            {
                "product_id": "SOCKS-2",
                "title": "Wool Socks",
                "quantity": 3,
                "unit_price": 0.1,
                "line_total": 0.3,
            },
            {
                "product_id": "SHIRT-1",
                "title": "Linen Shirt",
                "quantity": 1,
                "unit_price": 19.99,
                "line_total": 19.99,
            },
        ],
        "total": 20.29,
        "currency": "USD",
    }
    r = client.patch(f"{base}/items/{shop['shirt']}", json={"quantity": 2})
    assert r.json()["total"] == 40.28
    r = client.delete(f"{base}/items/{shop['socks']}")
    assert [i["product_id"] for i in r.json()["items"]] == ["SHIRT-1"]
    r = client.patch(f"{base}/items/{shop['shirt']}", json={"quantity": 0})
    assert r.json()["items"] == [] and client.get(base).json()["total"] == 0.0


def test_cart_errors_in_the_envelope(client: TestClient, api_sid: str, shop: dict[str, str]) -> None:
    base = f"/v1/sessions/{api_sid}/cart"
    assert_error(client.post(f"{base}/items", json={"product_id": "NOPE"}), 404, "product_not_found")
    assert_error(client.post(f"{base}/items", json={"product_id": shop["gone"]}), 409, "out_of_stock")
    assert_error(
        client.post(f"{base}/items", json={"product_id": shop["shirt"], "quantity": 0}),
        422,
        "invalid_quantity",
    )
    assert_error(
        client.post(f"{base}/items", json={"product_id": shop["shirt"], "quantity": 100}),
        422,
        "invalid_quantity",
    )
    assert_error(client.post(f"{base}/items", json={"quantity": 1}), 422, "invalid_request")
    assert_error(client.patch(f"{base}/items/{shop['shirt']}", json={"quantity": 2}), 404, "not_in_cart")
    assert_error(client.delete(f"{base}/items/{shop['shirt']}"), 404, "not_in_cart")
    assert_error(client.get(f"/v1/sessions/{'A' * 43}/cart"), 404, "session_not_found")


@pytest.mark.parametrize(
    "path",
    [
        "/v1/sessions/short/cart",
        "/v1/sessions/..%2F..%2Fetc%2Fpasswd/cart",
        "/v1/sessions/../../etc/passwd/cart",
        "/v1/sessions/%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00/cart",
        "/v1/sessions/{sid}/cart/items/..%2F..%2Fsecret",
        "/v1/sessions/{sid}/cart/items/%3Cscript%3E",
        "/v1/sessions/{sid}/notices",
    ],
)
def test_bad_ids_in_paths_are_4xx_envelopes(client: TestClient, api_sid: str, path: str) -> None:
    path = path.replace("{sid}", api_sid)
    for method in ("GET", "DELETE", "PATCH"):
        r = client.request(method, path, json={"quantity": 1} if method == "PATCH" else None)
        if path.endswith("/notices") and method == "GET":
            assert r.status_code == 200
            continue
        assert 400 <= r.status_code < 500, (method, path, r.status_code)
        assert set(r.json()) == {"error"}


def test_one_session_cannot_touch_another_sessions_cart(
    client: TestClient, new_sid: Callable[[], str], shop: dict[str, str]
) -> None:
    mine, theirs = new_sid(), new_sid()
    client.post(f"/v1/sessions/{mine}/cart/items", json={"product_id": shop["shirt"]})
    assert client.get(f"/v1/sessions/{theirs}/cart").json()["items"] == []
    assert_error(client.delete(f"/v1/sessions/{theirs}/cart/items/{shop['shirt']}"), 404, "not_in_cart")
    assert len(client.get(f"/v1/sessions/{mine}/cart").json()["items"]) == 1


# ---------------------------------------------------------------------------- orders


def test_place_order_is_idempotent(client: TestClient, api_sid: str, shop: dict[str, str]) -> None:
    client.post(f"/v1/sessions/{api_sid}/cart/items", json={"product_id": shop["shirt"], "quantity": 2})
    first = checkout(client, api_sid, "key-1")
    assert first.status_code == 201, first.text
    order = first.json()
    assert set(order) == {"id", "status", "items", "total", "currency", "created_at"}
    assert re.fullmatch(r"[A-Z0-9]{8}", order["id"]) and order["status"] == "placed"
    assert order["total"] == 39.98 and order["items"][0]["quantity"] == 2
    assert "idempotent-replayed" not in first.headers
    assert client.get(f"/v1/sessions/{api_sid}/cart").json()["items"] == []

    again = checkout(client, api_sid, "key-1")
    assert again.status_code == 201 and again.json() == order
    assert again.headers["Idempotent-Replayed"] == "true"

    assert_error(checkout(client, api_sid, "key-1", email="other@example.com"), 409, "idempotency_conflict")
    assert_error(checkout(client, api_sid, "key-2"), 409, "cart_empty")
    got = client.get(f"/v1/orders/{order['id']}", params={"session_id": api_sid})
    assert got.status_code == 200 and got.json() == order


def test_order_errors_in_the_envelope(client: TestClient, api_sid: str, shop: dict[str, str]) -> None:
    client.post(f"/v1/sessions/{api_sid}/cart/items", json={"product_id": shop["shirt"]})
    r = client.post("/v1/orders", json=order_body(api_sid))
    assert_error(r, 400, "idempotency_key_required")
    assert_error(checkout(client, api_sid, "k", email="jane@"), 422, "invalid_email")
    bad = dict(ADDRESS, postal_code="6270")
    err = assert_error(checkout(client, api_sid, "k", shipping_address=bad), 422, "invalid_address")
    assert "ZIP" in err["message"]
    err = assert_error(
        checkout(client, api_sid, "k", shipping_address=dict(ADDRESS, country=None)), 422, "invalid_address"
    )
    assert "country" in err["message"]
    assert_error(
        checkout(client, api_sid, "k", shipping_address=dict(ADDRESS, floor="2")), 422, "invalid_request"
    )
    assert_error(checkout(client, api_sid, "has space"), 422, "invalid_idempotency_key")
    assert_error(checkout(client, api_sid, "x" * 201), 422, "invalid_idempotency_key")
    assert_error(checkout(client, "B" * 43, "k"), 404, "session_not_found")
    assert_error(checkout(client, "../etc", "k"), 404, "session_not_found")


def test_out_of_stock_and_price_changed_through_the_api(
    client: TestClient, runtime: Runtime, api_sid: str, shop: dict[str, str]
) -> None:
    client.post(f"/v1/sessions/{api_sid}/cart/items", json={"product_id": shop["shirt"], "quantity": 2})
    client.post(f"/v1/sessions/{api_sid}/cart/items", json={"product_id": shop["socks"]})
    update_product(runtime.db, shop["socks"], in_stock=False)
    err = assert_error(checkout(client, api_sid, "k1"), 409, "out_of_stock")
    assert "Wool Socks" in err["message"]
    client.delete(f"/v1/sessions/{api_sid}/cart/items/{shop['socks']}")
    update_product(runtime.db, shop["shirt"], price=21.5)
    err = assert_error(checkout(client, api_sid, "k1"), 409, "price_changed")
    assert "43.00 USD" in err["message"]
    # the 409 took the new prices into the cart: the shopper sees them, and sending again places it
    assert client.get(f"/v1/sessions/{api_sid}/cart").json()["total"] == 43.0
    r = checkout(client, api_sid, "k1")
    assert r.status_code == 201 and r.json()["total"] == 43.0


def test_orders_are_private_to_their_session(
    client: TestClient, new_sid: Callable[[], str], shop: dict[str, str]
) -> None:
    mine, theirs = new_sid(), new_sid()
    client.post(f"/v1/sessions/{mine}/cart/items", json={"product_id": shop["shirt"]})
    order_id = checkout(client, mine, "k").json()["id"]
    assert_error(client.get(f"/v1/orders/{order_id}", params={"session_id": theirs}), 404, "order_not_found")
    assert_error(client.get("/v1/orders/ZZZZZZZZ", params={"session_id": theirs}), 404, "order_not_found")
    assert_error(
        client.get(f"/v1/orders/{order_id}", params={"session_id": "garbage"}), 404, "order_not_found"
    )
    assert_error(
        client.post(f"/v1/orders/{order_id}/cancel", json={"session_id": theirs}), 404, "order_not_found"
    )
    assert_error(client.get(f"/v1/orders/{order_id}"), 422, "invalid_request")
    assert client.get(f"/v1/orders/{order_id.lower()}", params={"session_id": mine}).status_code == 200


def test_cancel_before_shipping_only(
    client: TestClient, runtime: Runtime, new_sid: Callable[[], str], shop: dict[str, str]
) -> None:
    sid = new_sid()
    client.post(f"/v1/sessions/{sid}/cart/items", json={"product_id": shop["shirt"]})
    first = checkout(client, sid, "k1").json()["id"]
    client.post(f"/v1/sessions/{sid}/cart/items", json={"product_id": shop["socks"]})
    second = checkout(client, sid, "k2").json()["id"]
    r = client.post(f"/v1/orders/{first}/cancel", params={"session_id": sid})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert_error(
        client.post(f"/v1/orders/{first}/cancel", json={"session_id": sid}), 409, "invalid_status_change"
    )
    with runtime.db.session() as s:
        set_order_status(s, order_id=second, status="shipped")
    assert_error(
        client.post(f"/v1/orders/{second}/cancel", json={"session_id": sid}), 409, "invalid_status_change"
    )
    assert_error(client.post(f"/v1/orders/{second}/cancel"), 422, "invalid_request")
    assert client.get(f"/v1/orders/{second}", params={"session_id": sid}).json()["status"] == "shipped"


def test_placed_order_goes_to_the_webhook(
    client: TestClient, runtime: Runtime, api_sid: str, shop: dict[str, str]
) -> None:
    with hook_server([]) as hook:
        webhook = OrderWebhook(hook.url, secret=SECRET, backoff_s=0.01)
        client.app.dependency_overrides[get_order_webhook] = lambda: webhook  # type: ignore[attr-defined]
        client.post(f"/v1/sessions/{api_sid}/cart/items", json={"product_id": shop["shirt"]})
        order = checkout(client, api_sid, "hooked").json()
        checkout(client, api_sid, "hooked")  # a replay is not sent again
        client.post(f"/v1/orders/{order['id']}/cancel", json={"session_id": api_sid})
        assert webhook.wait(10)
        hook.wait_for(2)
        webhook.close()
    docs = [json.loads(body) for _, body in hook.requests]
    assert [d["type"] for d in docs] == ["order.placed", "order.cancelled"]
    assert docs[0]["order"]["id"] == order["id"] and docs[1]["order"]["status"] == "cancelled"
    assert all(verify_signature(SECRET, body, h["x-shopassist-signature"]) for h, body in hook.requests)


def test_webhook_comes_from_the_settings(settings: Settings) -> None:
    from api.app import create_app

    rt = Runtime(settings.model_copy(update={"order_webhook_url": "http://127.0.0.1:9/hook"}))
    try:
        assert rt.order_webhook is not None and rt.order_webhook.url == "http://127.0.0.1:9/hook"
        app = create_app(runtime=rt)
        with TestClient(app):
            request = type("R", (), {"app": app})()
            assert get_order_webhook(request) is rt.order_webhook  # type: ignore[arg-type]
    finally:
        rt.close()
    no_hook = Runtime(settings)
    assert no_hook.order_webhook is None
    no_hook.close()


# ---------------------------------------------------------------------------- notices and events


def test_notices_polling(client: TestClient, runtime: Runtime, api_sid: str) -> None:
    url = f"/v1/sessions/{api_sid}/notices"
    assert client.get(url).json() == {"notices": []}
    with runtime.db.session() as s:
        add_notice(s, session_id=api_sid, kind="staff_message", text="Hi, this is Sam.")
    first = client.get(url).json()["notices"]
    assert [(n["kind"], n["text"], n["data"]) for n in first] == [("staff_message", "Hi, this is Sam.", {})]
    after = first[-1]["created_at"]
    assert client.get(url, params={"after": after}).json() == {"notices": []}
    with runtime.db.session() as s:
        add_notice(s, session_id=api_sid, kind="order_update", text="Shipped", data={"order_id": "K7M2Q9XD"})
    newer = client.get(url, params={"after": after}).json()["notices"]
    assert [n["text"] for n in newer] == ["Shipped"] and newer[0]["data"] == {"order_id": "K7M2Q9XD"}
    # an offset, and a '+' that an unencoded query string turned into a space
    offset = after.replace("Z", "+00:00")
    assert len(client.get(f"{url}?after={quote(offset)}").json()["notices"]) == 1
    assert len(client.get(f"{url}?after={offset}").json()["notices"]) == 1
    assert len(client.get(url, params={"after": "2000-01-01"}).json()["notices"]) == 2
    assert len(client.get(url, params={"limit": 1}).json()["notices"]) == 1
    assert_error(client.get(url, params={"after": "yesterday"}), 422, "invalid_after")
    assert_error(client.get(f"/v1/sessions/{'C' * 43}/notices"), 404, "session_not_found")


def test_events(client: TestClient, api_sid: str, shop: dict[str, str]) -> None:
    r = client.post("/v1/events", json={"session_id": api_sid, "type": "view", "product_id": shop["shirt"]})
    assert r.status_code == 202 and r.json() == {"status": "accepted"}
    body = {"session_id": api_sid, "type": "order", "product_id": shop["shirt"]}
    assert_error(client.post("/v1/events", json=body), 422, "invalid_request")  # server-side types only
    body = {"session_id": api_sid, "type": "click", "product_id": "NOPE"}
    assert_error(client.post("/v1/events", json=body), 404, "product_not_found")
    body = {"session_id": "D" * 43, "type": "click", "product_id": shop["shirt"]}
    assert_error(client.post("/v1/events", json=body), 404, "session_not_found")
    body = {"session_id": api_sid, "type": "click", "product_id": "../x"}
    assert_error(client.post("/v1/events", json=body), 422, "invalid_request")


def test_openapi_lists_the_commerce_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/v1/sessions/{session_id}/cart",
        "/v1/sessions/{session_id}/cart/items",
        "/v1/sessions/{session_id}/cart/items/{product_id}",
        "/v1/orders",
        "/v1/orders/{order_id}",
        "/v1/orders/{order_id}/cancel",
        "/v1/sessions/{session_id}/notices",
        "/v1/events",
    } <= set(paths)
    assert paths["/v1/orders"]["post"]["operationId"] == "place_order"
