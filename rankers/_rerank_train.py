"""Training the search re-ranker: labelled queries → hybrid top-k lists → listwise training.

Training data is a list of :class:`TrainingQuery` — a query text and graded gains
of some products (0 = not relevant).  They come from a relevance set (Home Depot
labels, evaluation only), from :func:`~rankers._rerank_data.generate_catalog_queries`
(queries made from the catalog's own titles and fields) and from shoppers'
behaviour as ``(query, product_id, label)`` triples (``extra``).

For each query the hybrid index gives its top-``k`` candidates; products not
labelled count as gain 0 (that is what moves a full-catalog nDCG).  The net sees
each query's whole candidate list at once and minimises the ListNet
cross-entropy between the softmax of its scores and the gains' ``2^g − 1``
distribution (Adam, mini-batches of lists).  After every epoch the validation
queries (never trained on) give the nDCG@10 of the re-ranked order; the best
epoch is kept (early stopping), and its figures, beside the retrieval order's,
go into the artifact's metrics.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from rankers._rerank import Reranker, new_version
from rankers._rerank_features import FEATURES, FieldVocabulary, candidate_features
from retrieval import HybridIndex, Product

__all__ = ["TrainingQuery", "queries_from_feedback", "train_reranker", "ndcg_at_10"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class TrainingQuery:
    """A query and the graded gains of the products judged for it (unjudged candidates: gain 0)."""

    text: str
    gains: Mapping[str, float]
    #: where it came from ("labels", "generated:<template>", "feedback"), for the artifact's summary
    source: str = "labels"


@dataclass
class _Example:
    query: str
    products: list[Product]
    features: npt.NDArray[np.float32]
    labels: npt.NDArray[np.float32]
    gains: Mapping[str, float]
    base_order: list[str] = field(default_factory=list)


def queries_from_feedback(
    triples: Iterable[tuple[str, str, float]], *, source: str = "feedback"
) -> list[TrainingQuery]:
    """Group ``(query, product_id, label)`` triples by query text (case and spaces folded; max label)."""
    grouped: dict[str, dict[str, float]] = {}
    texts: dict[str, str] = {}
    for query, pid, label in triples:
        key = " ".join(query.lower().split())
        if not key or not pid:
            continue
        texts.setdefault(key, query.strip())
        g = grouped.setdefault(key, {})
        g[pid] = max(float(label), g.get(pid, float("-inf")))
    return [TrainingQuery(texts[k], g, source) for k, g in grouped.items()]


def ndcg_at_10(ranked: Sequence[str], gains: Mapping[str, float]) -> float:
    """Linear-gain nDCG@10 (the evaluation's definition), the ideal over every judged product."""
    dcg = sum(gains.get(pid, 0.0) / math.log2(i + 2) for i, pid in enumerate(ranked[:10]))
    ideal = sorted((g for g in gains.values() if g > 0), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def _merge(queries: Iterable[TrainingQuery]) -> list[TrainingQuery]:
    """One entry per query text; the larger gain wins when two sources judge the same product."""
    merged: dict[str, TrainingQuery] = {}
    for q in queries:
        key = " ".join(q.text.lower().split())
        if not key:
            continue
        have = merged.get(key)
        if have is None:
            merged[key] = TrainingQuery(q.text, dict(q.gains), q.source)
            continue
        gains = dict(have.gains)
        for pid, g in q.gains.items():
            gains[pid] = max(g, gains.get(pid, float("-inf")))
        merged[key] = TrainingQuery(have.text, gains, have.source)
    return list(merged.values())


def _examples(
    index: HybridIndex,
    queries: Sequence[TrainingQuery],
    vocabulary: FieldVocabulary,
    *,
    k: int,
    progress: Progress | None,
    done: int,
    total: int,
) -> list[_Example]:
    texts = [q.text for q in queries]
    vectors = index.encoder.encode(texts, batch_size=128) if texts else None
    out: list[_Example] = []
    for i, q in enumerate(queries):
        cands = index.candidates(q.text, k=k, query_vector=None if vectors is None else vectors[i])
        if cands:
            products = [c.product for c in cands]
            labels = np.asarray([max(0.0, q.gains.get(p.id, 0.0)) for p in products], dtype=np.float32)
            feats = candidate_features(q.text, products, cands, vocabulary)
            out.append(_Example(q.text, products, feats, labels, q.gains, [p.id for p in products]))
        if progress and (i % 50 == 0 or i == len(queries) - 1):
            progress(done + i + 1, total)
    return out


def _pad(examples: Sequence[_Example], k: int) -> tuple[Any, Any, Any]:
    """(features [q, k, f], labels [q, k], mask [q, k]) as torch tensors, lists padded to ``k``."""
    import torch

    n, f = len(examples), len(FEATURES)
    x = np.zeros((n, k, f), np.float32)
    y = np.zeros((n, k), np.float32)
    m = np.zeros((n, k), np.bool_)
    for i, ex in enumerate(examples):
        c = min(k, len(ex.products))
        x[i, :c], y[i, :c], m[i, :c] = ex.features[:c], ex.labels[:c], True
    return torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(m)


def _mean_ndcg(model: Reranker, examples: Sequence[_Example]) -> float:
    out = []
    for ex in examples:
        s = model.score_features(ex.features)
        order = np.argsort(-s, kind="stable")
        out.append(ndcg_at_10([ex.products[int(i)].id for i in order], ex.gains))
    return float(np.mean(out)) if out else 0.0


def train_reranker(
    *,
    index: HybridIndex,
    queries: Sequence[TrainingQuery],
    out_dir: Path,
    extra: Iterable[tuple[str, str, float]] = (),
    vocabulary_products: Iterable[Product] | None = None,
    training: Mapping[str, Any] | None = None,
    hidden: Sequence[int] = (64, 32),
    k: int = 50,
    epochs: int = 30,
    patience: int = 6,
    batch_queries: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 1e-5,
    validation_fraction: float = 0.1,
    max_validation: int = 500,
    seed: int = 0,
    progress: Progress | None = None,
) -> Reranker:
    """Train a re-ranker on ``queries`` (+ ``extra`` feedback triples) over ``index``; save it to ``out_dir``.

    ``vocabulary_products``: the products whose brands, types, colours… the field-match features
    look for in queries (default: every active product of the index; ``[]`` for none).
    Up to ``epochs`` passes over the training queries, stopping after ``patience`` epochs without
    a better validation nDCG@10 (the best epoch is kept).  ``progress(done, total)`` is called
    while candidates are gathered and after every epoch.
    """
    import torch

    t_start = time.perf_counter()
    all_queries = _merge([*queries, *queries_from_feedback(extra)])
    if not all_queries:
        raise ValueError("no training queries")
    if index.n_products == 0:
        raise ValueError("the index is empty: ingest a catalog first")
    shuffled = list(all_queries)
    random.Random(seed).shuffle(shuffled)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # the layers' initial weights
    n_val = min(max_validation, int(len(shuffled) * validation_fraction)) if len(shuffled) >= 10 else 0
    val_q, train_q = shuffled[:n_val], shuffled[n_val:]

    vocab = FieldVocabulary.from_products(
        index.products() if vocabulary_products is None else vocabulary_products
    )
    n_gather = len(train_q) + len(val_q)
    total = n_gather + epochs
    train_ex = _examples(index, train_q, vocab, k=k, progress=progress, done=0, total=total)
    val_ex = _examples(index, val_q, vocab, k=k, progress=progress, done=len(train_q), total=total)
    train_ex = [ex for ex in train_ex if ex.labels.max() > 0 and len(ex.products) > 1]
    if not train_ex:
        raise ValueError("no training query has a labelled product among its candidates")

    model = Reranker(hidden=hidden, top_k=k, vocabulary=vocab.to_json(), version=new_version())
    feats = np.concatenate([ex.features for ex in train_ex])
    model.feature_mean = feats.mean(0).astype(np.float32)
    model.feature_std = np.maximum(feats.std(0), 1e-3).astype(np.float32)
    x, y, mask = _pad(train_ex, k)
    x = (x - torch.from_numpy(model.feature_mean)) / torch.from_numpy(model.feature_std)
    sizes = [len(FEATURES), *model.hidden, 1]
    mods: list[torch.nn.Module] = []
    for n, (i, o) in enumerate(zip(sizes, sizes[1:], strict=False)):
        mods.append(torch.nn.Linear(i, o))
        if n < len(sizes) - 2:
            mods.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*mods)
    linears = [m for m in mods if isinstance(m, torch.nn.Linear)]
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    target = (torch.exp2(y) - 1.0) * mask
    target = target / target.sum(-1, keepdim=True).clamp(min=1e-9)

    def install() -> None:
        model.layers = [
            (lin.weight.detach().numpy().copy(), lin.bias.detach().numpy().copy()) for lin in linears
        ]

    t_train = time.perf_counter()
    best, best_epoch, history = -1.0, 0, []
    best_layers = model.layers
    losses: list[float] = []
    # tiny matrices: a second torch thread only adds synchronisation, and spins on a busy machine
    threads_before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        epoch = 0
        for epoch in range(1, epochs + 1):
            net.train()
            perm = torch.randperm(len(train_ex), generator=gen)
            for s in range(0, len(perm), batch_queries):
                idx = perm[s : s + batch_queries]
                scores = net(x[idx]).squeeze(-1).masked_fill(~mask[idx], -1e9)
                loss = -(target[idx] * torch.log_softmax(scores, dim=-1)).sum(-1).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.item())
            install()
            score = _mean_ndcg(model, val_ex) if val_ex else float(epoch)
            history.append(round(score, 4))
            if score > best:
                best, best_epoch, best_layers = score, epoch, model.layers
            if progress:
                progress(n_gather + epoch, total)
            if epoch - best_epoch >= patience:
                break
    finally:
        torch.set_num_threads(threads_before)
    model.layers = best_layers
    if progress:
        progress(total, total)
    train_s = time.perf_counter() - t_train

    metrics: dict[str, Any] = {"validation_queries": len(val_ex)}
    if val_ex:
        base = [ndcg_at_10(ex.base_order, ex.gains) for ex in val_ex]
        metrics.update(
            {
                "ndcg@10_retrieval": round(float(np.mean(base)), 4),
                "ndcg@10_reranked": round(_mean_ndcg(model, val_ex), 4),
                "ndcg@10_by_epoch": history,
            }
        )
    sources: dict[str, int] = {}
    for q in all_queries:
        kind = q.source.split(":")[0]
        sources[kind] = sources.get(kind, 0) + 1
    model.training = {
        **dict(training or {}),
        "queries": len(all_queries),
        "train_queries": len(train_q),
        "train_queries_with_positives": len(train_ex),
        "validation_queries": len(val_q),
        "sources": sources,
        "candidates_k": k,
        "hidden": model.hidden,
        "epochs": epoch,
        "best_epoch": best_epoch,
        "final_loss": round(float(np.mean(losses[-20:])), 4) if losses else None,
        "train_seconds": round(train_s, 1),
        "total_seconds": round(time.perf_counter() - t_start, 1),
        "seed": seed,
        "catalog_products": index.n_products,
        "features": len(FEATURES),
    }
    model.metrics = metrics
    model.save(out_dir)
    return model
