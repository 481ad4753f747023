"""The shopper's cart: lines of (product, quantity, unit price when carted); totals in exact cents.

``unit_price`` is the price the shopper saw when the line went into the cart (adding more of a
product takes its current price; changing the quantity keeps the carted one).  Checkout compares
it with the current price and stock (:func:`cart_changes`) and asks again when they differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from assistant.commerce._common import money, to_float
from assistant.commerce._events import add_event
from assistant.commerce._sessions import get_session
from assistant.errors import (
    CurrencyMismatch,
    InvalidQuantity,
    NotInCart,
    OutOfStock,
    ProductNotFound,
)
from assistant.models import CartItemRow, ProductRow, SessionRow, utcnow

__all__ = [
    "MAX_QUANTITY",
    "DEFAULT_CURRENCY",
    "Cart",
    "CartLine",
    "CartChange",
    "get_cart",
    "add_to_cart",
    "set_quantity",
    "remove_from_cart",
    "clear_cart",
    "cart_changes",
    "refresh_cart",
]

MAX_QUANTITY = 99
DEFAULT_CURRENCY = "USD"


@dataclass(frozen=True)
class CartLine:
    product_id: str
    title: str
    quantity: int
    unit_price: Decimal
    currency: str

    @property
    def line_total(self) -> Decimal:
        return money(self.unit_price * self.quantity)

    def to_public(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "title": self.title,
            "quantity": self.quantity,
            "unit_price": to_float(self.unit_price),
            "line_total": to_float(self.line_total),
        }


@dataclass(frozen=True)
class Cart:
    session_id: str
    items: tuple[CartLine, ...]
    currency: str = DEFAULT_CURRENCY

    @property
    def total(self) -> Decimal:
        return money(sum((line.line_total for line in self.items), Decimal(0)))

    @property
    def item_count(self) -> int:
        """Units in the cart (sum of quantities)."""
        return sum(line.quantity for line in self.items)

    @property
    def is_empty(self) -> bool:
        return not self.items

    def line(self, product_id: str) -> CartLine | None:
        return next((line for line in self.items if line.product_id == product_id), None)

    def to_public(self) -> dict[str, Any]:
        """DESIGN.md's cart object (plus ``line_total`` per item)."""
        return {
            "items": [line.to_public() for line in self.items],
            "total": to_float(self.total),
            "currency": self.currency,
        }


@dataclass(frozen=True)
class CartChange:
    """A line whose product is no longer what was carted: another price, out of stock, or not sold."""

    product_id: str
    title: str
    quantity: int
    carted_price: Decimal
    current_price: Decimal
    in_stock: bool
    active: bool

    @property
    def available(self) -> bool:
        return self.in_stock and self.active

    @property
    def kind(self) -> Literal["price", "out_of_stock", "unavailable"]:
        if not self.active:
            return "unavailable"
        if not self.in_stock:
            return "out_of_stock"
        return "price"

    def describe(self) -> str:
        """For a reply: "Linen Shirt now costs 24.99 USD (was 19.99)" / "… is out of stock"."""
        if self.kind == "unavailable":
            return f"{self.title} is no longer sold"
        if self.kind == "out_of_stock":
            return f"{self.title} is out of stock"
        return f"{self.title} now costs {self.current_price:.2f} (was {self.carted_price:.2f})"

    def to_public(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "title": self.title,
            "quantity": self.quantity,
            "kind": self.kind,
            "carted_price": to_float(self.carted_price),
            "current_price": to_float(self.current_price),
        }


# ---------------------------------------------------------------------------- internals


def _check_quantity(quantity: int, *, allow_zero: bool) -> None:
    low = 0 if allow_zero else 1
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not low <= quantity <= MAX_QUANTITY:
        raise InvalidQuantity(
            f"quantity must be a whole number from {low} to {MAX_QUANTITY}, not {quantity!r}"
        )


def _rows(s: Session, session_id: str) -> list[tuple[CartItemRow, ProductRow]]:
    stmt = (
        select(CartItemRow, ProductRow)
        .join(ProductRow, ProductRow.id == CartItemRow.product_id)
        .where(CartItemRow.session_id == session_id)
        .order_by(CartItemRow.added_at, CartItemRow.product_id)
    )
    return [(item, product) for item, product in s.execute(stmt).tuples()]


def _cart_from_rows(session_id: str, rows: list[tuple[CartItemRow, ProductRow]]) -> Cart:
    lines = tuple(
        CartLine(
            product_id=item.product_id,
            title=product.title,
            quantity=item.quantity,
            unit_price=money(item.unit_price),
            currency=item.currency,
        )
        for item, product in rows
    )
    return Cart(session_id=session_id, items=lines, currency=lines[0].currency if lines else DEFAULT_CURRENCY)


def _load_cart(s: Session, session_id: str) -> Cart:
    return _cart_from_rows(session_id, _rows(s, session_id))


def _touch(row: SessionRow) -> None:
    row.updated_at = utcnow()


def _available_product(s: Session, product_id: str) -> ProductRow:
    product = s.get(ProductRow, product_id)
    if product is None:
        raise ProductNotFound(product_id)
    if not (product.active and product.in_stock):
        raise OutOfStock([(product.id, product.title)])
    return product


