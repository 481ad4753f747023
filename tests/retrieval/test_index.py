"""HybridIndex: filters never leak, sorting and paging, brute-force rankings, persistence, cheap updates.

Unit tests use the deterministic :class:`HashingEncoder` and a real in-memory Chroma
(``open_chroma_client(path=None)``, shared in-process: every index gets its own
collection name) or a real PersistentClient in a temp folder.
"""

from __future__ import annotations

import math
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrieval import (
    MODES,
    SORTS,
    HashingEncoder,
    HybridIndex,
    Product,
    ProductNotIndexed,
    SearchFilters,
    ShopAssistEmbeddingFunction,
    blend,
    open_chroma_client,
    rrf,
)
from retrieval._chroma import chroma_where

DIM = 64
FLOOR = 0.5  # HybridIndex's default dense_floor

# ----------------------------------------------------------------------------- helpers


_CLIENT: Any = None


def ephemeral_client() -> Any:
    """One in-memory Chroma for the module (Hypothesis examples cannot take function fixtures)."""
    global _CLIENT
    if _CLIENT is None:
        _CLIENT = open_chroma_client(path=None)
    return _CLIENT


def unique_name() -> str:
    return "t" + uuid.uuid4().hex[:16]


@contextmanager
def fresh_index(
    products: Sequence[Product] = (), *, name: str | None = None, **kwargs: Any
) -> Iterator[HybridIndex]:
    """A HybridIndex on its own ephemeral collection (``name``, default a new one), dropped afterwards."""
    client = ephemeral_client()
    name = name or unique_name()
    index = HybridIndex(
        encoder=kwargs.pop("encoder", None) or HashingEncoder(DIM), client=client, collection=name, **kwargs
    )
    try:
        if products:
            index.upsert(list(products))
            index.commit()
        yield index
    finally:
        client.delete_collection(name)


def ids(result: Any) -> list[str]:
    return [h.product.id for h in result.hits]


def need_terms(n_terms: int) -> int:
    """Query terms a product must contain to match lexically: all of one or two, 60 % of more."""
    return n_terms if n_terms <= 2 else math.ceil(0.6 * n_terms)


def relevance(hit: Any, *, has_query: bool) -> float:
    """The relevance order: the fused score, or without a query the rating (more ratings win ties)."""
    if has_query:
        return float(hit.score)
    p = hit.product
    return (p.rating or 0.0) + math.log1p(p.rating_count) / 100.0


def assert_sorted(hits: Sequence[Any], sort: str, *, has_query: bool) -> None:
    for a, b in zip(hits, hits[1:], strict=False):
        pa, pb = a.product, b.product
        ra, rb = relevance(a, has_query=has_query), relevance(b, has_query=has_query)
        if sort == "price_asc":
            assert pa.price <= pb.price
            if pa.price == pb.price:
                assert ra >= rb - 1e-12
        elif sort == "price_desc":
            assert pa.price >= pb.price
            if pa.price == pb.price:
                assert ra >= rb - 1e-12
        elif sort == "rating_desc":
            assert (pa.rating or 0.0, pa.rating_count) >= (pb.rating or 0.0, pb.rating_count)
        else:
            assert ra >= rb - 1e-12


class CountingEncoder:
    """A HashingEncoder that counts what it encodes (to prove an update did not re-embed)."""

    name = "hashing"

    def __init__(self, dim: int = DIM) -> None:
        self.dim = dim
        self._inner = HashingEncoder(dim)
        self.n_texts = 0
        self.n_queries = 0

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Callable[[int], None] | None = None
    ) -> Any:
        self.n_texts += len(texts)
        return self._inner.encode(texts, batch_size=batch_size, progress=progress)

    def encode_query(self, text: str) -> Any:
        self.n_queries += 1
        return self._inner.encode_query(text)


# ----------------------------------------------------------------------------- random catalogs

