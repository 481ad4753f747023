"""``shopassist serve`` and ``shopassist setup``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli._common import fail, progress_bar, quiet_libraries, runtime, save_atomically, settings


def setup() -> None:
    """Ingest the bundled demo catalog when the database has no products, and train missing models."""
    cfg = settings()
    with runtime() as rt:
        if rt.index.n_active == 0:
            path = Path(cfg.demo_catalog)
            if not path.is_file():
                raise fail(f"demo catalog {path} not found; ingest a catalog with `shopassist ingest FILE`")
            from assistant.catalog import ingest_catalog

            with progress_bar(f"ingest demo catalog {path}") as update:
                report = ingest_catalog(path=path, db=rt.db, index=rt.index, progress=update)
            typer.echo(
                f"demo catalog: {report.n_valid} products in {report.wall_s:.1f} s "
                f"({report.products_per_s:.0f} products/s), {report.n_errors} bad rows"
            )
        else:
            typer.echo(f"catalog: {rt.index.n_active} active products (version {rt.index.version})")
        _ensure_demo_price_history(rt, Path(cfg.demo_catalog))
        _ensure_nlu(rt)
        _ensure_reranker(rt)
        _ensure_pricing(rt)
        _ensure_vision(rt, Path(cfg.demo_catalog))
        _ensure_abandonment(rt)


def _ensure_abandonment(rt: Any) -> None:
    """Simulate shopper sessions (if the log has too few) and train the abandonment model, if missing."""
    from api.cli.behaviour import setup_abandonment

    setup_abandonment(rt)


def _ensure_demo_price_history(rt: Any, demo: Path) -> None:
    """The demo catalog has no price history: simulate two years of it (once), as the README says."""
    from sqlalchemy import select

    from assistant.models import IngestRunRow, PriceHistoryRow
    from assistant.prices import SIMULATED_SOURCE, seed_simulated_history

    with rt.db.session() as s:
        paths = {str(p) for p in s.scalars(select(IngestRunRow.path))}
        seeded = s.scalars(
            select(PriceHistoryRow.id).where(PriceHistoryRow.source == SIMULATED_SOURCE).limit(1)
        ).first()
    if seeded is not None or not ({str(demo), str(demo.resolve())} & paths):
        return
    added = seed_simulated_history(rt.db, weeks=104, seed=0)
    typer.echo(f"price history: simulated {added} weekly prices for the demo catalog (see README, Pricing)")


def _ensure_pricing(rt: Any) -> None:
    """Train the price forecaster on the store's price history when there is none (or when the saved
    one was written by an older version and no longer loads)."""
    import time

    from api.cli.alerts import store_series
    from pricing import load_forecaster, train_forecaster

    if (rt.pricing_path / "config.json").is_file():
        try:
            load_forecaster(rt.pricing_path)
        except ValueError as exc:
            typer.echo(f"price forecaster: {exc}; training a new one")
        else:
            typer.echo(f"price forecaster: {rt.pricing_path}")
            return

    series = store_series(rt.db)
    if not series:
        typer.echo("price forecaster: no price history yet; advice uses the naive baseline")
        return
    t0 = time.perf_counter()
    with progress_bar(f"train the price forecaster on {len(series)} price histories") as update:
        model = train_forecaster(series, progress=update)
    save_atomically(model, rt.pricing_path)
    typer.echo(
        f"price forecaster ({model.name}) trained in {time.perf_counter() - t0:.0f} s → {rt.pricing_path}"
    )


def _ensure_vision_head(rt: Any) -> None:
    """Train the projection head on the ingested catalog's photos (type + colour labels) if missing.

    The backbone features land in the feature cache, so indexing the same photos afterwards costs
    only the head.
    """
    if rt.settings.image_embedder not in ("auto", "cnn-finetuned"):
        return
    if (rt.vision_path / "config.json").is_file():
        typer.echo(f"image head: {rt.vision_path}")
        return
    import time

    from vision import LabelledImage, TrainConfig, train_head

    items = [
        LabelledImage(
            id=p.id, path=Path(p.image_path), type=p.product_type, colour=p.attributes.get("color", "")
        )
        for p in rt.index.products()
        if p.image_path and p.product_type and Path(p.image_path).is_file()
    ]
    if len({it.type for it in items}) < 2:
        typer.echo("image head: too few labelled photos to fine-tune; photo search uses ImageNet features")
        return
    t0 = time.perf_counter()
    bars: dict[str, Any] = {}
    with progress_bar(f"fine-tune the image head on {len(items)} catalog photos") as update:

        def stage(name: str) -> Any:
            bars[name] = update
            return update

        embedder = train_head(
            items,
            TrainConfig(),
            cache=rt.feature_cache,
            source=f"catalog version {rt.index.version}",
            progress=stage,
        )
    save_atomically(embedder.head, rt.vision_path)
    rt.reset_image_embedder()
    typer.echo(f"image head trained in {time.perf_counter() - t0:.0f} s → {rt.vision_path}")


def _ensure_vision(rt: Any, demo: Path) -> None:
    """Fine-tune the image head on the catalog's photos when there is none, then index the photos."""
    import time

    _ensure_vision_head(rt)
    t0 = time.perf_counter()
    with progress_bar("embed product photos") as update:
        report = rt.images.embed_catalog(rt.index.products(), progress=update)
    typer.echo(
        f"image index: {report.n_embedded} photos embedded, {report.n_unchanged} unchanged, "
        f"{report.n_without_image} products without a photo, {report.n_failed} unreadable "
        f"({time.perf_counter() - t0:.0f} s, {report.embedder})"
    )
    for reason in report.errors[:3]:
        typer.echo(f"  skipped: {reason}")


