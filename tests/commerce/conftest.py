"""Commerce fixtures: a real SQLite database on the test's data dir, products made directly, sessions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.config import Settings
from assistant.db import Database
from tests.commerce.factories import insert_product, new_session, update_product

MakeProduct = Callable[..., str]


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.resolved_database_url)
    yield database
    database.dispose()


@pytest.fixture
def make_product(db: Database) -> MakeProduct:
    def make(product_id: str, price: float, **kw: Any) -> str:
        return insert_product(db, product_id, price, **kw)

    return make


@pytest.fixture
def sid(db: Database) -> str:
    return new_session(db)


@pytest.fixture
def set_product(db: Database) -> Callable[..., None]:
    """``set_product("SHIRT-1", price=24.99, in_stock=False)``: change the catalog row."""

    def change(product_id: str, **values: Any) -> None:
        update_product(db, product_id, **values)

    return change


@pytest.fixture
def session_factory(db: Database) -> Callable[[], str]:
    return lambda: new_session(db)


@pytest.fixture
def catalog(make_product: MakeProduct) -> dict[str, str]:
    """A few products with awkward prices, one out of stock, one no longer sold."""
    return {
        "shirt": make_product("SHIRT-1", 19.99, title="Linen Shirt"),
        "socks": make_product("SOCKS-2", 0.1, title="Wool Socks"),
        "lamp": make_product("LAMP-3", 0.2, title="Desk Lamp"),
        "sofa": make_product("SOFA-4", 649.0, title="Grey Sofa"),
        "gone": make_product("GONE-5", 5.0, title="Old Mug", in_stock=False),
        "retired": make_product("RETIRED-6", 7.5, title="Retired Vase", active=False),
    }


@pytest.fixture
def client(runtime: Any) -> Iterator[TestClient]:
    from api.app import create_app

    with TestClient(create_app(runtime=runtime)) as c:
        yield c
