"""Product look-up and search for the API, the CLI and the dialogue engine."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import numpy as np

from assistant.catalog import product_from_row
from assistant.db import Database
from assistant.errors import InvalidRequest, ProductNotFound
from assistant.models import ProductRow
from retrieval import Hit, HybridIndex, Product, SearchFilters, SearchResult

__all__ = [
    "ProductCard",
    "get_product",
    "search_products",
    "ranked_search",
    "explain_hit",
    "SearchPage",
    "image_url",
    "money",
]

#: how many of the hybrid retrieval's best matches the re-ranker re-orders
RERANK_DEPTH = 50
#: weight of the shopper's personal signal, in units of the re-ranked list's score spread
PERSONAL_WEIGHT = 0.75

#: product ids → {product id: (boost 0..1, reason)} for the shopper in question
Boosts = Callable[[Sequence[str]], dict[str, tuple[float, str]]]


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


def ranked_search(
    index: HybridIndex,
    query: str,
    filters: SearchFilters,
    *,
    sort: str = "relevance",
    limit: int = 10,
    offset: int = 0,
    facets: Sequence[str] = (),
    reranker: Any = None,
    boosts: Boosts | None = None,
) -> tuple[SearchResult, dict[str, str]]:
    """Hybrid search, then the DNN re-ranker and the shopper's history re-order the best matches.

    Only a relevance-sorted query's first :data:`RERANK_DEPTH` matches move (an explicit
    sort, a filter-only browse or a later page keeps the retrieval's order); the set
    of matches, ``total`` and the facets never change.  Returns the result and, per
    product lifted by the shopper's history, the reason.
    """
    rerank = sort == "relevance" and bool(query.strip()) and (reranker is not None or boosts is not None)
    if not rerank or offset + limit > RERANK_DEPTH:
        return index.search(query, filters, sort=sort, limit=limit, offset=offset, facets=facets), {}
    result = index.search(query, filters, sort=sort, limit=RERANK_DEPTH, offset=0, facets=facets)
    hits = result.hits
    reasons: dict[str, str] = {}
    if len(hits) > 1:
        t0 = time.perf_counter()
        if reranker is not None:
            from rankers import BaseScores

            base = [
                BaseScores(rank=i, fused=h.score, lexical=h.lexical, dense=h.dense)
                for i, h in enumerate(hits)
            ]
            scores = np.asarray(reranker.rerank(query, [h.product for h in hits], base), dtype=np.float64)
        else:
            scores = np.asarray([h.score for h in hits], dtype=np.float64)
        result.timings_ms["rerank_ms"] = (time.perf_counter() - t0) * 1000
        personal = boosts([h.product.id for h in hits]) if boosts is not None else {}
        if personal:
            t0 = time.perf_counter()
            spread = float(scores.std()) or 1.0
            for i, h in enumerate(hits):
                if h.product.id in personal:
                    scores[i] += PERSONAL_WEIGHT * spread * personal[h.product.id][0]
            reasons = {pid: why for pid, (_, why) in personal.items()}
            result.timings_ms["personalise_ms"] = (time.perf_counter() - t0) * 1000
        order = sorted(range(len(hits)), key=lambda i: (-scores[i], i))
        hits = [replace(hits[i], score=float(scores[i])) for i in order]
    page = hits[offset : offset + limit]
    on_page = {h.product.id for h in page}
    return replace(result, hits=page), {pid: why for pid, why in reasons.items() if pid in on_page}


def search_products(
    index: HybridIndex,
    *,
    query: str,
    filters: SearchFilters,
    sort: str = "relevance",
    limit: int = 10,
    offset: int = 0,
    reranker: Any = None,
) -> SearchPage:
    if (
        filters.price_min is not None
        and filters.price_max is not None
        and filters.price_min > filters.price_max
    ):
        raise InvalidRequest("price_min must not be greater than price_max")
    index.reload_if_changed()
    result, _ = ranked_search(index, query, filters, sort=sort, limit=limit, offset=offset, reranker=reranker)
    cards = [
        ProductCard(product=h.product, score=h.score, why=explain_hit(h, filters, query)) for h in result.hits
    ]
    return SearchPage(cards=cards, total=result.total, filters=filters, timings_ms=result.timings_ms)