WORDS = [
    "black",
    "white",
    "leather",
    "cotton",
    "watch",
    "shoe",
    "bag",
    "shirt",
    "classic",
    "sport",
    "slim",
    "steel",
    "canvas",
    "running",
    "casual",
]
TYPES = ["watch", "shoe", "bag", "shirt", "running shoe", ""]
BRANDS = ["Acme", "zeta co", "NOVA", ""]
COLORS = ["black", "white", "navy blue"]
MATERIALS = ["leather", "cotton"]
SIZES = ["s", "xl", "10.5"]
GENDERS = ["men", "women", "boys", "unisex"]
CATEGORIES = [
    "",
    "Apparel",
    "Apparel > Topwear",
    "Apparel > Topwear > Shirts",
    "Apparel > Bottomwear",
    "Accessories > Watches",
    "Accessories > Watches > Smart",
]
PRICES = [0.0, 9.99, 10.0, 49.5, 100.0, 250.0, 999.99]


def _maybe(values: Sequence[str]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.sampled_from(values))


@st.composite
def products_st(draw: st.DrawFn, i: int) -> Product:
    attributes: dict[str, str] = {}
    for name, values in (("color", COLORS), ("material", MATERIALS), ("size", SIZES), ("gender", GENDERS)):
        v = draw(_maybe(values))
        if v is not None:
            # display forms vary in case and spacing; the schema normalises filterable ones
            attributes[name] = draw(st.sampled_from([v, v.upper(), f" {v.title()} "]))
    words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4))
    rating = draw(st.one_of(st.none(), st.integers(0, 50).map(lambda r: r / 10)))
    return Product(
        id=f"p{i}",
        title=" ".join([*words, f"item{i}"]),
        product_type=draw(st.sampled_from(TYPES)),
        category=draw(st.sampled_from(CATEGORIES)),
        brand=draw(st.sampled_from(BRANDS)),
        price=draw(st.one_of(st.sampled_from(PRICES), st.floats(0, 1000, allow_nan=False))),
        rating=rating,
        rating_count=draw(st.integers(0, 500)),
        in_stock=draw(st.booleans()),
        attributes=attributes,
    )


@st.composite
def catalogs_st(draw: st.DrawFn, min_size: int = 30, max_size: int = 80) -> list[Product]:
    n = draw(st.integers(min_size, max_size))
    return [draw(products_st(i)) for i in range(n)]


FILTER_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "product_type": st.sampled_from([*TYPES[:-1], "sofa"]),
    # "apparel > top" is a prefix of a level name, not a level: it must match nothing
    "category": st.sampled_from(
        [
            "apparel",
            "APPAREL > Topwear",
            "accessories",
            "accessories > watches",
            "apparel > top",
            "Apparel > Topwear > Shirts",
        ]
    ),
    "brand": st.sampled_from(["acme", "Zeta Co", "nova", "other"]),
    "color": st.sampled_from([*COLORS, "Navy  Blue", "purple"]),
    "material": st.sampled_from(MATERIALS),
    "size": st.sampled_from([*SIZES, "XL"]),
    "gender": st.sampled_from(GENDERS),
    "price_min": st.one_of(st.sampled_from(PRICES), st.floats(0, 1000, allow_nan=False)),
    "price_max": st.one_of(st.sampled_from(PRICES), st.floats(0, 1000, allow_nan=False)),
    "rating_min": st.sampled_from([0.0, 2.5, 4.0, 5.0]),
    "in_stock": st.booleans(),
}


@st.composite
def filters_st(draw: st.DrawFn) -> SearchFilters:
    """One to three filters at a time (more would leave almost nothing to compare)."""
    names = draw(st.lists(st.sampled_from(sorted(FILTER_VALUES)), min_size=0, max_size=3, unique=True))
    return SearchFilters(**{name: draw(FILTER_VALUES[name]) for name in names})


words_st = st.lists(st.sampled_from([*WORDS, "zzzunknown", "the"]), min_size=1, max_size=4).map(" ".join)
query_st = st.one_of(st.just(""), words_st)
request_st = st.tuples(
    filters_st(), query_st, st.sampled_from(SORTS), st.sampled_from(MODES), st.integers(1, 7)
)

HYPO = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------- property tests


