"""Cart: add/set/remove/clear, changes since carting, and a Hypothesis state machine on the arithmetic."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import select

from assistant.commerce import (
    MAX_QUANTITY,
    Cart,
    add_to_cart,
    cart_changes,
    clear_cart,
    get_cart,
    refresh_cart,
    remove_from_cart,
    set_quantity,
)
from assistant.db import Database
from assistant.errors import (
    CurrencyMismatch,
    InvalidQuantity,
    NotInCart,
    OutOfStock,
    ProductNotFound,
    SessionNotFound,
)
from assistant.models import EventRow
from tests.commerce.factories import insert_product, new_session, update_product


def test_empty_cart_has_the_public_shape(db: Database, sid: str) -> None:
    with db.session() as s:
        cart = get_cart(s, session_id=sid)
    assert cart.to_public() == {"items": [], "total": 0.0, "currency": "USD"}
    assert cart.is_empty and cart.item_count == 0


def test_add_adds_to_the_existing_line_and_totals_in_exact_cents(
    db: Database, sid: str, catalog: dict[str, str]
) -> None:
    with db.session() as s:
        add_to_cart(s, session_id=sid, product_id=catalog["socks"], quantity=1)
        add_to_cart(s, session_id=sid, product_id=catalog["lamp"])
        cart = add_to_cart(s, session_id=sid, product_id=catalog["socks"], quantity=2)
    public = cart.to_public()
    assert public["items"] == [
        {"product_id": "SOCKS-2", "title": "Wool Socks", "quantity": 3, "unit_price": 0.1, "line_total": 0.3},
        {"product_id": "LAMP-3", "title": "Desk Lamp", "quantity": 1, "unit_price": 0.2, "line_total": 0.2},
    ]
    assert cart.total == Decimal("0.50")  # 0.1 * 3 + 0.2 would be 0.5000000000000001 in floats
    assert public["total"] == 0.5 and public["currency"] == "USD"


def test_set_quantity_changes_and_zero_removes(db: Database, sid: str, catalog: dict[str, str]) -> None:
    with db.session() as s:
        add_to_cart(s, session_id=sid, product_id=catalog["shirt"], quantity=1)
        cart = set_quantity(s, session_id=sid, product_id=catalog["shirt"], quantity=3)
        assert cart.items[0].quantity == 3 and cart.total == Decimal("59.97")
        cart = set_quantity(s, session_id=sid, product_id=catalog["shirt"], quantity=0)
    assert cart.is_empty


def test_remove_and_clear(db: Database, sid: str, catalog: dict[str, str]) -> None:
    with db.session() as s:
        add_to_cart(s, session_id=sid, product_id=catalog["shirt"])
        add_to_cart(s, session_id=sid, product_id=catalog["sofa"])
        cart = remove_from_cart(s, session_id=sid, product_id=catalog["shirt"])
        assert [line.product_id for line in cart.items] == ["SOFA-4"]
        assert clear_cart(s, session_id=sid).is_empty


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1, 10**9])
def test_add_refuses_quantities_out_of_range(
    db: Database, sid: str, catalog: dict[str, str], quantity: int
) -> None:
    with db.session() as s, pytest.raises(InvalidQuantity, match="1 to 99"):
        add_to_cart(s, session_id=sid, product_id=catalog["shirt"], quantity=quantity)


def test_a_line_holds_at_most_99(db: Database, sid: str, catalog: dict[str, str]) -> None:
    with db.session() as s:
        add_to_cart(s, session_id=sid, product_id=catalog["shirt"], quantity=98)
    with db.session() as s, pytest.raises(InvalidQuantity, match="already has 98"):
        add_to_cart(s, session_id=sid, product_id=catalog["shirt"], quantity=2)
    with db.session() as s:
        assert get_cart(s, session_id=sid).items[0].quantity == 98
        with pytest.raises(InvalidQuantity):
            set_quantity(s, session_id=sid, product_id=catalog["shirt"], quantity=100)


@pytest.mark.parametrize(
    ("key", "error"),
    [("gone", OutOfStock), ("retired", OutOfStock)],
)
def test_unavailable_products_cannot_be_added(
    db: Database, sid: str, catalog: dict[str, str], key: str, error: type[Exception]
) -> None:
    with db.session() as s, pytest.raises(error) as exc:
        add_to_cart(s, session_id=sid, product_id=catalog[key])
    assert catalog[key] in str(exc.value)


def test_unknown_product_session_and_line(db: Database, sid: str, catalog: dict[str, str]) -> None:
    with db.session() as s:
        with pytest.raises(ProductNotFound):
            add_to_cart(s, session_id=sid, product_id="NOPE")
        with pytest.raises(SessionNotFound):
            add_to_cart(s, session_id="x" * 43, product_id=catalog["shirt"])
        with pytest.raises(SessionNotFound):
            get_cart(s, session_id="../../etc/passwd")
        with pytest.raises(NotInCart):
            remove_from_cart(s, session_id=sid, product_id=catalog["shirt"])
        with pytest.raises(NotInCart):
            set_quantity(s, session_id=sid, product_id=catalog["shirt"], quantity=2)


def test_mixed_currencies_are_refused(db: Database, sid: str, catalog: dict[str, str]) -> None:
    insert_product(db, "EURO-1", 10.0, currency="EUR")
    with db.session() as s:
        add_to_cart(s, session_id=sid, product_id=catalog["shirt"])
        with pytest.raises(CurrencyMismatch):
            add_to_cart(s, session_id=sid, product_id="EURO-1")


def test_each_write_records_an_event(db: Database, sid: str, catalog: dict[str, str]) -> None:
    with db.session() as s:
        add_to_cart(s, session_id=sid, product_id=catalog["shirt"])
        set_quantity(s, session_id=sid, product_id=catalog["shirt"], quantity=3)
        set_quantity(s, session_id=sid, product_id=catalog["shirt"], quantity=2)
        add_to_cart(s, session_id=sid, product_id=catalog["sofa"])
        remove_from_cart(s, session_id=sid, product_id=catalog["sofa"])
        clear_cart(s, session_id=sid)
    with db.session() as s:
        events = [(e.type, e.product_id) for e in s.scalars(select(EventRow).order_by(EventRow.id))]
    assert events == [
        ("cart_add", "SHIRT-1"),
        ("cart_add", "SHIRT-1"),
        ("cart_remove", "SHIRT-1"),
        ("cart_add", "SOFA-4"),
        ("cart_remove", "SOFA-4"),
        ("cart_remove", "SHIRT-1"),
    ]


def test_changes_since_carting_and_refresh(
    db: Database, sid: str, catalog: dict[str, str], set_product: Callable[..., None]
) -> None:
    with db.session() as s:
        add_to_cart(s, session_id=sid, product_id=catalog["shirt"], quantity=2)
        add_to_cart(s, session_id=sid, product_id=catalog["sofa"])
        add_to_cart(s, session_id=sid, product_id=catalog["socks"])
        assert cart_changes(s, session_id=sid) == []
    set_product(catalog["shirt"], price=24.99)
    set_product(catalog["socks"], in_stock=False)
    with db.session() as s:
        changes = {c.product_id: c for c in cart_changes(s, session_id=sid)}
        assert set(changes) == {"SHIRT-1", "SOCKS-2"}
        assert changes["SHIRT-1"].kind == "price"
        assert changes["SHIRT-1"].carted_price == Decimal("19.99")
        assert changes["SHIRT-1"].current_price == Decimal("24.99")
        assert changes["SHIRT-1"].describe() == "Linen Shirt now costs 24.99 (was 19.99)"
        assert changes["SOCKS-2"].kind == "out_of_stock" and not changes["SOCKS-2"].available
        # the cart keeps the carted price until refreshed
        assert get_cart(s, session_id=sid).total == Decimal("689.08")
        cart = refresh_cart(s, session_id=sid)
        assert cart.total == Decimal("699.08") and len(cart.items) == 3
        assert [c.product_id for c in cart_changes(s, session_id=sid)] == ["SOCKS-2"]
        cart = refresh_cart(s, session_id=sid, drop_unavailable=True)
        assert [line.product_id for line in cart.items] == ["SHIRT-1", "SOFA-4"]
        assert cart_changes(s, session_id=sid) == []


def test_adding_more_takes_the_current_price_setting_quantity_keeps_it(
    db: Database, sid: str, catalog: dict[str, str], set_product: Callable[..., None]
) -> None:
    with db.session() as s:
        add_to_cart(s, session_id=sid, product_id=catalog["shirt"])
    set_product(catalog["shirt"], price=21.0)
    with db.session() as s:
        cart = set_quantity(s, session_id=sid, product_id=catalog["shirt"], quantity=2)
        assert cart.items[0].unit_price == Decimal("19.99")
        cart = add_to_cart(s, session_id=sid, product_id=catalog["shirt"])
        assert cart.items[0].unit_price == Decimal("21.00") and cart.total == Decimal("63.00")


# ---------------------------------------------------------------------------- state machine

PRICES = {"P-A": "0.01", "P-B": "19.99", "P-C": "0.10", "P-D": "0.20", "P-E": "999.99", "P-F": "33.33"}
UNAVAILABLE: dict[str, dict[str, bool]] = {"P-OUT": {"in_stock": False}, "P-OFF": {"active": False}}
PRODUCT_IDS = [*PRICES, *UNAVAILABLE, "P-MISSING"]
NEW_PRICES = ["0.01", "0.05", "1.10", "2.675", "19.99", "33.335", "1234.56"]


class CartMachine(RuleBasedStateMachine):
    """Random add/set/remove/clear/reprice/refresh against a plain dict model of the cart."""

    db: ClassVar[Database | None] = None

    def __init__(self) -> None:
        super().__init__()
        assert self.db is not None
        self.sid = new_session(self.db)
        self.model: dict[str, tuple[int, Decimal]] = {}  # product -> (quantity, carted unit price)
        self.prices: dict[str, Decimal] = {}

    @initialize()
    def reset_prices(self) -> None:
        assert self.db is not None
        for pid, price in PRICES.items():
            update_product(self.db, pid, price=float(price))
        self.prices = {pid: Decimal(p) for pid, p in PRICES.items()}

    def _call(self, fn: Callable[..., Cart], **kw: Any) -> Exception | None:
        assert self.db is not None
        try:
            with self.db.session() as s:
                fn(s, session_id=self.sid, **kw)
        except (InvalidQuantity, NotInCart, OutOfStock, ProductNotFound) as exc:
            return exc
        return None

    @rule(pid=st.sampled_from(PRODUCT_IDS), quantity=st.integers(-3, 120))
    def add(self, pid: str, quantity: int) -> None:
        err = self._call(add_to_cart, product_id=pid, quantity=quantity)
        have = self.model.get(pid, (0, Decimal(0)))[0]
        if not 1 <= quantity <= MAX_QUANTITY:
            assert isinstance(err, InvalidQuantity)
        elif pid == "P-MISSING":
            assert isinstance(err, ProductNotFound)
        elif pid in UNAVAILABLE:
            assert isinstance(err, OutOfStock)
        elif have + quantity > MAX_QUANTITY:
            assert isinstance(err, InvalidQuantity)
        else:
            assert err is None
            self.model[pid] = (have + quantity, self.prices[pid])

    @rule(pid=st.sampled_from(PRODUCT_IDS), quantity=st.integers(-3, 105))
    def set_qty(self, pid: str, quantity: int) -> None:
        err = self._call(set_quantity, product_id=pid, quantity=quantity)
        if not 0 <= quantity <= MAX_QUANTITY:
            assert isinstance(err, InvalidQuantity)
        elif pid not in self.model:
            assert isinstance(err, NotInCart)
        else:
            assert err is None
            if quantity == 0:
                del self.model[pid]
            else:
                self.model[pid] = (quantity, self.model[pid][1])

    @rule(pid=st.sampled_from(PRODUCT_IDS))
    def remove(self, pid: str) -> None:
        err = self._call(remove_from_cart, product_id=pid)
        if pid in self.model:
            assert err is None
            del self.model[pid]
        else:
            assert isinstance(err, NotInCart)

    @precondition(lambda self: bool(self.model))
    @rule()
    def clear(self) -> None:
        assert self._call(clear_cart) is None
        self.model.clear()

    @rule(pid=st.sampled_from(list(PRICES)), price=st.sampled_from(NEW_PRICES))
    def reprice(self, pid: str, price: str) -> None:
        assert self.db is not None
        update_product(self.db, pid, price=float(price))
        self.prices[pid] = Decimal(price).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")

    @rule()
    def refresh(self) -> None:
        assert self._call(refresh_cart) is None
        self.model = {pid: (q, self.prices[pid]) for pid, (q, _) in self.model.items()}

    @invariant()
    def cart_matches_the_model(self) -> None:
        assert self.db is not None
        with self.db.session() as s:
            cart = get_cart(s, session_id=self.sid)
            changes = {c.product_id for c in cart_changes(s, session_id=self.sid)}
        assert {line.product_id: (line.quantity, line.unit_price) for line in cart.items} == self.model
        for line in cart.items:
            assert 1 <= line.quantity <= MAX_QUANTITY
        expected = sum((q * price for q, price in self.model.values()), Decimal(0))
        assert cart.total == expected >= 0
        public = cart.to_public()
        assert public["total"] == float(expected)
        assert round(sum(Decimal(str(i["line_total"])) for i in public["items"]), 2) == expected
        assert changes == {pid for pid, (_, price) in self.model.items() if price != self.prices[pid]}


@pytest.fixture(scope="module")
def machine_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path: Path = tmp_path_factory.mktemp("cart-machine") / "machine.db"
    database = Database(f"sqlite:///{path}")
    for pid, price in PRICES.items():
        insert_product(database, pid, float(price))
    for pid, flags in UNAVAILABLE.items():
        insert_product(database, pid, 3.0, **flags)
    CartMachine.db = database
    yield database
    CartMachine.db = None
    database.dispose()


def test_cart_state_machine(machine_db: Database) -> None:
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(
        CartMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
