"""Retrieval quality on a graded relevance set (nDCG@10, MRR@10, Recall@100) and latency.

Files (tab-separated, UTF-8, header row): products ``product_id, title``;
queries ``query_id, query``; labels ``query_id, product_id, relevance``.
Gain = relevance − 1 (the Home Depot scale is 1..3); a product is *relevant*
(for MRR and recall) when its gain is above 0.  ``pool="all"`` ranks every
product; ``pool="judged"`` ranks only each query's judged products.
"""

from __future__ import annotations

import csv
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval._schema import Product

__all__ = [
    "RelevanceSet",
    "load_relevance_set",
    "read_title_products",
    "ndcg_at_k",
    "mrr_at_k",
    "recall_at_k",
    "evaluate_ranker",
    "measure_latency",
]

Ranker = Callable[[str, Sequence[str] | None], list[str]]


@dataclass
class RelevanceSet:
    queries: dict[str, str]
    gains: dict[str, dict[str, float]]  # query id → product id → gain

    def split(self, fraction: float, *, seed: int = 0) -> tuple[RelevanceSet, RelevanceSet]:
        """Two disjoint query sets (for tuning on one and reporting on the other)."""
        ids = sorted(self.queries)
        rng = np.random.default_rng(seed)
        rng.shuffle(ids)
        cut = int(len(ids) * fraction)
        a, b = set(ids[:cut]), set(ids[cut:])
        return (
            RelevanceSet({q: self.queries[q] for q in a}, {q: self.gains[q] for q in a}),
            RelevanceSet({q: self.queries[q] for q in b}, {q: self.gains[q] for q in b}),
        )


def _rows(path: Path) -> Iterable[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)


def read_title_products(path: Path) -> list[Product]:
    """Products from a ``product_id, title`` TSV (price unknown → 0)."""
    out = []
    for row in _rows(path):
        pid, title = (row.get("product_id") or "").strip(), (row.get("title") or "").strip()
        if pid and title:
            out.append(Product(id=pid, title=title, price=0.0))
    if not out:
        raise ValueError(f"{path}: no rows with product_id and title")
    return out


def load_relevance_set(queries: Path, labels: Path) -> RelevanceSet:
    texts = {r["query_id"]: r["query"] for r in _rows(queries) if r.get("query_id") and r.get("query")}
    gains: dict[str, dict[str, float]] = defaultdict(dict)
    for r in _rows(labels):
        qid = r.get("query_id")
        if qid in texts:
            gains[qid][r["product_id"]] = float(r["relevance"]) - 1.0
    kept = {q: t for q, t in texts.items() if q in gains}
    if not kept:
        raise ValueError(f"{labels}: no labels for the queries in {queries}")
    return RelevanceSet(kept, dict(gains))


def ndcg_at_k(ranked: Sequence[str], gains: dict[str, float], k: int = 10) -> float:
    """Linear-gain nDCG; the ideal ranking orders every judged product by gain."""
    dcg = sum(gains.get(pid, 0.0) / math.log2(i + 2) for i, pid in enumerate(ranked[:k]))
    ideal = sorted(gains.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def mrr_at_k(ranked: Sequence[str], gains: dict[str, float], k: int = 10) -> float:
    for i, pid in enumerate(ranked[:k]):
        if gains.get(pid, 0.0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def recall_at_k(ranked: Sequence[str], gains: dict[str, float], k: int = 100) -> float:
    relevant = {pid for pid, g in gains.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def evaluate_ranker(
    rel: RelevanceSet,
    ranker: Ranker,
    *,
    pool: str = "all",
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, float | int]:
    """Run ``ranker(query, candidates)`` for each query; candidates is None for the full pool."""
    if pool not in ("all", "judged"):
        raise ValueError("pool must be 'all' or 'judged'")
    ndcg, mrr, recall, lat = [], [], [], []
    qids = sorted(rel.queries)
    for n, qid in enumerate(qids, 1):
        gains = rel.gains[qid]
        cands = sorted(gains) if pool == "judged" else None
        t0 = time.perf_counter()
        ranked = ranker(rel.queries[qid], cands)
        lat.append((time.perf_counter() - t0) * 1000.0)
        ndcg.append(ndcg_at_k(ranked, gains, 10))
        mrr.append(mrr_at_k(ranked, gains, 10))
        recall.append(recall_at_k(ranked, gains, 100))
        if progress:
            progress(n, len(qids))
    return {
        "n_queries": len(qids),
        "ndcg@10": round(float(np.mean(ndcg)), 4),
        "mrr@10": round(float(np.mean(mrr)), 4),
        "recall@100": round(float(np.mean(recall)), 4),
        "p50_ms": round(float(np.percentile(lat, 50)), 2),
        "p95_ms": round(float(np.percentile(lat, 95)), 2),
    }


def measure_latency(
    rel: RelevanceSet, ranker: Ranker, *, pool: str = "all", n: int = 1000
) -> dict[str, float | int]:
    """p50/p95 milliseconds of ``ranker`` over the first ``n`` queries (by id), one query at a time."""
    qids = sorted(rel.queries)[:n]
    lat = []
    for qid in qids:
        cands = sorted(rel.gains[qid]) if pool == "judged" else None
        t0 = time.perf_counter()
        ranker(rel.queries[qid], cands)
        lat.append((time.perf_counter() - t0) * 1000.0)
    return {
        "latency_queries": len(qids),
        "p50_ms": round(float(np.percentile(lat, 50)), 2),
        "p95_ms": round(float(np.percentile(lat, 95)), 2),
    }