@HYPO
@given(
    catalog=catalogs_st(),
    inactive=st.sets(st.integers(0, 29), max_size=5),
    requests=st.lists(request_st, min_size=3, max_size=5),
)
def test_search_never_leaks_and_sorts_and_pages(
    catalog: list[Product], inactive: set[int], requests: list[tuple[SearchFilters, str, str, str, int]]
) -> None:
    hidden = {catalog[i].id for i in inactive}
    with fresh_index(catalog) as index:
        assert index.set_active(hidden, False) == len(hidden)
        for filters, query, sort, mode, page_size in requests:
            matching = [p for p in catalog if p.id not in hidden and filters.matches(p)]
            full = index.search(query, filters, sort=sort, mode=mode, limit=len(catalog) + 1)
            got = ids(full)

            # every hit satisfies every filter and is active; total counts the hits
            assert all(filters.matches(h.product) for h in full.hits)
            assert not hidden.intersection(got)
            assert len(got) == len(set(got)) == full.total <= len(matching)
            # without a query, exactly the matching products
            listed = got if not query.strip() else ids(index.search("", filters, limit=len(catalog) + 1))
            assert set(listed) == {p.id for p in matching}
            if query.strip():
                for h in full.hits:  # each hit matched the query lexically or by meaning
                    lexical_ok = h.n_terms > 0 and h.matched_terms >= need_terms(h.n_terms)
                    dense_ok = h.dense >= FLOOR
                    assert {"bm25": lexical_ok, "dense": dense_ok, "hybrid": lexical_ok or dense_ok}[mode]
            if query.strip() and mode == "dense":
                # brute force: products whose cosine with the query reaches the floor
                cos = dense_reference(matching, query)
                surely = {pid for pid, c in cos.items() if c >= FLOOR + 1e-5}
                maybe = {pid for pid, c in cos.items() if c >= FLOOR - 1e-5}
                assert surely <= set(got) <= maybe
            assert_sorted(full.hits, sort, has_query=bool(query.strip()))

            # pages of page_size partition the full result, in order, without overlap
            paged: list[str] = []
            for offset in range(0, full.total + page_size, page_size):
                page = index.search(query, filters, sort=sort, mode=mode, limit=page_size, offset=offset)
                assert page.total == full.total
                assert len(page.hits) == max(0, min(page_size, full.total - offset))
                paged.extend(ids(page))
            assert paged == got


@HYPO
@given(
    catalog=catalogs_st(),
    inactive=st.sets(st.integers(0, 29), max_size=5),
    requests=st.lists(st.tuples(filters_st(), words_st), min_size=3, max_size=5),
)
def test_chroma_where_equals_columns_mask_equals_matches(
    catalog: list[Product], inactive: set[int], requests: list[tuple[SearchFilters, str]]
) -> None:
    hidden = {catalog[i].id for i in inactive}
    name = unique_name()
    with fresh_index(catalog, name=name) as index:
        index.set_active(hidden, False)
        index.commit()
        collection = ephemeral_client().get_collection(name)
        # a second index on the same collection, dense side through Chroma's where + HNSW
        chroma_side = HybridIndex(
            encoder=HashingEncoder(DIM),
            client=ephemeral_client(),
            collection=collection.name,
            dense_strategy="chroma",
        )
        assert chroma_side.n_products == len(catalog)
        for filters, query in requests:
            by_rule = {p.id for p in catalog if p.id not in hidden and filters.matches(p)}
            by_mask = set(ids(index.search("", filters, limit=len(catalog) + 1)))
            by_chroma = set(collection.get(where=chroma_where(filters), include=[])["ids"])
            assert by_mask == by_rule
            assert by_chroma == by_rule

            # Chroma's own nearest-neighbour query never returns a filtered-out product
            if by_rule:
                res = collection.query(
                    query_embeddings=[HashingEncoder(DIM).encode_query(query)],
                    n_results=len(catalog),
                    where=chroma_where(filters),
                    include=[],
                )
                assert set(res["ids"][0]) == by_rule
            hits = chroma_side.search(query, filters, mode="dense", limit=len(catalog) + 1).hits
            assert {h.product.id for h in hits} <= by_rule
            # and scores the same products as the numpy scan does
            numpy_ranked = index.rank(query, filters, k=len(catalog), mode="dense")
            chroma_ranked = chroma_side.rank(query, filters, k=len(catalog), mode="dense")
            assert {pid for pid, _ in numpy_ranked} == {pid for pid, _ in chroma_ranked} == by_rule
            numpy_scores = dict(numpy_ranked)
            for pid, score in chroma_ranked:
                assert score == pytest.approx(numpy_scores[pid], abs=1e-4)


