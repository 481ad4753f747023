"""``shopassist prices import`` and ``shopassist alerts check`` (the service side of pricing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli._common import fail, progress_bar, runtime

prices_app = typer.Typer(no_args_is_help=True)
alerts_app = typer.Typer(no_args_is_help=True)

HISTORY_FORMATS = ("csv", "m5", "olist")


def store_series(db: Any) -> list[Any]:
    """Every product's price history from the database as weekly series (two points or more)."""
    from collections import defaultdict

    from sqlalchemy import select

    from assistant.models import PriceHistoryRow, ProductRow
    from pricing import weekly

    points: dict[str, list[Any]] = defaultdict(list)
    with db.session() as s:
        rows = s.execute(
            select(PriceHistoryRow.product_id, PriceHistoryRow.observed_at, PriceHistoryRow.price).order_by(
                PriceHistoryRow.product_id, PriceHistoryRow.observed_at, PriceHistoryRow.id
            )
        )
        for pid, at, price in rows:
            points[pid].append((at, float(price)))
        category = dict(s.execute(select(ProductRow.id, ProductRow.category)).tuples().all())
    return [
        weekly(obs, key=pid, group=category.get(pid) or "") for pid, obs in points.items() if len(obs) >= 2
    ]


def run_sweep(rt: Any) -> dict[str, Any]:
    """Fire due alerts and wait (bounded) for their webhook deliveries before the command exits."""
    from assistant.prices import sweep_alerts

    report = sweep_alerts(rt.db, webhook=rt.alert_webhook)
    if rt.alert_webhook is not None and report.fired:
        rt.alert_webhook.wait(timeout=60)
    return report.as_dict()


@alerts_app.command("check")
def check_alerts(
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON line")] = False,
) -> None:
    """Fire every price alert whose price is now due (each alert fires once, ever)."""
    with runtime() as rt:
        out = run_sweep(rt)
    if as_json:
        typer.echo(json.dumps(out))
    else:
        typer.echo(f"price alerts: {out['fired']} fired of {out['checked']} active")


@prices_app.command("import")
def import_prices(
    path: Annotated[Path, typer.Argument(help="price history: product_id,date,price[,comp_1..] or M5")],
    format: Annotated[str, typer.Option("--format", help="csv | m5 | olist")] = "csv",
    calendar: Annotated[
        Path | None, typer.Option(help="m5_calendar.csv (M5 weeks → dates); needed with --format m5")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON line")] = False,
) -> None:
    """Load a price history for catalog products (resampled to weekly points per product).

    Re-importing the same file adds nothing; ids not in the catalog are counted and skipped.
    """
    if format not in HISTORY_FORMATS:
        raise fail(f"unknown format {format!r}; choose one of {', '.join(HISTORY_FORMATS)}")
    if not path.is_file():
        raise fail(f"{path}: no such file")
    if format == "m5" and (calendar is None or not calendar.is_file()):
        raise fail("--format m5 needs --calendar FILE (m5_calendar.csv)")
    from assistant.prices import import_history
    from pricing import PriceHistoryError, read_history

    try:
        series = read_history(path, format, calendar=calendar)
    except PriceHistoryError as exc:
        raise fail(f"{path}: {exc}") from None
    with runtime() as rt, progress_bar(f"import {path.name}") as update:
        report = import_history(rt.db, series, progress=update)
        report["alerts"] = run_sweep(rt)
    if as_json:
        typer.echo(json.dumps(report))
    else:
        typer.echo(
            f"price history: {report['series']} series, {report['added']} points added, "
            f"{report['existing']} already there, {report['unknown_products']} unknown product ids"
        )