def _ensure_reranker(rt: Any) -> None:
    """Train the search re-ranker on queries generated from the catalog when there is none."""
    if (rt.reranker_path / "meta.json").is_file():
        typer.echo(f"re-ranker: {rt.reranker_path}")
        return
    import time

    from rankers import train_catalog_reranker

    t0 = time.perf_counter()
    with progress_bar("train the search re-ranker on queries generated from the catalog") as update:
        train_catalog_reranker(
            index=rt.index,
            out_dir=rt.reranker_path,
            description={"catalog": f"ingested catalog, version {rt.index.version}"},
            progress=update,
        )
    typer.echo(f"re-ranker trained in {time.perf_counter() - t0:.0f} s → {rt.reranker_path}")


def _ensure_nlu(rt: Any) -> None:
    """Train the NLU model into the data dir when there is none (first run)."""
    if (rt.nlu_path / "config.json").is_file():
        typer.echo(f"nlu model: {rt.nlu_path}")
        return
    import time

    from api.cli.nlu import BITEXT_DEFAULT
    from assistant.nlu import train_nlu, vocabulary_from_products

    bitext = BITEXT_DEFAULT if BITEXT_DEFAULT.is_file() else None
    typer.echo("training the NLU model (first run only; a few minutes on 2 cores)…")
    t0 = time.perf_counter()
    train_nlu(
        vocabulary=vocabulary_from_products(rt.index.products()),
        out_dir=rt.nlu_path,
        bitext_path=bitext,
        progress=True,
    )
    typer.echo(f"nlu model trained in {time.perf_counter() - t0:.0f} s → {rt.nlu_path}")


def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default from SHOPASSIST_HOST)")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="port (default from SHOPASSIST_PORT)")
    ] = None,
) -> None:
    """Serve the API (and the widget) with uvicorn."""
    import uvicorn

    from api.app import create_app

    quiet_libraries()
    cfg = settings()
    app = create_app(cfg)
    # our own request log (api/middleware.py) replaces the access log: it masks PII and session ids
    uvicorn.run(app, host=host or cfg.host, port=port or cfg.port, log_level=cfg.log_level, access_log=False)