# ----------------------------------------------------------------------------- fusion (pure functions)

scores_st = st.integers(2, 30).flatmap(
    lambda n: st.tuples(
        # BM25-like scores ≥ 0 and cosines in [-1, 1], on a grid (no sub-ulp differences)
        st.lists(st.integers(0, 500).map(lambda x: x / 10), min_size=n, max_size=n),
        st.lists(st.integers(-100, 100).map(lambda x: x / 100), min_size=n, max_size=n),
        st.integers(0, n - 1),
    )
)


@settings(max_examples=200, deadline=None)
@given(data=scores_st, alpha=st.floats(0, 1), k=st.integers(1, 100))
def test_fusion_keeps_the_item_both_lists_put_first_on_top(
    data: tuple[list[float], list[float], int], alpha: float, k: int
) -> None:
    lex_l, dense_l, top = data
    lex, dense = np.asarray(lex_l), np.asarray(dense_l)
    lex[top] = lex.max() + 1.0  # strictly first in both lists
    dense[top] = dense.max() + 0.5
    for fused in (blend(lex, dense, alpha=alpha), rrf(lex, dense, k=k)):
        others = np.delete(fused, top)
        assert fused[top] > others.max()


@settings(max_examples=200, deadline=None)
@given(data=scores_st, alpha=st.floats(0, 1))
def test_fusion_respects_dominance(data: tuple[list[float], list[float], int], alpha: float) -> None:
    """An item better than another in both lists is fused strictly higher."""
    lex_l, dense_l, _ = data
    lex, dense = np.asarray(lex_l), np.asarray(dense_l)
    fused_b, fused_r = blend(lex, dense, alpha=alpha), rrf(lex, dense)
    for a in range(len(lex)):
        for b in range(len(lex)):
            if lex[a] > lex[b] and dense[a] > dense[b]:
                assert fused_b[a] > fused_b[b]
                assert fused_r[a] > fused_r[b]


def test_fusion_values_by_hand() -> None:
    lex = np.array([4.0, 0.0, 2.0])
    dense = np.array([0.2, 0.6, 1.0])
    # blend: lex / max = [1, 0, .5]; dense min-max over [.2, 1] = [0, .5, 1]
    # alpha .4 → .4·dense + .6·lex = [.6, .2, .7]
    assert blend(lex, dense, alpha=0.4) == pytest.approx([0.6, 0.2, 0.7])
    # rrf (k=60): lexical ranks [0, 2, 1], but item 1 has no lexical match → no lexical share;
    # dense ranks [2, 1, 0]
    assert rrf(lex, dense) == pytest.approx([1 / 61 + 1 / 63, 1 / 62, 1 / 62 + 1 / 61])
    # nothing matched lexically: blend is the dense side alone, rrf too
    assert blend(np.zeros(3), dense, alpha=0.4) == pytest.approx([0.0, 0.2, 0.4])
    assert rrf(np.zeros(3), dense) == pytest.approx([1 / 63, 1 / 62, 1 / 61])


# ----------------------------------------------------------------------------- brute-force comparisons

