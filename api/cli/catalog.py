"""``shopassist ingest`` and ``shopassist search``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from api.cli._common import fail, progress_bar, runtime

FORMATS = ("csv", "jsonl", "gmc", "shopify")


def ingest(
    path: Annotated[
        Path, typer.Argument(help="catalog file: CSV, JSONL, Google Merchant TSV or Shopify CSV")
    ],
    format: Annotated[
        str | None, typer.Option("--format", help="csv | jsonl | gmc | shopify (default: detect)")
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="mark products missing from the file inactive")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as one JSON line")] = False,
    images: Annotated[
        bool, typer.Option("--images/--no-images", help="embed new or changed product photos (CNN)")
    ] = True,
) -> None:
    """Upsert a catalog file into the database and the search indexes."""
    if format is not None and format not in FORMATS:
        raise fail(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if not path.is_file():
        raise fail(f"{path}: no such file")
    from assistant.catalog import CatalogFormatError, ingest_catalog

    with runtime() as rt:
        try:
            with progress_bar(f"ingest {path.name}") as update:
                report = ingest_catalog(
                    path=path, db=rt.db, index=rt.index, fmt=format, full=full, progress=update
                )
        except CatalogFormatError as exc:
            message = str(exc)
            raise fail(message if path.name in message else f"{path}: {message}") from None
        image_report = None
        if images and report.n_valid:
            with progress_bar("embed product photos") as update:  # new or changed photos only
                image_report = rt.images.embed_catalog(rt.index.products(), progress=update)
        fired = 0
        if report.n_price_changes:
            from api.cli.alerts import run_sweep

            fired = int(run_sweep(rt)["fired"])
    if as_json:
        typer.echo(
            json.dumps(
                {
                    **report.as_dict(),
                    "alerts_fired": fired,
                    "images": image_report.as_dict() if image_report else None,
                }
            )
        )
        return
    typer.echo(
        f"{report.format}: {report.n_rows} rows, {report.n_new} new, {report.n_updated} updated "
        f"({report.n_price_changes} price changes), {report.n_unchanged} unchanged, "
        f"{report.n_deactivated} deactivated, {report.n_errors} bad rows skipped"
    )
    if report.n_reembedded:
        typer.echo(
            f"embedded {report.n_reembedded} products in {report.wall_s:.1f} s "
            f"({report.products_per_s:.0f} products/s; encoder busy {report.encode_s:.1f} s)"
        )
    if image_report is not None:
        typer.echo(
            f"photos: {image_report.n_embedded} embedded ({image_report.images_per_s:.1f}/s), "
            f"{image_report.n_unchanged} unchanged, {image_report.n_without_image} without a photo, "
            f"{image_report.n_failed} unreadable or unreachable"
        )
        for reason in image_report.errors:
            typer.echo(f"  photo skipped: {reason}")
    if fired:
        typer.echo(f"price alerts fired: {fired}")
    for reason in report.errors:
        typer.echo(f"  skipped: {reason}")
    if report.n_errors > len(report.errors):
        typer.echo(f"  … and {report.n_errors - len(report.errors)} more")


def search(
    query: Annotated[str, typer.Argument(help="what to look for (may be empty)")] = "",
    product_type: Annotated[str | None, typer.Option(help="e.g. watch")] = None,
    category: Annotated[str | None, typer.Option(help="category path or its start")] = None,
    brand: Annotated[str | None, typer.Option()] = None,
    color: Annotated[str | None, typer.Option()] = None,
    material: Annotated[str | None, typer.Option()] = None,
    size: Annotated[str | None, typer.Option()] = None,
    gender: Annotated[str | None, typer.Option(help="men | women | boys | girls | unisex")] = None,
    price_min: Annotated[float | None, typer.Option(min=0)] = None,
    price_max: Annotated[float | None, typer.Option(min=0)] = None,
    rating_min: Annotated[float | None, typer.Option(min=0, max=5)] = None,
    in_stock: Annotated[bool | None, typer.Option("--in-stock/--any-stock")] = None,
    sort: Annotated[str, typer.Option(help="relevance | price_asc | price_desc | rating_desc")] = "relevance",
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Search the ingested catalog and print a table."""
    from pydantic import ValidationError

    from assistant.errors import ShopAssistError
    from assistant.products import search_products
    from retrieval import SORTS, SearchFilters

    if sort not in SORTS:
        raise fail(f"unknown sort {sort!r}; choose one of {', '.join(SORTS)}")
    if gender is not None and gender.lower() not in ("men", "women", "boys", "girls", "unisex"):
        raise fail(f"unknown gender {gender!r}; choose men, women, boys, girls or unisex")
    try:
        filters = SearchFilters(
            product_type=product_type,
            category=category,
            brand=brand,
            color=color,
            material=material,
            size=size,
            gender=gender,
            price_min=price_min,
            price_max=price_max,
            rating_min=rating_min,
            in_stock=in_stock,
        )
    except ValidationError as exc:
        raise fail(exc.errors()[0]["msg"]) from None
    with runtime() as rt:
        if rt.index.n_active == 0:
            raise fail("the catalog is empty; run `shopassist ingest FILE` (or `make run`) first")
        try:
            page = search_products(rt.index, query=query, filters=filters, sort=sort, limit=limit)
        except ShopAssistError as exc:
            raise fail(exc.message) from None
    if as_json:
        rows = [
            {
                "id": c.product.id,
                "title": c.product.title,
                "price": c.product.price,
                "score": c.score,
                "why": c.why,
            }
            for c in page.cards
        ]
        typer.echo(json.dumps({"total": page.total, "filters": filters.active(), "products": rows}))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{page.total} match(es) for {query!r} {filters.active() or ''}".strip())
    for col in ("#", "id", "title", "type", "price", "rating", "why"):
        table.add_column(col, overflow="fold")
    for i, c in enumerate(page.cards, 1):
        p = c.product
        table.add_row(
            str(i),
            p.id,
            p.title,
            p.product_type,
            f"{p.price:,.2f} {p.currency}",
            "-" if p.rating is None else f"{p.rating:.1f}",
            c.why,
        )
    Console().print(table)
