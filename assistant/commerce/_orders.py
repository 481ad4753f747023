"""Orders: placing one from the cart (idempotent), reading, cancelling, staff status changes.

Placing re-checks the cart against the catalog: out-of-stock or no-longer-sold items refuse the
order (:class:`OutOfStock`); a price that changed since carting, or a total other than the one the
shopper confirmed, refuses it with the new total (:class:`PriceChanged`) so the caller can ask again
(after :func:`refresh_cart`).  An ``idempotency_key`` makes retries safe: the same key and the same
request give back the same order; the same key with another request is :class:`IdempotencyConflict`.
Concurrent callers are serialised on the session row, and the unique key decides any race that is left.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Protocol

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.commerce._cart import _rows as _cart_rows
from assistant.commerce._checkout import Address, validate_address, validate_email
from assistant.commerce._common import as_utc, call_after_commit, iso, money, to_float
from assistant.commerce._events import add_event
from assistant.commerce._notices import add_notice
from assistant.commerce._sessions import get_session, is_valid_session_id
from assistant.errors import (
    CartEmpty,
    IdempotencyConflict,
    InvalidRequest,
    InvalidStatusChange,
    OrderNotFound,
    OutOfStock,
    PriceChanged,
)
from assistant.models import CartItemRow, OrderItemRow, OrderRow, utcnow

__all__ = [
    "ORDER_STATUSES",
    "ORDER_ID_PATTERN",
    "IDEMPOTENCY_KEY_PATTERN",
    "Order",
    "OrderItem",
    "OrderNotifier",
    "new_order_id",
    "normalise_order_id",
    "request_fingerprint",
    "place_order",
    "get_order",
    "orders_of_session",
    "cancel_order",
    "set_order_status",
]

ORDER_STATUSES: Final = ("placed", "shipped", "delivered", "cancelled")
_TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "placed": frozenset({"shipped", "cancelled"}),
    "shipped": frozenset({"delivered"}),
    "delivered": frozenset(),
    "cancelled": frozenset(),
}
_UPDATE_TEXT: Final = {
    "shipped": "Your order {id} has shipped.",
    "delivered": "Your order {id} has been delivered.",
    "cancelled": "Your order {id} has been cancelled.",
}
ORDER_ID_ALPHABET: Final = string.ascii_uppercase + string.digits
ORDER_ID_LENGTH: Final = 8
ORDER_ID_PATTERN: Final = r"^[A-Z0-9]{8}$"
IDEMPOTENCY_KEY_PATTERN: Final = r"^[\x21-\x7e]{1,200}$"
_ORDER_ID = re.compile(ORDER_ID_PATTERN)
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


@dataclass(frozen=True)
class OrderItem:
    product_id: str
    title: str
    quantity: int
    unit_price: Decimal

    @property
    def line_total(self) -> Decimal:
        return money(self.unit_price * self.quantity)

    def to_public(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "title": self.title,
            "quantity": self.quantity,
            "unit_price": to_float(self.unit_price),
        }


@dataclass(frozen=True)
class Order:
    id: str
    session_id: str | None
    status: str
    items: tuple[OrderItem, ...]
    total: Decimal
    currency: str
    email: str
    shipping_address: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    replayed: bool = False  # True when an idempotent retry returned the order placed earlier

    def to_public(self) -> dict[str, Any]:
        """DESIGN.md's order object: ``{"id", "status", "items", "total", "currency", "created_at"}``."""
        return {
            "id": self.id,
            "status": self.status,
            "items": [item.to_public() for item in self.items],
            "total": to_float(self.total),
            "currency": self.currency,
            "created_at": iso(self.created_at),
        }

    def to_webhook(self) -> dict[str, Any]:
        """What the store needs to fulfil it: the public form plus e-mail and shipping address
        (never the session id, which is a bearer secret)."""
        return {
            **self.to_public(),
            "email": self.email,
            "shipping_address": dict(self.shipping_address),
            "updated_at": iso(self.updated_at),
        }


class OrderNotifier(Protocol):
    """Told about ``order.placed`` / ``order.cancelled`` after the transaction commits."""

    def notify(self, event_type: str, order: Order) -> None: ...


# ---------------------------------------------------------------------------- ids and fingerprints


def new_order_id() -> str:
    """8 upper-case letters and digits from ``secrets`` (36^8 ≈ 2.8e12; speakable, no punctuation)."""
    return "".join(secrets.choice(ORDER_ID_ALPHABET) for _ in range(ORDER_ID_LENGTH))


