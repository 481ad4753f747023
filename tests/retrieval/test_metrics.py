"""Retrieval metrics against values worked out by hand (gain = relevance − 1, linear nDCG)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from retrieval._evaluate import (
    RelevanceSet,
    evaluate_ranker,
    load_relevance_set,
    mrr_at_k,
    ndcg_at_k,
    read_title_products,
    recall_at_k,
)

LOG2_3 = math.log2(3)  # 1.5849625…

# gains already shifted (relevance 1..3 → gain 0..2); "d" is unjudged, "e" is judged but never ranked
GAINS = {"a": 0.0, "b": 2.0, "c": 1.0, "e": 2.0}
RANKED = ["a", "b", "c", "d"]


def test_ndcg_by_hand() -> None:
    # DCG  = 0/log2(2) + 2/log2(3) + 1/log2(4) + 0/log2(5) = 1.2618595 + 0.5 = 1.7618595
    # IDCG = gains sorted [2, 2, 1, 0]: 2/1 + 2/log2(3) + 1/2 + 0 = 2 + 1.2618595 + 0.5 = 3.7618595
    # nDCG = 1.7618595 / 3.7618595 = 0.468348
    dcg = 2 / LOG2_3 + 0.5
    idcg = 2 + 2 / LOG2_3 + 0.5
    assert ndcg_at_k(RANKED, GAINS, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(RANKED, GAINS, 10) == pytest.approx(0.468348, abs=1e-6)
    # the ideal order scores 1, an empty ranking 0
    assert ndcg_at_k(["b", "e", "c", "a"], GAINS, 10) == pytest.approx(1.0)
    assert ndcg_at_k(["e", "b", "c"], GAINS, 10) == pytest.approx(1.0)  # ties in either order
    assert ndcg_at_k([], GAINS, 10) == 0.0


def test_ndcg_cutoff_by_hand() -> None:
    # k = 2: DCG = 0 + 2/log2(3) = 1.2618595; IDCG = 2 + 2/log2(3) = 3.2618595 → 0.386853
    assert ndcg_at_k(RANKED, GAINS, 2) == pytest.approx((2 / LOG2_3) / (2 + 2 / LOG2_3))
    assert ndcg_at_k(RANKED, GAINS, 2) == pytest.approx(0.386853, abs=1e-6)
    # a relevant product at rank 11 does not count at k = 10
    ranked = [f"x{i}" for i in range(10)] + ["b"]
    assert ndcg_at_k(ranked, {"b": 2.0}, 10) == 0.0
    # the ideal list is cut at k too: 12 equally relevant products, 10 of them shown → 1.0
    gains = {f"p{i}": 1.0 for i in range(12)}
    assert ndcg_at_k([f"p{i}" for i in range(10)], gains, 10) == pytest.approx(1.0)


def test_ndcg_without_positive_gain_is_zero() -> None:
    # every judged product has relevance 1 (gain 0): IDCG = 0 → defined as 0, not a division error
    assert ndcg_at_k(["a", "b"], {"a": 0.0, "b": 0.0}, 10) == 0.0
    assert ndcg_at_k(["a"], {}, 10) == 0.0


def test_mrr_by_hand() -> None:
    # "a" has gain 0 (not relevant); first relevant is "b" at rank 2 → 1/2
    assert mrr_at_k(RANKED, GAINS, 10) == 0.5
    # ["d", "a", "c"]: "d" unjudged, "a" gain 0, "c" relevant at rank 3 → 1/3
    assert mrr_at_k(["d", "a", "c"], GAINS, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(["e"], GAINS, 10) == 1.0
    # beyond the cut-off, or nothing relevant: 0
    assert mrr_at_k(["d", "a", "c"], GAINS, 2) == 0.0
    assert mrr_at_k(["a", "d"], GAINS, 10) == 0.0


def test_recall_by_hand() -> None:
    # relevant = gain > 0 = {b, c, e}; RANKED holds b and c → 2/3
    assert recall_at_k(RANKED, GAINS, 100) == pytest.approx(2 / 3)
    # k = 2 keeps ["a", "b"] → 1/3
    assert recall_at_k(RANKED, GAINS, 2) == pytest.approx(1 / 3)
    assert recall_at_k(["e", "c", "b"], GAINS, 100) == 1.0
    # duplicates in a ranking do not count twice: {b} of {b, c, e} → 1/3
    assert recall_at_k(["b", "b", "b"], GAINS, 100) == pytest.approx(1 / 3)
    # no relevant product at all → 0 (not a division error)
    assert recall_at_k(["a"], {"a": 0.0}, 100) == 0.0


def test_evaluate_ranker_averages_and_pools() -> None:
    rel = RelevanceSet(
        queries={"q1": "first", "q2": "second"},
        gains={"q1": {"b": 2.0, "c": 1.0}, "q2": dict(GAINS)},
    )
    seen: list[tuple[str, list[str] | None]] = []

    def ranker(query: str, candidates: Sequence[str] | None) -> list[str]:
        seen.append((query, None if candidates is None else list(candidates)))
        return ["b", "c"] if query == "first" else list(RANKED)

    out = evaluate_ranker(rel, ranker, pool="all")
    # q1: ideal order → nDCG 1, MRR 1, recall 1
    # q2: nDCG 0.468348, MRR 1/2, recall 2/3
    assert out["n_queries"] == 2
    assert out["ndcg@10"] == round((1 + 0.468348) / 2, 4) == 0.7342
    assert out["mrr@10"] == 0.75
    assert out["recall@100"] == round((1 + 2 / 3) / 2, 4) == 0.8333
    assert set(out) == {"n_queries", "ndcg@10", "mrr@10", "recall@100", "p50_ms", "p95_ms"}
    assert 0 <= out["p50_ms"] <= out["p95_ms"]
    assert seen == [("first", None), ("second", None)]  # the whole pool: no candidate list

    seen.clear()
    evaluate_ranker(rel, ranker, pool="judged")
    # each query's judged products, sorted
    assert seen == [("first", ["b", "c"]), ("second", ["a", "b", "c", "e"])]
    with pytest.raises(ValueError, match="pool"):
        evaluate_ranker(rel, ranker, pool="some")


def test_relevance_files_shift_gain_and_drop_unlabelled_queries(tmp_path: Path) -> None:
    queries = tmp_path / "queries.tsv"
    labels = tmp_path / "labels.tsv"
    products = tmp_path / "products.tsv"
    queries.write_text("query_id\tquery\nq1\tblack watch\nq2\tno labels here\n", encoding="utf-8")
    labels.write_text("query_id\tproduct_id\trelevance\nq1\tp1\t3\nq1\tp2\t1\nq9\tp1\t2\n", encoding="utf-8")
    products.write_text("product_id\ttitle\np1\tBlack Watch\np2\t\np3\tRed Shoe\n", encoding="utf-8")

    rel = load_relevance_set(queries, labels)
    assert rel.queries == {"q1": "black watch"}
    assert rel.gains == {"q1": {"p1": 2.0, "p2": 0.0}}  # relevance − 1
    items = read_title_products(products)
    assert [(p.id, p.title, p.price) for p in items] == [("p1", "Black Watch", 0.0), ("p3", "Red Shoe", 0.0)]

    labels.write_text("query_id\tproduct_id\trelevance\nq7\tp1\t3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no labels"):
        load_relevance_set(queries, labels)
    products.write_text("product_id\ttitle\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no rows"):
        read_title_products(products)


def test_split_is_disjoint_and_complete() -> None:
    rel = RelevanceSet({f"q{i}": f"text {i}" for i in range(10)}, {f"q{i}": {"p": 1.0} for i in range(10)})
    a, b = rel.split(0.3, seed=1)
    assert len(a.queries) == 3 and len(b.queries) == 7
    assert set(a.queries).isdisjoint(b.queries)
    assert set(a.queries) | set(b.queries) == set(rel.queries)
    assert rel.split(0.3, seed=1)[0].queries == a.queries  # seeded
