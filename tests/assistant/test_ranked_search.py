"""Search in the product: the catalog-trained re-ranker re-orders the best matches, never the set."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from assistant.catalog import ingest_catalog
from assistant.products import RERANK_DEPTH, ranked_search
from retrieval import SearchFilters

QUERIES = ["black watch", "dress for women", "handbag", "blue jeans", "shoes for men", "white shirt", "bag"]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A runtime over a 300-product slice with a re-ranker trained on its own generated queries."""
    from assistant.config import Settings
    from assistant.runtime import Runtime
    from rankers import train_catalog_reranker
    from tests.conftest import DEMO_CATALOG

    tmp = tmp_path_factory.mktemp("ranked")
    rows = DEMO_CATALOG.read_text(encoding="utf-8").splitlines()
    catalog = tmp / "catalog.jsonl"
    catalog.write_text("\n".join(rows[::7]) + "\n", encoding="utf-8")
    rt = Runtime(Settings(data_dir=tmp / "var", encoder="hashing"))
    ingest_catalog(path=catalog, db=rt.db, index=rt.index)
    train_catalog_reranker(index=rt.index, out_dir=rt.reranker_path, max_queries=300, epochs=8)
    yield rt
    rt.close()


def test_reranker_reorders_the_top_matches_but_keeps_the_set_total_and_facets(shop: Any) -> None:
    reranker = shop.reranker
    assert reranker is not None, "the runtime loads the trained artifact"
    moved = 0
    for q in QUERIES:
        plain = shop.index.search(q, SearchFilters(), limit=RERANK_DEPTH, facets=("color",))
        ranked, _ = ranked_search(
            shop.index, q, SearchFilters(), limit=RERANK_DEPTH, facets=("color",), reranker=reranker
        )
        assert ranked.total == plain.total and ranked.facets == plain.facets
        assert {h.product.id for h in ranked.hits} == {h.product.id for h in plain.hits}
        scores = [h.score for h in ranked.hits]
        assert scores == sorted(scores, reverse=True)
        assert ("rerank_ms" in ranked.timings_ms) == (len(plain.hits) > 1)
        moved += [h.product.id for h in ranked.hits] != [h.product.id for h in plain.hits]
    assert moved >= 3, "a trained re-ranker changes the order of most queries' results"


def test_pages_of_the_reranked_order_are_consistent(shop: Any) -> None:
    reranker = shop.reranker
    full, _ = ranked_search(shop.index, "watch", SearchFilters(), limit=20, reranker=reranker)
    pages = [
        ranked_search(shop.index, "watch", SearchFilters(), limit=5, offset=o, reranker=reranker)[0]
        for o in (0, 5, 10, 15)
    ]
    assert [h.product.id for p in pages for h in p.hits] == [h.product.id for h in full.hits]


def test_explicit_sort_and_filter_only_browse_keep_their_order(shop: Any) -> None:
    reranker = shop.reranker
    for query, sort in (("watch", "price_asc"), ("", "relevance")):
        plain = shop.index.search(query, SearchFilters(), sort=sort, limit=10)
        ranked, _ = ranked_search(shop.index, query, SearchFilters(), sort=sort, limit=10, reranker=reranker)
        assert [h.product.id for h in ranked.hits] == [h.product.id for h in plain.hits]


def test_api_search_uses_the_reranker_and_filters_still_hold(shop: Any) -> None:
    from api.app import create_app

    with TestClient(create_app(runtime=shop)) as client:
        r = client.get("/v1/products/search", params={"q": "watch", "price_max": 200, "limit": 20})
        assert r.status_code == 200, r.text
        body = r.json()
    assert body["products"] and all(p["price"] <= 200 for p in body["products"])
    ranked, _ = ranked_search(
        shop.index, "watch", SearchFilters(price_max=200), limit=20, reranker=shop.reranker
    )
    assert [p["id"] for p in body["products"]] == [h.product.id for h in ranked.hits]


def test_personal_boosts_lift_a_product_and_say_why(shop: Any) -> None:
    plain = shop.index.search("dress", SearchFilters(), limit=RERANK_DEPTH)
    assert len(plain.hits) >= 5
    last = plain.hits[-1].product.id

    def boosts(ids: Any) -> dict[str, tuple[float, str]]:
        return {last: (1.0, "often chosen after Test Shoe")} if last in ids else {}

    ranked, why = ranked_search(shop.index, "dress", SearchFilters(), limit=RERANK_DEPTH, boosts=boosts)
    order = [h.product.id for h in ranked.hits]
    assert order.index(last) < len(order) - 1
    assert why == {last: "often chosen after Test Shoe"}
    assert np.isfinite([h.score for h in ranked.hits]).all()
