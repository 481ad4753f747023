"""The order webhook against a real local HTTP server: signed, retried with backoff, never blocking."""

from __future__ import annotations

import json
import threading
import time

import pytest

from assistant.commerce import (
    SIGNATURE_HEADER,
    OrderWebhook,
    add_to_cart,
    place_order,
    sign_payload,
    verify_signature,
)
from assistant.config import Settings
from assistant.db import Database
from tests.commerce.factories import SECRET, hook_server

ADDRESS = {
    "name": "Jane Doe",
    "line1": "10 Downing Street",
    "city": "London",
    "postal_code": "SW1A 2AA",
    "country": "GB",
}


def place(db: Database, sid: str, product_id: str, webhook: OrderWebhook) -> str:
    with db.session() as s:
        add_to_cart(s, session_id=sid, product_id=product_id, quantity=2)
    with db.session() as s:
        order = place_order(s, session_id=sid, email="jane@example.com", address=ADDRESS, notifier=webhook)
    return order.id


def test_order_placed_is_delivered_and_signed(db: Database, sid: str, catalog: dict[str, str]) -> None:
    with hook_server([]) as hook:
        webhook = OrderWebhook(hook.url, secret=SECRET, backoff_s=0.01)
        order_id = place(db, sid, catalog["shirt"], webhook)
        assert webhook.wait(10)
        hook.wait_for(1)
    headers, body = hook.requests[0]
    assert verify_signature(SECRET, body, headers[SIGNATURE_HEADER.lower()])
    assert headers[SIGNATURE_HEADER.lower()] == sign_payload(SECRET, body)
    assert not verify_signature("wrong", body, headers[SIGNATURE_HEADER.lower()])
    assert headers["content-type"] == "application/json" and headers["x-shopassist-event"] == "order.placed"
    doc = json.loads(body)
    assert doc["type"] == "order.placed" and doc["id"].startswith("evt_")
    order = doc["order"]
    assert order["id"] == order_id and order["status"] == "placed" and order["total"] == 39.98
    assert order["email"] == "jane@example.com" and order["shipping_address"]["postal_code"] == "SW1A 2AA"
    assert order["items"] == [
        {"product_id": "SHIRT-1", "title": "Linen Shirt", "quantity": 2, "unit_price": 19.99}
    ]
    assert sid not in body.decode()  # the session id is a bearer secret; the store never needs it


def test_retried_after_a_500_with_the_same_body(db: Database, sid: str, catalog: dict[str, str]) -> None:
    with hook_server([500]) as hook:
        webhook = OrderWebhook(hook.url, secret=SECRET, backoff_s=0.01)
        place(db, sid, catalog["shirt"], webhook)
        assert webhook.wait(10)
        hook.wait_for(2)
        time.sleep(0.1)
    assert len(hook.requests) == 2
    (h1, b1), (h2, b2) = hook.requests
    assert b1 == b2 and h1["x-shopassist-delivery"] == h2["x-shopassist-delivery"]
    assert verify_signature(SECRET, b2, h2[SIGNATURE_HEADER.lower()])


def test_attempts_are_bounded_and_4xx_is_final() -> None:
    with hook_server([503] * 10) as hook:
        webhook = OrderWebhook(hook.url, secret=SECRET, attempts=3, backoff_s=0.01)
        assert webhook.deliver("order.placed", "evt_1", b"{}") is False
        assert len(hook.requests) == 3
    with hook_server([400, 200]) as hook:
        webhook = OrderWebhook(hook.url, secret=SECRET, attempts=3, backoff_s=0.01)
        assert webhook.deliver("order.placed", "evt_2", b"{}") is False
        assert len(hook.requests) == 1
    with hook_server([429, 200]) as hook:
        webhook = OrderWebhook(hook.url, attempts=3, backoff_s=0.01)
        assert webhook.deliver("order.placed", "evt_3", b"{}") is True
        assert len(hook.requests) == 2
        assert SIGNATURE_HEADER.lower() not in hook.requests[0][0]  # no secret, no signature


def test_an_unreachable_receiver_never_blocks_or_fails_the_order(
    db: Database, sid: str, catalog: dict[str, str]
) -> None:
    with hook_server([]) as hook:
        url = hook.url  # the server is gone after this block: connections are refused
    webhook = OrderWebhook(url, secret=SECRET, attempts=2, backoff_s=0.01, timeout_s=1)
    start = time.monotonic()
    order_id = place(db, sid, catalog["shirt"], webhook)
    assert time.monotonic() - start < 1.0 and len(order_id) == 8
    assert webhook.wait(10)


def test_close_stops_waiting_between_retries() -> None:
    with hook_server([500] * 5) as hook:
        webhook = OrderWebhook(hook.url, attempts=5, backoff_s=30)
        result: list[bool] = []
        t = threading.Thread(target=lambda: result.append(webhook.deliver("order.placed", "evt", b"{}")))
        t.start()
        hook.wait_for(1)
        webhook.close()
        t.join(5)
    assert result == [False] and len(hook.requests) == 1


def test_from_settings() -> None:
    assert OrderWebhook.from_settings(Settings()) is None
    hook = OrderWebhook.from_settings(
        Settings(order_webhook_url="https://shop.example/hooks", order_webhook_secret="k")
    )
    assert hook is not None and hook.url == "https://shop.example/hooks" and hook.secret == "k"
    with pytest.raises(ValueError):
        OrderWebhook("ftp://nope")


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPASSIST_ORDER_WEBHOOK_URL", "http://127.0.0.1:9/x")
    monkeypatch.setenv("SHOPASSIST_ORDER_WEBHOOK_SECRET", "abc")
    s = Settings()
    assert (s.order_webhook_url, s.order_webhook_secret) == ("http://127.0.0.1:9/x", "abc")


def test_events_arrive_in_order_even_when_the_first_is_retried(
    db: Database, sid: str, catalog: dict[str, str]
) -> None:
    from assistant.commerce import cancel_order

    with hook_server([500]) as hook:
        webhook = OrderWebhook(hook.url, secret=SECRET, backoff_s=0.05)
        order_id = place(db, sid, catalog["shirt"], webhook)
        with db.session() as s:
            cancel_order(s, order_id=order_id, session_id=sid, notifier=webhook)
        assert webhook.wait(10)
        webhook.close()
    kinds = [json.loads(body)["type"] for _, body in hook.requests]
    assert kinds == ["order.placed", "order.placed", "order.cancelled"]