def normalise_order_id(text: str) -> str | None:
    """``"#k7m2-q9xd"`` → ``"K7M2Q9XD"``; ``None`` when it cannot be an order id."""
    if not isinstance(text, str):
        return None
    compact = re.sub(r"[^A-Za-z0-9]", "", text).upper()
    return compact if _ORDER_ID.fullmatch(compact) else None


def request_fingerprint(*, session_id: str, email: str, address: Address | Mapping[str, Any]) -> str:
    """SHA-256 of the normalised order request, for idempotency (same request → same fingerprint)."""
    addr = validate_address(address)
    canonical = json.dumps(
        {"session_id": session_id, "email": validate_email(email), "shipping_address": addr.model_dump()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------- internals


def _items(s: Session, order_id: str) -> tuple[OrderItem, ...]:
    rows = s.scalars(
        select(OrderItemRow).where(OrderItemRow.order_id == order_id).order_by(OrderItemRow.product_id)
    ).all()
    return tuple(
        OrderItem(product_id=r.product_id, title=r.title, quantity=r.quantity, unit_price=money(r.unit_price))
        for r in rows
    )


def _order(s: Session, row: OrderRow, *, replayed: bool = False) -> Order:
    return Order(
        id=row.id,
        session_id=row.session_id,
        status=row.status,
        items=_items(s, row.id),
        total=money(row.total),
        currency=row.currency,
        email=row.email,
        shipping_address=dict(row.shipping_address or {}),
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        replayed=replayed,
    )


def _by_key(s: Session, key: str) -> OrderRow | None:
    return s.scalars(
        select(OrderRow).where(OrderRow.idempotency_key == key).execution_options(populate_existing=True)
    ).first()


def _replay(s: Session, row: OrderRow, request_hash: str) -> Order:
    if row.request_hash != request_hash:
        raise IdempotencyConflict()
    return _order(s, row, replayed=True)


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not _IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidRequest(
            "an idempotency key is 1 to 200 printable ASCII characters without spaces",
            code="invalid_idempotency_key",
        )


def _fmt(amount: Decimal, currency: str) -> str:
    return f"{amount:.2f} {currency}"


# ---------------------------------------------------------------------------- public


def place_order(
    s: Session,
    *,
    session_id: str,
    email: str,
    address: Address | Mapping[str, Any],
    idempotency_key: str | None = None,
    request_hash: str | None = None,
    confirmed_total: float | Decimal | None = None,
    notifier: OrderNotifier | None = None,
) -> Order:
    """Turn the session's cart into an order, empty the cart and log an ``order`` event per item.

    Refuses an empty cart (:class:`CartEmpty`), unavailable items (:class:`OutOfStock`), and changed
    prices or a ``confirmed_total`` other than the current total (:class:`PriceChanged` with
    ``new_total``).  ``request_hash`` defaults to :func:`request_fingerprint`.  With ``notifier``,
    ``order.placed`` is sent after the transaction commits (not for a replay).
    """
    email = validate_email(email)
    addr = validate_address(address)
    if idempotency_key is not None:
        _check_key(idempotency_key)
    if request_hash is None:
        request_hash = request_fingerprint(session_id=session_id, email=email, address=addr)
    session = get_session(s, session_id=session_id, for_update=True)
    if idempotency_key is not None and (existing := _by_key(s, idempotency_key)) is not None:
        return _replay(s, existing, request_hash)

    rows = _cart_rows(s, session_id)
    if not rows:
        raise CartEmpty("the cart is empty; add something before checking out")
    unavailable = [(p.id, p.title) for _, p in rows if not (p.active and p.in_stock)]
    if unavailable:
        raise OutOfStock(unavailable)
    currency = rows[0][0].currency
    carted_total = money(sum((money(i.unit_price) * i.quantity for i, _ in rows), Decimal(0)))
    current_total = money(sum((money(p.price) * i.quantity for i, p in rows), Decimal(0)))
    changed = [(i, p) for i, p in rows if money(i.unit_price) != money(p.price)]
    if changed or (confirmed_total is not None and money(confirmed_total) != current_total):
        detail = ", ".join(
            f"{p.title}: {_fmt(money(i.unit_price), currency)} → {_fmt(money(p.price), currency)}"
            for i, p in changed
        )
        old = money(confirmed_total) if confirmed_total is not None else carted_total
        raise PriceChanged(
            new_total=to_float(current_total), old_total=to_float(old), currency=currency, detail=detail
        )

    now = utcnow()
    row: OrderRow | None = None
    for _ in range(8):
        order_id = new_order_id()
        if s.get(OrderRow, order_id) is not None:
            continue
        candidate = OrderRow(
            id=order_id,
            session_id=session_id,
            status="placed",
            email=email,
            shipping_address=addr.model_dump(),
            total=float(current_total),
            currency=currency,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            created_at=now,
            updated_at=now,
        )
        try:
            with s.begin_nested():
                s.add(candidate)
                s.flush()
                s.add_all(
                    OrderItemRow(
                        order_id=order_id,
                        product_id=p.id,
                        title=p.title,
                        quantity=i.quantity,
                        unit_price=float(money(p.price)),
                    )
                    for i, p in rows
                )
                s.flush()
        except IntegrityError:
            # another transaction won the race for this key (or, astronomically rarely, this id)
            if idempotency_key is not None and (existing := _by_key(s, idempotency_key)) is not None:
                return _replay(s, existing, request_hash)
            continue
        row = candidate
        break
    if row is None:  # pragma: no cover - 8 collisions in a 2.8e12 space
        raise RuntimeError("could not allocate a unique order id")

    for i, _ in rows:
        add_event(s, session_id=session_id, type="order", product_id=i.product_id)
    s.execute(delete(CartItemRow).where(CartItemRow.session_id == session_id))
    session.updated_at = now
    s.flush()
    order = _order(s, row)
    if notifier is not None:
        call_after_commit(s, lambda: notifier.notify("order.placed", order))
    return order


def _own_order_row(s: Session, *, order_id: str, session_id: str, for_update: bool = False) -> OrderRow:
    oid = normalise_order_id(order_id)
    if oid is None or not is_valid_session_id(session_id):
        raise OrderNotFound(order_id)
    stmt = select(OrderRow).where(OrderRow.id == oid, OrderRow.session_id == session_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = s.scalars(stmt).first()
    if row is None:
        raise OrderNotFound(order_id)
    return row


def get_order(s: Session, *, order_id: str, session_id: str) -> Order:
    """One of the session's own orders (the id may be spoken or punctuated: ``k7m2-q9xd``);
    another session's order is :class:`OrderNotFound`, exactly like one that does not exist."""
    return _order(s, _own_order_row(s, order_id=order_id, session_id=session_id))


def orders_of_session(s: Session, *, session_id: str, limit: int = 20) -> list[Order]:
    """The session's orders, newest first."""
    get_session(s, session_id=session_id)
    rows = s.scalars(
        select(OrderRow)
        .where(OrderRow.session_id == session_id)
        .order_by(OrderRow.created_at.desc(), OrderRow.id)
        .limit(max(1, min(limit, 200)))
    ).all()
    return [_order(s, row) for row in rows]


def cancel_order(
    s: Session, *, order_id: str, session_id: str, notifier: OrderNotifier | None = None
) -> Order:
    """The shopper cancels their order; only while it is ``placed`` (:class:`InvalidStatusChange`)."""
    row = _own_order_row(s, order_id=order_id, session_id=session_id, for_update=True)
    if row.status != "placed":
        raise InvalidStatusChange(row.status, "cancelled")
    row.status = "cancelled"
    row.updated_at = utcnow()
    s.flush()
    order = _order(s, row)
    if notifier is not None:
        call_after_commit(s, lambda: notifier.notify("order.cancelled", order))
    return order


def set_order_status(s: Session, *, order_id: str, status: str) -> Order:
    """Staff: move an order along placed → shipped → delivered, or placed → cancelled, and tell the
    shopper with an ``order_update`` notice.  Setting the status it already has changes nothing (so a
    retried request is harmless); any other move is :class:`InvalidStatusChange`."""
    if status not in ORDER_STATUSES:
        raise InvalidRequest(
            f"unknown order status {status!r}; one of {', '.join(ORDER_STATUSES)}", code="invalid_status"
        )
    oid = normalise_order_id(order_id)
    row = (
        s.scalars(
            select(OrderRow)
            .where(OrderRow.id == oid)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if oid
        else None
    )
    if row is None:
        raise OrderNotFound(order_id)
    if row.status == status:
        return _order(s, row)
    if status not in _TRANSITIONS[row.status]:
        raise InvalidStatusChange(row.status, status)
    row.status = status
    row.updated_at = utcnow()
    s.flush()
    if row.session_id is not None:
        add_notice(
            s,
            session_id=row.session_id,
            kind="order_update",
            text=_UPDATE_TEXT[status].format(id=row.id),
            data={"order_id": row.id, "status": status},
        )
    return _order(s, row)