HAND = [
    Product(
        id="w1",
        title="Classic Black Leather Watch",
        product_type="watch",
        brand="Acme",
        price=120,
        rating=4.5,
        rating_count=30,
        attributes={"color": "black", "material": "leather", "gender": "men"},
    ),
    Product(
        id="w2",
        title="Steel Sport Watch",
        product_type="watch",
        brand="Nova",
        price=80,
        rating=4.0,
        attributes={"color": "silver", "material": "steel", "gender": "unisex"},
    ),
    Product(
        id="w3",
        title="Black Digital Watch for Runners",
        product_type="watch",
        brand="Acme",
        price=45,
        rating=3.5,
        attributes={"color": "black", "gender": "women"},
    ),
    Product(
        id="s1",
        title="Black Running Shoe",
        product_type="running shoe",
        brand="Stride",
        price=95,
        rating=4.8,
        rating_count=200,
        attributes={"color": "black", "gender": "men", "size": "10"},
    ),
    Product(
        id="s2",
        title="White Canvas Sneaker",
        product_type="sneaker",
        brand="Stride",
        price=60,
        attributes={"color": "white", "material": "canvas", "gender": "unisex"},
    ),
    Product(
        id="b1",
        title="Black Leather Bag",
        product_type="bag",
        brand="Acme",
        price=150,
        rating=4.1,
        attributes={"color": "black", "material": "leather", "gender": "women"},
    ),
    Product(
        id="b2",
        title="Canvas Tote Bag with Leather Straps",
        product_type="bag",
        brand="Nova",
        price=35,
        attributes={"color": "beige", "material": "canvas"},
    ),
    Product(
        id="t1",
        title="Cotton Crew T-Shirt",
        product_type="t-shirt",
        brand="Basics",
        price=15,
        rating=4.2,
        attributes={"color": "white", "material": "cotton", "gender": "men"},
    ),
    Product(
        id="t2",
        title="Black Cotton T-Shirt Slim Fit",
        product_type="t-shirt",
        brand="Basics",
        price=18,
        attributes={"color": "black", "material": "cotton", "gender": "men"},
    ),
    Product(
        id="j1",
        title="Denim Jacket",
        product_type="jacket",
        brand="Rugged",
        price=89,
        in_stock=False,
        attributes={"color": "blue", "material": "denim", "gender": "women"},
    ),
    Product(
        id="j2",
        title="Black Leather Jacket",
        product_type="jacket",
        brand="Rugged",
        price=240,
        rating=4.7,
        rating_count=12,
        attributes={"color": "black", "material": "leather", "gender": "men"},
    ),
    Product(
        id="k1",
        title="Watch Winder Box",
        product_type="watch accessory",
        brand="Acme",
        price=70,
        description="Keeps automatic watches wound",
    ),
]
RANK_QUERIES = [
    "black leather watch",
    "running shoe",
    "canvas bag",
    "black",
    "cotton t-shirt slim",
    "watch",
    "leather jacket for men",
]
RANK_FILTERS = [
    SearchFilters(),
    SearchFilters(color="black"),
    SearchFilters(price_max=100),
    SearchFilters(gender="men", material="leather"),
]


def dense_reference(products: Sequence[Product], query: str) -> dict[str, float]:
    """Cosine of each product's embedding text with the query (HashingEncoder rows are unit length)."""
    enc = HashingEncoder(DIM)
    qv = enc.encode_query(query)
    return {p.id: float(enc.encode([p.embedding_text()])[0] @ qv) for p in products}


def bm25_reference(
    products: Sequence[Product], query: str, *, k1: float = 1.2, b: float = 0.75
) -> dict[str, float]:
    """BM25 (Lucene variant) written out over the same tokens (English stop words, Snowball stems).

    idf = ln(1 + (N − df + .5) / (df + .5)); term part = tf / (tf + k1 · (1 − b + b · dl / avgdl)).
    """
    import bm25s
    import Stemmer

    stem = Stemmer.Stemmer("english")
    docs = bm25s.tokenize(
        [p.search_text() for p in products],
        stopwords="en",
        stemmer=stem,
        return_ids=False,
        show_progress=False,
    )
    q = bm25s.tokenize([query], stopwords="en", stemmer=stem, return_ids=False, show_progress=False)[0]
    vocab = {t for d in docs for t in d}
    terms = list(dict.fromkeys(t for t in q if t in vocab))
    n = len(docs)
    avgdl = sum(len(d) for d in docs) / n
    out = {}
    for p, d in zip(products, docs, strict=True):
        score = 0.0
        for t in terms:
            df = sum(t in other for other in docs)
            tf = d.count(t)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            score += idf * tf / (tf + k1 * (1 - b + b * len(d) / avgdl))
        out[p.id] = score
    return out


