"""``shopassist eval …``: each prints one JSON line."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli import behaviour as _behaviour
from api.cli import nlu as _nlu
from api.cli import pricing as _pricing
from api.cli import recommender as _rec
from api.cli import vision as _vision
from api.cli._common import fail, file_digest, progress_bar, quiet_libraries, settings

app = typer.Typer(no_args_is_help=True)
app.command("nlu")(_nlu.eval_nlu)
app.command("recommender")(_rec.eval_recommender)
app.command("pricing")(_pricing.eval_pricing)
app.command("vision")(_vision.eval_vision)
app.command("abandonment")(_behaviour.eval_abandonment)


def open_eval_index(products: Path, index_dir: Path | None, **index_kwargs: Any) -> Any:
    """An index of a ``product_id, title`` file, built once per (file, encoder) and reused after."""
    from retrieval import HybridIndex, make_encoder, open_chroma_client
    from retrieval._evaluate import read_title_products

    cfg = settings()
    digest = file_digest(products)
    index_dir = index_dir or cfg.data_dir / "eval" / f"{products.stem}-{digest}-{cfg.encoder}"
    encoder = make_encoder(cfg.encoder)
    client = open_chroma_client(path=index_dir / "chroma")
    index = HybridIndex(
        encoder=encoder, client=client, collection="eval", index_dir=index_dir / "index", **index_kwargs
    )
    marker = index_dir / "built.json"
    expected = {"products": digest, "encoder": encoder.name}
    built = json.loads(marker.read_text()) if marker.is_file() else None
    if built != expected or index.n_products == 0:
        items = read_title_products(products)
        with progress_bar(f"index {products.name} ({len(items)} products)") as update:
            batch = 512
            for start in range(0, len(items), batch):
                index.upsert(items[start : start + batch])
                update(min(start + batch, len(items)), len(items))
        index.commit()
        marker.write_text(json.dumps(expected))
    return index


@app.command("retrieval")
def eval_retrieval(
    products: Annotated[Path, typer.Option(help="TSV: product_id, title")],
    queries: Annotated[Path, typer.Option(help="TSV: query_id, query")],
    labels: Annotated[Path, typer.Option(help="TSV: query_id, product_id, relevance (1..3)")],
    mode: Annotated[str, typer.Option(help="bm25 | dense | hybrid | rerank")] = "hybrid",
    pool: Annotated[
        str, typer.Option(help="all (rank every product) | judged (each query's judged ones)")
    ] = "all",
    index_dir: Annotated[Path | None, typer.Option(help="where the index lives (built if missing)")] = None,
    limit_queries: Annotated[
        int | None, typer.Option(help="evaluate only the first N queries (by id)")
    ] = None,
    fusion: Annotated[str | None, typer.Option(help="rrf | blend (default from settings)")] = None,
    alpha: Annotated[float | None, typer.Option(min=0, max=1, help="dense weight of the blend")] = None,
    latency_queries: Annotated[int, typer.Option(min=1, help="queries timed one by one for p50/p95")] = 1000,
    holdout_only: Annotated[
        bool | None,
        typer.Option(
            "--holdout-only/--all-queries",
            help="evaluate only the held-out split (default: yes for rerank, no otherwise)",
        ),
    ] = None,
    holdout: Annotated[float, typer.Option(min=0.01, max=0.99, help="share of queries held out")] = 0.2,
    split_seed: Annotated[int, typer.Option(help="seed of the held-out split")] = 0,
    model: Annotated[
        Path | None,
        typer.Option(help="rerank: re-ranker directory (default: the one trained on this set's split)"),
    ] = None,
    rerank_k: Annotated[int, typer.Option(min=1, max=500, help="rerank: hybrid candidates re-scored")] = 50,
) -> None:
    """nDCG@10, MRR@10, Recall@100 and per-query latency of product search on a graded relevance set.

    ``--mode rerank`` re-scores the hybrid top ``--rerank-k`` with the re-ranker trained on this
    relevance set's training split (trained first when missing) and reports the held-out queries.
    """
    if mode not in ("bm25", "dense", "hybrid", "rerank"):
        raise fail(f"unknown mode {mode!r}; choose bm25, dense, hybrid or rerank")
    if pool not in ("all", "judged"):
        raise fail(f"unknown pool {pool!r}; choose all or judged")
    if fusion is not None and fusion not in ("rrf", "blend"):
        raise fail(f"unknown fusion {fusion!r}; choose rrf or blend")
    for p in (products, queries, labels):
        if not p.is_file():
            raise fail(f"{p}: no such file")
    quiet_libraries()
    from api.cli.reranker import eval_model_dir, split_relevance, train_eval_reranker
    from retrieval._evaluate import evaluate_ranker, load_relevance_set, measure_latency

    cfg = settings()
    held = (mode == "rerank") if holdout_only is None else holdout_only
    reranker: Any = None
    try:
        rel = load_relevance_set(queries, labels)
        if held:
            rel = split_relevance(rel, holdout=holdout, seed=split_seed)[1]
        index = open_eval_index(
            products,
            index_dir,
            fusion=fusion or cfg.fusion,
            alpha=cfg.fusion_alpha if alpha is None else alpha,
        )
        if mode == "rerank":
            from rankers import Reranker

            path = model or eval_model_dir(products, queries, labels, holdout=holdout, seed=split_seed)
            if model is None and not (path / "meta.json").is_file():
                train_eval_reranker(
                    index=index,
                    products=products,
                    queries=queries,
                    labels=labels,
                    holdout=holdout,
                    seed=split_seed,
                )
            reranker = Reranker.load(path)
    except (ValueError, KeyError, OSError) as exc:
        raise fail(str(exc)) from None
    if limit_queries:
        keep = sorted(rel.queries)[:limit_queries]
        rel.queries = {q: rel.queries[q] for q in keep}
    if not rel.queries:
        raise fail("no queries to evaluate")

    # Quality: every query, with the query embeddings computed in one batch (same vectors as the
    # single-query path).  Speed: the real single-query path (encode + both retrievers + fusion
    # [+ re-rank]), timed one query at a time over the first --latency-queries queries.
    qids = sorted(rel.queries)
    vectors: dict[str, Any] = {}
    retrieval_mode = "hybrid" if mode == "rerank" else mode
    if retrieval_mode != "bm25":
        texts = [rel.queries[q] for q in qids]
        vectors = dict(zip(texts, index.encoder.encode(texts, batch_size=128), strict=True))

    def reranked(query: str, candidates: Any, query_vector: Any, timing: list[float] | None) -> list[str]:
        # re-scores the top rerank_k; the rest of the top 100 keeps the hybrid order (same recall@100)
        found = index.candidates(
            query, k=max(100, rerank_k), candidate_ids=candidates, query_vector=query_vector
        )
        head, tail = found[:rerank_k], found[rerank_k:]
        t0 = time.perf_counter()
        order = reranker.rerank_candidates(query, head)
        if timing is not None:
            timing.append((time.perf_counter() - t0) * 1000.0)
        return [c.product.id for c, _ in order] + [c.product.id for c in tail]

    def fast_ranker(query: str, candidates: Any) -> list[str]:
        if mode == "rerank":
            return reranked(query, candidates, vectors.get(query), None)
        ranked = index.rank(
            query, k=100, mode=mode, candidate_ids=candidates, query_vector=vectors.get(query)
        )
        return [pid for pid, _ in ranked]

    rerank_ms: list[float] = []

    def live_ranker(query: str, candidates: Any) -> list[str]:
        if mode == "rerank":
            return reranked(query, candidates, None, rerank_ms)
        return [pid for pid, _ in index.rank(query, k=100, mode=mode, candidate_ids=candidates)]

    for warm in ("warm up", "cordless drill", "paint"):  # first calls pay one-off costs
        live_ranker(warm, None)
    rerank_ms.clear()
    with progress_bar(f"evaluate {mode} on {len(qids)} queries") as update:
        metrics = evaluate_ranker(rel, fast_ranker, pool=pool, progress=update)
    speed = measure_latency(rel, live_ranker, pool=pool, n=latency_queries)
    metrics.update(p50_ms=speed["p50_ms"], p95_ms=speed["p95_ms"])
    row: dict[str, Any] = {"mode": mode, "pool": pool, **metrics}
    if mode == "rerank":
        import numpy as np

        row.update(
            rerank_p50_ms=round(float(np.percentile(rerank_ms, 50)), 2),
            rerank_p95_ms=round(float(np.percentile(rerank_ms, 95)), 2),
            rerank_k=rerank_k,
            model=reranker.version,
        )
    if held or holdout_only is not None:
        row["queries"] = "held-out" if held else "all"
    typer.echo(json.dumps(row))