def _item(s: Session, session_id: str, product_id: str) -> CartItemRow:
    item = s.get(CartItemRow, (session_id, product_id))
    if item is None:
        raise NotInCart(product_id)
    return item


# ---------------------------------------------------------------------------- public


def get_cart(s: Session, *, session_id: str) -> Cart:
    get_session(s, session_id=session_id)
    return _load_cart(s, session_id)


def add_to_cart(s: Session, *, session_id: str, product_id: str, quantity: int = 1) -> Cart:
    """Add ``quantity`` units (to an existing line if there is one, which then takes the current price).

    The product must exist (:class:`ProductNotFound`) and be sold and in stock (:class:`OutOfStock`);
    a line holds at most :data:`MAX_QUANTITY` units (:class:`InvalidQuantity`).
    """
    _check_quantity(quantity, allow_zero=False)
    session = get_session(s, session_id=session_id, for_update=True)
    product = _available_product(s, product_id)
    now = utcnow()
    item = s.get(CartItemRow, (session_id, product_id))
    if item is None:
        others = s.scalars(
            select(CartItemRow.currency).where(CartItemRow.session_id == session_id).limit(1)
        ).first()
        if others is not None and others != product.currency:
            raise CurrencyMismatch(
                f"the cart is in {others}; {product.title!r} is priced in {product.currency}"
            )
        s.add(
            CartItemRow(
                session_id=session_id,
                product_id=product_id,
                quantity=quantity,
                unit_price=float(money(product.price)),
                currency=product.currency,
                added_at=now,
                updated_at=now,
            )
        )
    else:
        if item.quantity + quantity > MAX_QUANTITY:
            raise InvalidQuantity(
                f"at most {MAX_QUANTITY} of one item; "
                f"the cart already has {item.quantity} of {product.title!r}"
            )
        item.quantity += quantity
        item.unit_price = float(money(product.price))
        item.updated_at = now
    add_event(s, session_id=session_id, type="cart_add", product_id=product_id)
    _touch(session)
    s.flush()
    return _load_cart(s, session_id)


def set_quantity(s: Session, *, session_id: str, product_id: str, quantity: int) -> Cart:
    """Set a line's quantity (0 removes it; more units need the product in stock); keeps the carted price."""
    _check_quantity(quantity, allow_zero=True)
    session = get_session(s, session_id=session_id, for_update=True)
    item = _item(s, session_id, product_id)
    if quantity == 0:
        s.delete(item)
        add_event(s, session_id=session_id, type="cart_remove", product_id=product_id)
    elif quantity != item.quantity:
        if quantity > item.quantity:
            _available_product(s, product_id)
        add_event(
            s,
            session_id=session_id,
            type="cart_add" if quantity > item.quantity else "cart_remove",
            product_id=product_id,
        )
        item.quantity = quantity
        item.updated_at = utcnow()
    _touch(session)
    s.flush()
    return _load_cart(s, session_id)


def remove_from_cart(s: Session, *, session_id: str, product_id: str) -> Cart:
    """Remove the line (:class:`NotInCart` when there is none)."""
    session = get_session(s, session_id=session_id, for_update=True)
    s.delete(_item(s, session_id, product_id))
    add_event(s, session_id=session_id, type="cart_remove", product_id=product_id)
    _touch(session)
    s.flush()
    return _load_cart(s, session_id)


def clear_cart(s: Session, *, session_id: str) -> Cart:
    """Empty the cart (a ``cart_remove`` event per line)."""
    session = get_session(s, session_id=session_id, for_update=True)
    for item, _ in _rows(s, session_id):
        add_event(s, session_id=session_id, type="cart_remove", product_id=item.product_id)
    s.execute(delete(CartItemRow).where(CartItemRow.session_id == session_id))
    _touch(session)
    s.flush()
    return _load_cart(s, session_id)


def _changes(rows: list[tuple[CartItemRow, ProductRow]]) -> list[CartChange]:
    out = []
    for item, product in rows:
        carted, current = money(item.unit_price), money(product.price)
        if carted != current or not product.in_stock or not product.active:
            out.append(
                CartChange(
                    product_id=item.product_id,
                    title=product.title,
                    quantity=item.quantity,
                    carted_price=carted,
                    current_price=current,
                    in_stock=product.in_stock,
                    active=product.active,
                )
            )
    return out


def cart_changes(s: Session, *, session_id: str) -> list[CartChange]:
    """Lines whose product's price differs from the carted one, or that went out of stock / out of sale."""
    get_session(s, session_id=session_id)
    return _changes(_rows(s, session_id))


def refresh_cart(s: Session, *, session_id: str, drop_unavailable: bool = False) -> Cart:
    """Take the current prices into the cart; with ``drop_unavailable`` also remove lines that cannot
    be bought (a ``cart_remove`` event each); otherwise such lines stay (checkout refuses them)."""
    session = get_session(s, session_id=session_id, for_update=True)
    now = utcnow()
    for item, product in _rows(s, session_id):
        if drop_unavailable and not (product.in_stock and product.active):
            s.delete(item)
            add_event(s, session_id=session_id, type="cart_remove", product_id=item.product_id)
        elif money(item.unit_price) != money(product.price):
            item.unit_price = float(money(product.price))
            item.updated_at = now
    _touch(session)
    s.flush()
    return _load_cart(s, session_id)