@pytest.fixture(scope="module")
def hand_index() -> Iterator[HybridIndex]:
    with fresh_index(HAND) as index:
        yield index


@pytest.mark.parametrize("filters", RANK_FILTERS, ids=lambda f: str(f.active()))
@pytest.mark.parametrize("query", RANK_QUERIES)
def test_dense_rank_equals_brute_force_dot_products(
    hand_index: HybridIndex, query: str, filters: SearchFilters
) -> None:
    cos = dense_reference(HAND, query)
    expected = sorted(((p.id, cos[p.id]) for p in HAND if filters.matches(p)), key=lambda x: -x[1])
    for k in (3, len(HAND)):
        got = hand_index.rank(query, filters, k=k, mode="dense")
        assert len(got) == min(k, len(expected))
        # same scores in the same order; ids equal wherever the brute-force scores are not tied
        assert [s for _, s in got] == pytest.approx([s for _, s in expected[:k]], abs=1e-5)
        ref = dict(expected)
        for pid, s in got:
            assert s == pytest.approx(ref[pid], abs=1e-5)
        untied = [
            pid
            for i, (pid, s) in enumerate(expected[:k])
            if all(abs(s - o) > 1e-5 for j, (_, o) in enumerate(expected) if j != i)
        ]
        assert [pid for pid, _ in got if pid in untied] == untied


@pytest.mark.parametrize("filters", RANK_FILTERS, ids=lambda f: str(f.active()))
@pytest.mark.parametrize("query", RANK_QUERIES)
def test_bm25_rank_equals_brute_force_bm25(
    hand_index: HybridIndex, query: str, filters: SearchFilters
) -> None:
    ref = bm25_reference(HAND, query)  # idf over the whole catalog, as the index computes it
    got = hand_index.rank(query, filters, k=len(HAND), mode="bm25")
    assert {pid for pid, _ in got} == {p.id for p in HAND if filters.matches(p)}
    for pid, score in got:
        assert score == pytest.approx(ref[pid], rel=1e-4, abs=1e-6)
    scores = [s for _, s in got]
    assert scores == sorted(scores, reverse=True)


def test_bm25_search_hits_contain_the_words(hand_index: HybridIndex) -> None:
    res = hand_index.search("black leather", mode="bm25", limit=20)
    # all of a two-word query must occur (title or attributes)
    assert set(ids(res)) == {"w1", "b1", "j2"}
    assert all(h.matched_terms == h.n_terms == 2 for h in res.hits)
    assert res.total == 3
    # the top hybrid hit for an exact title is that product
    assert ids(hand_index.search("Classic Black Leather Watch"))[0] == "w1"


def test_similar_equals_brute_force_and_respects_filters(hand_index: HybridIndex) -> None:
    enc = HashingEncoder(DIM)
    vec = {p.id: enc.encode([p.embedding_text()])[0] for p in HAND}
    for filters in RANK_FILTERS:
        expected = sorted(
            ((p.id, float(vec[p.id] @ vec["w1"])) for p in HAND if p.id != "w1" and filters.matches(p)),
            key=lambda x: -x[1],
        )[:4]
        got = hand_index.similar("w1", filters, k=4)
        assert [p.id for p, _ in got] == [pid for pid, _ in expected]
        assert [s for _, s in got] == pytest.approx([s for _, s in expected], abs=1e-5)
    with pytest.raises(ProductNotIndexed):
        hand_index.similar("nope")


def test_unknown_sort_and_mode_are_rejected(hand_index: HybridIndex) -> None:
    with pytest.raises(ValueError, match="unknown sort"):
        hand_index.search("watch", sort="cheapest")
    with pytest.raises(ValueError, match="unknown mode"):
        hand_index.search("watch", mode="sparse")


# ----------------------------------------------------------------------------- writes


