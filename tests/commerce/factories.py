"""Test factories for the commerce tests: catalog rows and sessions, through the real database."""

from __future__ import annotations

from typing import Any

from assistant.commerce import create_session
from assistant.db import Database
from assistant.models import ProductRow, utcnow


def insert_product(
    db: Database,
    product_id: str,
    price: float,
    *,
    title: str | None = None,
    in_stock: bool = True,
    active: bool = True,
    currency: str = "USD",
) -> str:
    now = utcnow()
    with db.session() as s:
        s.add(
            ProductRow(
                id=product_id,
                title=title or f"Product {product_id}",
                description="",
                product_type="thing",
                category="",
                brand="",
                price=price,
                currency=currency,
                rating=None,
                rating_count=0,
                in_stock=in_stock,
                attributes={},
                active=active,
                content_hash="test",
                created_at=now,
                updated_at=now,
            )
        )
    return product_id


def update_product(db: Database, product_id: str, **values: Any) -> None:
    with db.session() as s:
        row = s.get(ProductRow, product_id)
        assert row is not None
        for key, value in values.items():
            setattr(row, key, value)


def new_session(db: Database) -> str:
    with db.session() as s:
        return create_session(s).id
