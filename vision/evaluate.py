"""Image-retrieval quality and latency: what ``shopassist eval vision`` prints.

Protocol.  Each query photo ranks the whole gallery by cosine similarity.  The query's own photo
never counts: gallery items with the same resolved image file or the same product id are dropped
from its ranking (without a separate gallery, the queries are the gallery: leave-one-out).

Metrics (bigger is better except latency):

* ``p@1``, ``p@5``: fraction of the top 1 / top 5 with the query's article type;
* ``p@5_type_colour``: fraction of the top 5 with the same article type *and* base colour;
* ``map``: mean average precision of article-type matches over the *whole* ranking (no cut-off;
  every same-type gallery item is relevant);
* ``p50_ms``, ``p95_ms``: single-image embedding latency (batch of 1, after warm-up) from the
  file's bytes: decode and checks, resize, backbone, head.  Measured on a fixed sample of the
  queries (``latency_samples``), since timing 7,500 photos one by one would take minutes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vision.cache import FeatureCache, path_features
from vision.embed import ImageEmbedder
from vision.train import LabelledImage

__all__ = ["RetrievalScores", "exclusion_mask", "measure_latency", "retrieval_scores", "evaluate_embedders"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RetrievalScores:
    n_queries: int
    p_at_1: float
    p_at_5: float
    p_at_5_type_colour: float
    map: float


def exclusion_mask(queries: Sequence[LabelledImage], gallery: Sequence[LabelledImage]) -> NDArray[np.bool_]:
    """``(n_q, n_g)`` True where the gallery item is the query's own photo or product."""
    by_path: dict[Path, list[int]] = {}
    by_id: dict[str, list[int]] = {}
    for j, g in enumerate(gallery):
        by_path.setdefault(g.path.resolve(), []).append(j)
        by_id.setdefault(g.id, []).append(j)
    mask = np.zeros((len(queries), len(gallery)), dtype=bool)
    for i, q in enumerate(queries):
        for j in by_path.get(q.path.resolve(), []) + by_id.get(q.id, []):
            mask[i, j] = True
    return mask


def retrieval_scores(
    q_emb: NDArray[np.float32],
    q_types: Sequence[str],
    q_colours: Sequence[str],
    g_emb: NDArray[np.float32],
    g_types: Sequence[str],
    g_colours: Sequence[str],
    exclude: NDArray[np.bool_],
    *,
    chunk: int = 256,
) -> RetrievalScores:
    """Rank the gallery for every query (cosine; embeddings are unit vectors) and score the rankings."""
    gt = np.asarray(g_types)
    gtc = np.char.add(np.char.add(gt.astype(str), "|"), np.asarray(g_colours).astype(str))
    qt = np.asarray(q_types)
    qtc = np.char.add(np.char.add(qt.astype(str), "|"), np.asarray(q_colours).astype(str))
    n = len(qt)
    if n == 0:
        return RetrievalScores(0, 0.0, 0.0, 0.0, 0.0)
    p1 = p5 = p5tc = ap_sum = 0.0
    for start in range(0, n, chunk):
        sl = slice(start, min(start + chunk, n))
        sims = q_emb[sl] @ g_emb.T
        sims[exclude[sl]] = -np.inf
        order = np.argsort(-sims, axis=1, kind="stable")
        kept = ~np.take_along_axis(exclude[sl], order, axis=1)  # excluded items sort last; never hits
        rel = (gt[order] == qt[sl, None]) & kept
        relc = (gtc[order[:, :5]] == qtc[sl, None]) & kept[:, :5]
        p1 += rel[:, 0].sum()
        p5 += rel[:, :5].sum() / 5  # always over 5 slots, even for a gallery smaller than that
        p5tc += relc.sum() / 5
        hits = np.cumsum(rel, axis=1)
        ranks = np.arange(1, rel.shape[1] + 1)
        n_rel = rel.sum(axis=1)
        ap = np.where(n_rel > 0, (hits / ranks * rel).sum(axis=1) / np.maximum(n_rel, 1), 0.0)
        ap_sum += ap.sum()
    return RetrievalScores(n, float(p1 / n), float(p5 / n), float(p5tc / n), float(ap_sum / n))


def measure_latency(
    embedder: ImageEmbedder, paths: Sequence[Path], *, warmup: int = 3
) -> tuple[float, float]:
    """p50 and p95 milliseconds to embed one photo from its bytes (decode + model), batch of 1."""
    if not paths:
        return 0.0, 0.0
    blobs = [p.read_bytes() for p in paths]
    for data in blobs[:warmup]:
        embedder.embed_bytes(data)
    times = []
    for data in blobs:
        t0 = time.perf_counter()
        embedder.embed_bytes(data)
        times.append((time.perf_counter() - t0) * 1000.0)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def _embed(
    embedder: ImageEmbedder, items: Sequence[LabelledImage], cache: FeatureCache, progress: Progress | None
) -> NDArray[np.float32]:
    feats = path_features(embedder, [str(it.path) for it in items], cache, progress=progress)
    return embedder.finish(feats)


def evaluate_embedders(
    embedders: Sequence[ImageEmbedder],
    queries: Sequence[LabelledImage],
    gallery: Sequence[LabelledImage] | None,
    *,
    cache: FeatureCache,
    latency_samples: int = 100,
    progress: Callable[[str], Progress | None] | None = None,
) -> list[dict[str, Any]]:
    """One result dict per embedder, in the order given (the CLI prints each as a JSON line)."""
    same = gallery is None
    gal = list(queries) if gallery is None else list(gallery)
    exclude = exclusion_mask(queries, gal)
    rng = np.random.default_rng(0)
    sample_idx = sorted(rng.choice(len(queries), size=min(latency_samples, len(queries)), replace=False))
    sample = [queries[i].path for i in sample_idx]
    results = []
    for emb in embedders:
        g_emb = _embed(emb, gal, cache, progress(f"{emb.name}: gallery") if progress else None)
        q_emb = (
            g_emb
            if same
            else _embed(emb, queries, cache, progress(f"{emb.name}: queries") if progress else None)
        )
        scores = retrieval_scores(
            q_emb,
            [q.type for q in queries],
            [q.colour for q in queries],
            g_emb,
            [g.type for g in gal],
            [g.colour for g in gal],
            exclude,
        )
        p50, p95 = measure_latency(emb, sample)
        results.append(
            {
                "embedder": emb.name,
                "p@1": round(scores.p_at_1, 4),
                "p@5": round(scores.p_at_5, 4),
                "p@5_type_colour": round(scores.p_at_5_type_colour, 4),
                "map": round(scores.map, 4),
                "p50_ms": round(p50, 1),
                "p95_ms": round(p95, 1),
                "n_queries": scores.n_queries,
                "n_gallery": len(gal),
            }
        )
    return results
