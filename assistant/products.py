"""Product look-up and search for the API, the CLI and the dialogue engine."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from assistant.catalog import product_from_row
from assistant.db import Database
from assistant.errors import InvalidRequest, ProductNotFound
from assistant.models import ProductRow
from retrieval import Hit, HybridIndex, Product, SearchFilters

__all__ = ["ProductCard", "get_product", "search_products", "explain_hit", "SearchPage", "image_url", "money"]


def image_url(p: Product) -> str | None:
    """Where a client fetches the product's photo: its own URL, or our image route for a stored file."""
    if p.image_url:
        return p.image_url
    return f"/v1/products/{p.id}/image" if p.image_path else None


@dataclass(frozen=True)
class ProductCard:
    product: Product
    score: float | None
    why: str
    active: bool = True


@dataclass(frozen=True)
class SearchPage:
    cards: list[ProductCard]
    total: int
    filters: SearchFilters
    timings_ms: dict[str, float]


def get_product(db: Database, product_id: str) -> tuple[Product, bool]:
    """The product and whether it is active; :class:`ProductNotFound` when unknown."""
    with db.session() as s:
        row = s.get(ProductRow, product_id)
        if row is None:
            raise ProductNotFound(product_id)
        return product_from_row(row), row.active


def money(value: float | Decimal) -> str:
    """Prices as replies and reasons write them: "$649", "$12.99"."""
    value = float(value)
    return f"${value:,.0f}" if abs(value - round(value)) < 0.005 else f"${value:,.2f}"


def explain_hit(hit: Hit, filters: SearchFilters, query: str) -> str:
    """A short reason the product is shown: the filters it meets and how it matched the query."""
    p = hit.product
    parts: list[str] = []
    for name in ("color", "material", "size"):
        want = getattr(filters, name)
        if want:
            parts.append(want)
    if filters.gender:
        parts.append(f"for {filters.gender}" if p.attributes.get("gender") != "unisex" else "unisex")
    if filters.brand:
        parts.append(p.brand or filters.brand)
    if filters.product_type:
        parts.append(filters.product_type)
    if filters.price_max is not None and filters.price_min is not None:
        parts.append(f"{money(filters.price_min)}–{money(filters.price_max)}")
    elif filters.price_max is not None:
        parts.append(f"under {money(filters.price_max)}")
    elif filters.price_min is not None:
        parts.append(f"over {money(filters.price_min)}")
    if filters.rating_min is not None:
        parts.append(f"rated {filters.rating_min:g}+")
    if query.strip():
        words = max(hit.query_terms, hit.n_terms)
        if words and hit.matched_terms >= words:
            parts.append("matches all your words")
        elif hit.matched_terms:
            parts.append(f"matches {hit.matched_terms} of your {words} words")
        elif hit.dense > 0:
            parts.append("similar in meaning")
    if p.rating is not None and p.rating >= 4.5 and p.rating_count >= 20:
        parts.append("top rated")
    return ", ".join(parts) if parts else "popular pick"


def search_products(
    index: HybridIndex,
    *,
    query: str,
    filters: SearchFilters,
    sort: str = "relevance",
    limit: int = 10,
    offset: int = 0,
) -> SearchPage:
    if (
        filters.price_min is not None
        and filters.price_max is not None
        and filters.price_min > filters.price_max
    ):
        raise InvalidRequest("price_min must not be greater than price_max")
    index.reload_if_changed()
    result = index.search(query, filters, sort=sort, limit=limit, offset=offset)
    cards = [
        ProductCard(product=h.product, score=h.score, why=explain_hit(h, filters, query)) for h in result.hits
    ]
    return SearchPage(cards=cards, total=result.total, filters=filters, timings_ms=result.timings_ms)
