"""``shopassist eval …``: each prints one JSON line."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli import nlu as _nlu
from api.cli._common import fail, progress_bar, quiet_libraries, settings

app = typer.Typer(no_args_is_help=True)
app.command("nlu")(_nlu.eval_nlu)


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def open_eval_index(products: Path, index_dir: Path | None, **index_kwargs: Any) -> Any:
    """An index of a ``product_id, title`` file, built once per (file, encoder) and reused after."""
    from retrieval import HybridIndex, make_encoder, open_chroma_client
    from retrieval._evaluate import read_title_products

    cfg = settings()
    digest = _file_digest(products)
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
) -> None:
    """nDCG@10, MRR@10, Recall@100 and per-query latency of product search on a graded relevance set."""
    if mode not in ("bm25", "dense", "hybrid"):
        raise fail(f"unknown mode {mode!r}; choose bm25, dense or hybrid")
    if pool not in ("all", "judged"):
        raise fail(f"unknown pool {pool!r}; choose all or judged")
    if fusion is not None and fusion not in ("rrf", "blend"):
        raise fail(f"unknown fusion {fusion!r}; choose rrf or blend")
    for p in (products, queries, labels):
        if not p.is_file():
            raise fail(f"{p}: no such file")
    quiet_libraries()
    from retrieval._evaluate import evaluate_ranker, load_relevance_set, measure_latency

    cfg = settings()
    try:
        rel = load_relevance_set(queries, labels)
        index = open_eval_index(
            products,
            index_dir,
            fusion=fusion or cfg.fusion,
            alpha=cfg.fusion_alpha if alpha is None else alpha,
        )
    except (ValueError, KeyError, OSError) as exc:
        raise fail(str(exc)) from None
    if limit_queries:
        keep = sorted(rel.queries)[:limit_queries]
        rel.queries = {q: rel.queries[q] for q in keep}

    # Quality: every query, with the query embeddings computed in one batch (same vectors as the
    # single-query path).  Speed: the real single-query path (encode + both retrievers + fusion),
    # timed one query at a time over the first --latency-queries queries.
    qids = sorted(rel.queries)
    vectors: dict[str, Any] = {}
    if mode != "bm25":
        texts = [rel.queries[q] for q in qids]
        vectors = dict(zip(texts, index.encoder.encode(texts, batch_size=128), strict=True))

    def fast_ranker(query: str, candidates: Any) -> list[str]:
        ranked = index.rank(
            query, k=100, mode=mode, candidate_ids=candidates, query_vector=vectors.get(query)
        )
        return [pid for pid, _ in ranked]

    def live_ranker(query: str, candidates: Any) -> list[str]:
        return [pid for pid, _ in index.rank(query, k=100, mode=mode, candidate_ids=candidates)]

    for warm in ("warm up", "cordless drill", "paint"):  # first calls pay one-off costs
        live_ranker(warm, None)
    metrics = evaluate_ranker(rel, fast_ranker, pool=pool)
    speed = measure_latency(rel, live_ranker, pool=pool, n=latency_queries)
    metrics.update(p50_ms=speed["p50_ms"], p95_ms=speed["p95_ms"])
    typer.echo(json.dumps({"mode": mode, "pool": pool, **metrics}))
