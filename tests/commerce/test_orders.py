"""Orders: placing (checks, idempotency, concurrency), reading, cancelling, staff status changes."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from assistant.commerce import (
    ORDER_ID_PATTERN,
    Order,
    add_to_cart,
    cancel_order,
    get_cart,
    get_order,
    new_order_id,
    normalise_order_id,
    orders_of_session,
    place_order,
    refresh_cart,
    request_fingerprint,
    set_order_status,
    take_notices,
)
from assistant.db import Database
from assistant.errors import (
    CartEmpty,
    IdempotencyConflict,
    InvalidAddress,
    InvalidEmail,
    InvalidRequest,
    InvalidStatusChange,
    OrderNotFound,
    OutOfStock,
    PriceChanged,
    SessionNotFound,
)
from assistant.models import EventRow, OrderItemRow, OrderRow
from tests.commerce.factories import ADDRESS

EMAIL = "jane@example.com"


def fill_cart(db: Database, sid: str, items: dict[str, int]) -> None:
    with db.session() as s:
        for pid, qty in items.items():
            add_to_cart(s, session_id=sid, product_id=pid, quantity=qty)


def place(db: Database, sid: str, **kw: Any) -> Order:
    with db.session() as s:
        return place_order(
            s, session_id=sid, email=kw.pop("email", EMAIL), address=kw.pop("address", ADDRESS), **kw
        )


def count(db: Database, model: Any) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_order_ids_are_8_upper_case_letters_and_digits_and_unique() -> None:
    ids = [new_order_id() for _ in range(20_000)]
    assert all(re.fullmatch(ORDER_ID_PATTERN, i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert set("".join(ids)) == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("K7M2Q9XD", "K7M2Q9XD"),
        ("#k7m2-q9xd", "K7M2Q9XD"),
        ("k7m2 q9xd", "K7M2Q9XD"),
        ("K7M2Q9X", None),
        ("", None),
    ],
)
def test_normalise_order_id(text: str, expected: str | None) -> None:
    assert normalise_order_id(text) == expected


def test_place_order_snapshots_the_cart_and_empties_it(
    db: Database, sid: str, catalog: dict[str, str]
) -> None:
    fill_cart(db, sid, {catalog["socks"]: 3, catalog["lamp"]: 1, catalog["shirt"]: 2})
    order = place(db, sid, idempotency_key="k-1")
    assert re.fullmatch(ORDER_ID_PATTERN, order.id)
    assert order.status == "placed" and not order.replayed
    assert order.total == Decimal("40.48")
    public = order.to_public()
    assert set(public) == {"id", "status", "items", "total", "currency", "created_at"}
    assert public["total"] == 40.48 and public["currency"] == "USD"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", public["created_at"])
    assert sorted((i["product_id"], i["quantity"], i["unit_price"]) for i in public["items"]) == [
        ("LAMP-3", 1, 0.2),
        ("SHIRT-1", 2, 19.99),
        ("SOCKS-2", 3, 0.1),
    ]
    assert order.shipping_address["postal_code"] == "62704" and order.email == EMAIL
    with db.session() as s:
        assert get_cart(s, session_id=sid).is_empty
        events = s.scalars(select(EventRow.product_id).where(EventRow.type == "order")).all()
        assert sorted(events) == ["LAMP-3", "SHIRT-1", "SOCKS-2"]
        assert get_order(s, order_id=order.id, session_id=sid) == order
        assert [o.id for o in orders_of_session(s, session_id=sid)] == [order.id]


def test_empty_cart_is_refused(db: Database, sid: str) -> None:
    with pytest.raises(CartEmpty):
        place(db, sid)


def test_unknown_session_is_refused(db: Database) -> None:
    with pytest.raises(SessionNotFound):
        place(db, "A" * 43)


@pytest.mark.parametrize("flag", [{"in_stock": False}, {"active": False}])
def test_out_of_stock_items_cannot_be_ordered(
    db: Database, sid: str, catalog: dict[str, str], set_product: Callable[..., None], flag: dict[str, bool]
) -> None:
    fill_cart(db, sid, {catalog["shirt"]: 1, catalog["sofa"]: 1})
    set_product(catalog["sofa"], **flag)
    with pytest.raises(OutOfStock) as exc:
        place(db, sid, idempotency_key="k")
    assert exc.value.product_ids == ["SOFA-4"] and "Grey Sofa" in exc.value.message
    assert count(db, OrderRow) == 0
    with db.session() as s:
        assert len(get_cart(s, session_id=sid).items) == 2  # nothing was taken out


def test_price_change_since_carting_then_refresh_and_place(
    db: Database, sid: str, catalog: dict[str, str], set_product: Callable[..., None]
) -> None:
    fill_cart(db, sid, {catalog["shirt"]: 2, catalog["sofa"]: 1})
    set_product(catalog["shirt"], price=24.99)
    with pytest.raises(PriceChanged) as exc:
        place(db, sid, idempotency_key="key-1")
    assert exc.value.new_total == 698.98 and exc.value.old_total == 688.98
    assert "698.98 USD" in exc.value.message and "Linen Shirt" in exc.value.message
    assert exc.value.status_code == 409 and exc.value.code == "price_changed"
    with db.session() as s:
        assert refresh_cart(s, session_id=sid).total == Decimal("698.98")
    order = place(db, sid, idempotency_key="key-1", confirmed_total=698.98)  # the same key works again
    assert order.total == Decimal("698.98")


def test_confirmed_total_must_match_the_current_total(
    db: Database, sid: str, catalog: dict[str, str]
) -> None:
    fill_cart(db, sid, {catalog["shirt"]: 1})
    with pytest.raises(PriceChanged) as exc:
        place(db, sid, confirmed_total=17.0)
    assert exc.value.new_total == 19.99 and exc.value.old_total == 17.0
    assert place(db, sid, confirmed_total=Decimal("19.99")).total == Decimal("19.99")


def test_invalid_details_are_refused_before_anything_is_written(
    db: Database, sid: str, catalog: dict[str, str]
) -> None:
    fill_cart(db, sid, {catalog["shirt"]: 1})
    with pytest.raises(InvalidEmail):
        place(db, sid, email="jane@")
    with pytest.raises(InvalidAddress) as exc:
        place(db, sid, address={**ADDRESS, "postal_code": "1"})
    assert exc.value.field == "postal_code"
    with pytest.raises(InvalidRequest, match="idempotency key"):
        place(db, sid, idempotency_key="has space")
    assert count(db, OrderRow) == 0


# ---------------------------------------------------------------------------- idempotency


def test_same_key_same_request_returns_the_same_order(
    db: Database, sid: str, catalog: dict[str, str]
) -> None:
    fill_cart(db, sid, {catalog["shirt"]: 1})
    first = place(db, sid, idempotency_key="abc")
    again = place(db, sid, idempotency_key="abc", email="  jane@EXAMPLE.com ")  # same after normalising
    assert again.replayed and again.id == first.id and again.to_public() == first.to_public()
    assert count(db, OrderRow) == 1 and count(db, OrderItemRow) == 1


def test_same_key_other_request_is_a_conflict(
    db: Database, sid: str, catalog: dict[str, str], session_factory: Callable[[], str]
) -> None:
    fill_cart(db, sid, {catalog["shirt"]: 1})
    place(db, sid, idempotency_key="abc")
    with pytest.raises(IdempotencyConflict) as exc:
        place(db, sid, idempotency_key="abc", email="other@example.com")
    assert exc.value.status_code == 409 and exc.value.code == "idempotency_conflict"
    other = session_factory()
    fill_cart(db, other, {catalog["shirt"]: 1})
    with pytest.raises(IdempotencyConflict):  # another session cannot reuse (or read) it either
        place(db, other, idempotency_key="abc")


def test_explicit_request_hash(db: Database, sid: str, catalog: dict[str, str]) -> None:
    fill_cart(db, sid, {catalog["shirt"]: 1})
    first = place(db, sid, idempotency_key="k", request_hash="h1")
    assert place(db, sid, idempotency_key="k", request_hash="h1").id == first.id
    with pytest.raises(IdempotencyConflict):
        place(db, sid, idempotency_key="k", request_hash="h2")
    fp = request_fingerprint(session_id=sid, email=EMAIL, address=ADDRESS)
    assert fp == request_fingerprint(
        session_id=sid, email="jane@Example.COM", address={**ADDRESS, "country": "usa"}
    )
    assert fp != request_fingerprint(session_id=sid, email=EMAIL, address={**ADDRESS, "line2": ""})


def _race(n: int, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # collected and asserted on below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_twenty_concurrent_requests_with_one_key_make_one_order(
    db: Database, sid: str, catalog: dict[str, str]
) -> None:
    fill_cart(db, sid, {catalog["shirt"]: 2, catalog["sofa"]: 1})
    results = _race(20, lambda _: place(db, sid, idempotency_key="race-key"))
    assert all(isinstance(r, Order) for r in results), [r for r in results if not isinstance(r, Order)]
    assert len({r.id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert count(db, OrderRow) == 1 and count(db, OrderItemRow) == 2


def test_twenty_concurrent_checkouts_with_different_keys_order_the_cart_once(
    db: Database, sid: str, catalog: dict[str, str]
) -> None:
    fill_cart(db, sid, {catalog["shirt"]: 1})
    results = _race(20, lambda i: place(db, sid, idempotency_key=f"key-{i}"))
    orders = [r for r in results if isinstance(r, Order)]
    assert len(orders) == 1
    assert all(isinstance(r, CartEmpty) for r in results if not isinstance(r, Order))
    assert count(db, OrderRow) == 1 and count(db, OrderItemRow) == 1


# ---------------------------------------------------------------------------- reading, cancelling, status


def test_another_sessions_order_is_not_found(
    db: Database, sid: str, catalog: dict[str, str], session_factory: Callable[[], str]
) -> None:
    fill_cart(db, sid, {catalog["shirt"]: 1})
    order = place(db, sid)
    other = session_factory()
    with db.session() as s:
        with pytest.raises(OrderNotFound) as exc:
            get_order(s, order_id=order.id, session_id=other)
        with pytest.raises(OrderNotFound) as missing:
            get_order(s, order_id="ZZZZZZZZ", session_id=other)
        assert exc.value.message.replace(order.id, "X") == missing.value.message.replace("ZZZZZZZZ", "X")
        with pytest.raises(OrderNotFound):
            cancel_order(s, order_id=order.id, session_id=other)
        assert orders_of_session(s, session_id=other) == []
        assert get_order(s, order_id=order.id.lower(), session_id=sid).id == order.id


def test_cancel_only_before_shipping(db: Database, sid: str, catalog: dict[str, str]) -> None:
    fill_cart(db, sid, {catalog["shirt"]: 1})
    first = place(db, sid)
    fill_cart(db, sid, {catalog["sofa"]: 1})
    second = place(db, sid)
    with db.session() as s:
        assert cancel_order(s, order_id=first.id, session_id=sid).status == "cancelled"
        with pytest.raises(InvalidStatusChange):
            cancel_order(s, order_id=first.id, session_id=sid)
        set_order_status(s, order_id=second.id, status="shipped")
        with pytest.raises(InvalidStatusChange) as exc:
            cancel_order(s, order_id=second.id, session_id=sid)
    assert exc.value.status_code == 409 and "'shipped'" in exc.value.message


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        (["shipped", "delivered"], "placed"),
        (["shipped"], "cancelled"),
        (["cancelled"], "shipped"),
        ([], "delivered"),
        (["shipped", "delivered"], "cancelled"),
    ],
)
def test_status_transitions(
    db: Database, sid: str, catalog: dict[str, str], path: list[str], bad: str
) -> None:
    fill_cart(db, sid, {catalog["shirt"]: 1})
    order = place(db, sid)
    with db.session() as s:
        for status in path:
            assert set_order_status(s, order_id=order.id, status=status).status == status
        with pytest.raises(InvalidStatusChange):
            set_order_status(s, order_id=order.id, status=bad)


def test_status_change_notifies_the_session(db: Database, sid: str, catalog: dict[str, str]) -> None:
    fill_cart(db, sid, {catalog["shirt"]: 1})
    order = place(db, sid)
    with db.session() as s:
        set_order_status(s, order_id=order.id, status="shipped")
        set_order_status(s, order_id=order.id, status="shipped")  # a retried request changes nothing
        set_order_status(s, order_id=order.id, status="delivered")
    with db.session() as s:
        notices = take_notices(s, session_id=sid)
        assert [(n.kind, n.data) for n in notices] == [
            ("order_update", {"order_id": order.id, "status": "shipped"}),
            ("order_update", {"order_id": order.id, "status": "delivered"}),
        ]
        assert order.id in notices[0].text and "shipped" in notices[0].text
        assert get_order(s, order_id=order.id, session_id=sid).status == "delivered"
        with pytest.raises(InvalidRequest, match="unknown order status"):
            set_order_status(s, order_id=order.id, status="lost")
        with pytest.raises(OrderNotFound):
            set_order_status(s, order_id="NOPE", status="shipped")


# ---------------------------------------------------------------------------- notifier after commit


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def notify(self, event_type: str, order: Order) -> None:
        self.events.append((event_type, order.id))


def test_notifier_runs_after_commit_and_not_after_rollback(
    db: Database, sid: str, catalog: dict[str, str]
) -> None:
    rec = Recorder()
    fill_cart(db, sid, {catalog["shirt"]: 1})
    with pytest.raises(RuntimeError), db.session() as s:
        place_order(s, session_id=sid, email=EMAIL, address=ADDRESS, notifier=rec)
        assert rec.events == []  # not before the commit
        raise RuntimeError("the turn failed later")
    assert rec.events == [] and count(db, OrderRow) == 0
    with db.session() as s:
        order = place_order(
            s, session_id=sid, email=EMAIL, address=ADDRESS, notifier=rec, idempotency_key="n"
        )
        assert rec.events == []
    assert rec.events == [("order.placed", order.id)]
    with db.session() as s:  # a replay does not notify again
        place_order(s, session_id=sid, email=EMAIL, address=ADDRESS, notifier=rec, idempotency_key="n")
        cancel_order(s, order_id=order.id, session_id=sid, notifier=rec)
    assert rec.events == [("order.placed", order.id), ("order.cancelled", order.id)]
