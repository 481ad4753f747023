"""``shopassist train reranker``: train the search re-ranker.

Two sources of training queries:

* a catalog file (default: the demo catalog) — queries generated from its own
  titles, types, brands, colours and attributes, labelled by the fields they
  name; saved to ``<data dir>/models/reranker`` (what the product serves);
* a graded relevance set (``--products/--queries/--labels``, e.g. Home Depot) —
  trained on its training split only and saved to
  ``<data dir>/models/reranker-hd-<digest>``, where ``eval retrieval --mode rerank``
  finds it.  Evaluation data: such a model is never shipped.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli._common import fail, file_digest, progress_bar, quiet_libraries, settings

__all__ = [
    "train_reranker",
    "train_eval_reranker",
    "eval_model_dir",
    "split_relevance",
]

#: bump when the relevance-set training recipe changes, so the eval retrains its cached model
_RECIPE = 1


def split_relevance(rel: Any, *, holdout: float, seed: int) -> tuple[Any, Any]:
    """(training queries, held-out queries) of a relevance set; the same split for train and eval."""
    if not 0.0 < holdout < 1.0:
        raise ValueError(f"holdout must be between 0 and 1, got {holdout}")
    train, held = rel.split(1.0 - holdout, seed=seed)
    return train, held


def eval_model_dir(products: Path, queries: Path, labels: Path, *, holdout: float, seed: int) -> Path:
    """Where the re-ranker trained on this relevance set's training split (and the encoder) lives."""
    from rankers import RERANK_FORMAT_VERSION

    files = [file_digest(products), file_digest(queries), file_digest(labels)]
    key = json.dumps([*files, holdout, seed, settings().encoder, RERANK_FORMAT_VERSION, _RECIPE])
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return settings().models_dir / f"reranker-hd-{digest}"


def train_eval_reranker(
    *,
    index: Any,
    products: Path,
    queries: Path,
    labels: Path,
    holdout: float,
    seed: int,
    epochs: int = 30,
) -> Path:
    """Train the re-ranker on the relevance set's training split (``index`` holds its products)."""
    from rankers import TrainingQuery
    from rankers import train_reranker as fit
    from retrieval._evaluate import load_relevance_set

    rel = load_relevance_set(queries, labels)
    train, held = split_relevance(rel, holdout=holdout, seed=seed)
    items = [TrainingQuery(train.queries[q], train.gains[q], "labels") for q in sorted(train.queries)]
    out = eval_model_dir(products, queries, labels, holdout=holdout, seed=seed)
    with progress_bar(f"train re-ranker on {len(items)} queries of {labels.name}") as update:
        fit(
            index=index,
            queries=items,
            out_dir=out,
            training={
                "source": "relevance set (evaluation only; never shipped)",
                "products": str(products),
                "queries_file": str(queries),
                "labels": str(labels),
                "split": {"holdout": holdout, "seed": seed, "held_out_queries": len(held.queries)},
            },
            epochs=epochs,
            seed=seed,
            progress=update,
        )
    return out


def _catalog_index(products: list[Any]) -> Any:
    """An in-memory hybrid index of ``products`` with the configured encoder."""
    import uuid

    from retrieval import HybridIndex, make_encoder, open_chroma_client

    cfg = settings()
    index = HybridIndex(
        encoder=make_encoder(cfg.encoder),
        client=open_chroma_client(path=None),
        collection=f"rerank-{uuid.uuid4().hex[:8]}",
        fusion=cfg.fusion,
        alpha=cfg.fusion_alpha,
    )
    with progress_bar(f"index {len(products)} products") as update:
        batch = 256
        for start in range(0, len(products), batch):
            index.upsert(products[start : start + batch])
            update(min(start + batch, len(products)), len(products))
    index.commit()
    return index


def train_reranker(
    from_catalog: Annotated[
        Path | None,
        typer.Option("--from-catalog", help="catalog to generate queries from (default: the demo catalog)"),
    ] = None,
    products: Annotated[
        Path | None, typer.Option(help="relevance set: TSV product_id, title (with --queries, --labels)")
    ] = None,
    queries: Annotated[Path | None, typer.Option(help="relevance set: TSV query_id, query")] = None,
    labels: Annotated[
        Path | None, typer.Option(help="relevance set: TSV query_id, product_id, relevance")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="artifact directory (default: <data dir>/models/reranker[-hd-…])")
    ] = None,
    holdout: Annotated[
        float, typer.Option(min=0.01, max=0.99, help="relevance set: share of queries held out")
    ] = 0.2,
    split_seed: Annotated[int, typer.Option(help="relevance set: seed of the held-out split")] = 0,
    seed: Annotated[int, typer.Option(help="seed of query generation and training")] = 0,
    max_queries: Annotated[int, typer.Option(min=10, help="catalog: generated queries")] = 2000,
    epochs: Annotated[int, typer.Option(min=1, help="most passes over the queries (early stopping)")] = 30,
) -> None:
    """Train the search re-ranker (a feed-forward net re-scoring the hybrid top 50)."""
    relevance = [p for p in (products, queries, labels) if p is not None]
    if relevance and len(relevance) != 3:
        raise fail("a relevance set needs all of --products, --queries and --labels")
    if relevance and from_catalog is not None:
        raise fail("choose either --from-catalog or a relevance set, not both")
    quiet_libraries()
    cfg = settings()
    t0 = time.perf_counter()
    if products is not None and queries is not None and labels is not None:
        for p in (products, queries, labels):
            if not p.is_file():
                raise fail(f"{p}: no such file")
        from api.cli.evaluate import open_eval_index

        try:
            index = open_eval_index(products, None, fusion=cfg.fusion, alpha=cfg.fusion_alpha)
            path = train_eval_reranker(
                index=index,
                products=products,
                queries=queries,
                labels=labels,
                holdout=holdout,
                seed=split_seed,
                epochs=epochs,
            )
        except (ValueError, KeyError, OSError) as exc:
            raise fail(str(exc)) from None
        if out is not None and out != path:
            import shutil

            shutil.copytree(path, out, dirs_exist_ok=True)
            path = out
    else:
        catalog = from_catalog or Path(cfg.demo_catalog)
        if not catalog.is_file():
            raise fail(f"{catalog}: no such file")
        from rankers import train_catalog_reranker
        from retrieval._readers import read_catalog

        try:
            items = read_catalog(catalog).products
            if not items:
                raise ValueError(f"{catalog}: no valid products")
            index = _catalog_index(items)
            path = out or cfg.models_dir / "reranker"
            with progress_bar(f"train re-ranker on queries generated from {catalog.name}") as update:
                train_catalog_reranker(
                    index=index,
                    out_dir=path,
                    products=items,
                    seed=seed,
                    max_queries=max_queries,
                    epochs=epochs,
                    description={"catalog": str(catalog)},
                    progress=update,
                )
        except (ValueError, KeyError, OSError) as exc:
            raise fail(str(exc)) from None
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    m = meta.get("metrics", {})
    summary = ""
    if "ndcg@10_reranked" in m:
        summary = (
            f"; validation nDCG@10 {m['ndcg@10_retrieval']:.4f} (retrieval) → "
            f"{m['ndcg@10_reranked']:.4f} (re-ranked) on {m['validation_queries']} queries"
        )
    typer.echo(f"re-ranker trained in {time.perf_counter() - t0:.0f} s{summary} → {path}")
