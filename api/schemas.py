"""Request and response models of the public API (the table models are not these)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from assistant.products import ProductCard, image_url
from retrieval import Product

__all__ = ["ProductPublic", "SearchResponse", "HealthResponse", "product_public"]


class ProductPublic(BaseModel):
    id: str
    title: str
    description: str = ""
    price: float
    currency: str
    product_type: str
    category: str
    brand: str
    rating: float | None
    rating_count: int = 0
    in_stock: bool
    active: bool = True
    image_url: str | None
    attributes: dict[str, str] = Field(default_factory=dict)
    score: float | None = None
    why: str | None = None


class SearchResponse(BaseModel):
    products: list[ProductPublic]
    total: int
    filters: dict[str, Any]
    sort: str
    limit: int
    offset: int


class HealthResponse(BaseModel):
    status: str
    products: int
    catalog_version: str | None


def product_public(
    p: Product, *, score: float | None = None, why: str | None = None, active: bool = True
) -> ProductPublic:
    return ProductPublic(
        id=p.id,
        title=p.title,
        description=p.description,
        price=p.price,
        currency=p.currency,
        product_type=p.product_type,
        category=p.category,
        brand=p.brand,
        rating=p.rating,
        rating_count=p.rating_count,
        in_stock=p.in_stock,
        active=active,
        image_url=image_url(p),
        attributes=dict(p.attributes),
        score=score,
        why=why,
    )


def card_public(card: ProductCard) -> ProductPublic:
    return product_public(card.product, score=card.score, why=card.why, active=card.active)