def test_set_active_hides_and_restores_a_product() -> None:
    with fresh_index(HAND) as index:
        assert "w1" in ids(index.search("black leather watch"))
        assert index.set_active(["w1", "unknown-id"], False) == 1
        assert index.set_active(["w1"], False) == 0  # already inactive
        assert not index.is_active("w1")
        assert index.n_active == len(HAND) - 1
        for query in ("black leather watch", ""):
            res = index.search(query, limit=50)
            assert "w1" not in ids(res)
        assert "w1" not in [pid for pid, _ in index.rank("black leather watch", k=50)]
        assert "w1" not in [p.id for p, _ in index.similar("w3", k=50)]
        assert index.get("w1").title == "Classic Black Leather Watch"  # kept, orders refer to it
        assert index.search("").total == len(HAND) - 1

        assert index.set_active(["w1"], True) == 1
        assert ids(index.search("Classic Black Leather Watch"))[0] == "w1"
        assert index.search("").total == len(HAND)


def test_update_products_changes_price_filters_without_reencoding() -> None:
    encoder = CountingEncoder()
    name = unique_name()
    with fresh_index(HAND, encoder=encoder, name=name) as index:
        texts_before = encoder.n_texts
        vector_before = index.vector("w1").copy()
        cheap = SearchFilters(price_max=100)
        assert "w1" not in ids(index.search("", cheap, limit=50))  # 120 > 100

        index.update_products([index.get("w1").model_copy(update={"price": 99.0, "in_stock": False})])
        assert encoder.n_texts == texts_before
        np.testing.assert_array_equal(index.vector("w1"), vector_before)
        assert index.get("w1").price == 99.0
        assert "w1" in ids(index.search("", cheap, limit=50))
        assert "w1" not in ids(index.search("", SearchFilters(in_stock=True), limit=50))
        assert "w1" not in ids(index.search("", SearchFilters(price_min=100), limit=50))

        # Chroma, the store of record, has the new price too (and the where filter agrees)
        col = ephemeral_client().get_collection(name)
        got = col.get(ids=["w1"], include=["metadatas"])
        assert got["metadatas"][0]["price"] == 99.0
        assert "w1" in col.get(where=chroma_where(cheap), include=[])["ids"]

        # an unknown product is ignored; an inactive one stays inactive
        index.update_products([Product(id="ghost", title="Ghost", price=1.0)])
        assert "ghost" not in index
        index.set_active(["w2"], False)
        index.update_products([index.get("w2").model_copy(update={"price": 1.0})])
        assert not index.is_active("w2")
        assert "w2" not in ids(index.search("", SearchFilters(price_max=5), limit=50))
        assert encoder.n_texts == texts_before


def test_upsert_replaces_a_product_in_place() -> None:
    with fresh_index(HAND) as index:
        index.upsert([HAND[0].model_copy(update={"title": "Golden Pocket Watch", "price": 500})])
        index.commit()
        assert index.n_products == len(HAND)
        assert index.get("w1").title == "Golden Pocket Watch"
        assert ids(index.search("golden pocket", mode="bm25")) == ["w1"]
        assert index.search("classic", mode="bm25").total == 0  # the old title's word is gone
        assert ids(index.search("Golden Pocket Watch"))[0] == "w1"  # and the new one is embedded
        assert "w1" in ids(index.search("", SearchFilters(price_min=400)))
        with pytest.raises(ValueError, match="shape"):
            index.upsert([HAND[1]], np.zeros((1, DIM + 1), np.float32))


# ----------------------------------------------------------------------------- persistence

PERSIST_REQUESTS: list[tuple[str, SearchFilters, str]] = [
    ("black leather", SearchFilters(), "relevance"),
    ("watch", SearchFilters(price_max=100), "price_asc"),
    ("", SearchFilters(color="black"), "rating_desc"),
    ("", SearchFilters(), "relevance"),
    ("canvas", SearchFilters(gender="women"), "price_desc"),
]


def snapshot_of(index: HybridIndex) -> list[list[tuple[str, float, float, float]]]:
    out = []
    for query, filters, sort in PERSIST_REQUESTS:
        res = index.search(query, filters, sort=sort, limit=50)
        out.append(
            [(h.product.id, round(h.score, 6), round(h.lexical, 5), round(h.dense, 5)) for h in res.hits]
        )
    return out


def open_persistent(tmp_path: Path, index_dir: str = "index") -> HybridIndex:
    client = open_chroma_client(path=tmp_path / "chroma")
    return HybridIndex(
        encoder=HashingEncoder(DIM), client=client, collection="products", index_dir=tmp_path / index_dir
    )


def test_commit_then_reopen_gives_identical_results(tmp_path: Path) -> None:
    first = open_persistent(tmp_path)
    first.upsert(HAND)
    first.set_active(["b2"], False)
    version = first.commit()
    expected = snapshot_of(first)
    assert any(expected)

    second = open_persistent(tmp_path)  # loads the local snapshot
    assert second.version == version
    assert snapshot_of(second) == expected
    assert not second.is_active("b2") and second.n_active == len(HAND) - 1

    # without the snapshot the mirror is rebuilt from Chroma, with the same results, and saved again
    shutil.rmtree(tmp_path / "index" / "snapshot")
    third = open_persistent(tmp_path)
    assert third.version == version
    assert snapshot_of(third) == expected
    assert not third.is_active("b2")
    assert (tmp_path / "index" / "snapshot" / "manifest.json").is_file()

    # a stale snapshot (an older version) is not trusted either
    first.upsert([Product(id="n1", title="Black Leather Belt", price=30, attributes={"color": "black"})])
    first.commit()
    fourth = open_persistent(tmp_path, index_dir="other-index")
    assert "n1" in fourth
    assert "n1" in ids(fourth.search("leather belt"))


@pytest.mark.parametrize("shared_dir", [True, False], ids=["shared-index-dir", "own-index-dir"])
def test_reload_if_changed_picks_up_another_instances_commit(tmp_path: Path, shared_dir: bool) -> None:
    writer = open_persistent(tmp_path)
    writer.upsert(HAND[:6])
    writer.commit()
    reader = open_persistent(tmp_path, "index" if shared_dir else "reader-index")
    assert reader.n_products == 6
    assert not reader.reload_if_changed(min_interval_s=0)  # nothing new yet

    writer.upsert(HAND[6:])
    writer.update_products([HAND[0].model_copy(update={"price": 1.0})])
    writer.set_active(["w2"], False)
    new_version = writer.commit()
    assert reader.n_products == 6  # not yet seen
    assert reader.reload_if_changed(min_interval_s=0)
    assert reader.version == new_version
    assert reader.n_products == len(HAND)
    assert ids(reader.search("Black Leather Jacket"))[0] == "j2"
    assert reader.get("w1").price == 1.0
    assert not reader.is_active("w2")
    assert snapshot_of(reader) == snapshot_of(writer)
    assert not reader.reload_if_changed(min_interval_s=0)  # already current
    # the check is rate-limited
    writer.set_active(["w3"], False)
    writer.commit()
    assert not reader.reload_if_changed(min_interval_s=3600)


def test_embedding_function_is_registered_and_round_trips(tmp_path: Path) -> None:
    index = open_persistent(tmp_path)
    index.upsert(HAND)
    index.commit()
    ef = ShopAssistEmbeddingFunction(encoder="hashing", dim=DIM)
    assert ShopAssistEmbeddingFunction.build_from_config(ef.get_config()).get_config() == {
        "encoder": "hashing",
        "dim": DIM,
    }
    # reopening the collection without naming an embedding function rebuilds ours from its config
    col = open_chroma_client(path=tmp_path / "chroma").get_collection("products")
    text = "black leather watch"
    enc = HashingEncoder(DIM)
    qv = enc.encode_query(text)
    nearest = max(HAND, key=lambda p: float(enc.encode([p.embedding_text()])[0] @ qv)).id
    res = col.query(query_texts=[text], n_results=1, include=["distances"])
    assert res["ids"][0] == [nearest]
    assert index.rank(text, k=1, mode="dense")[0][0] == nearest
    np.testing.assert_allclose(ef([text])[0], qv, atol=1e-6)
