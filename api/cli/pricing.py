"""``shopassist eval pricing`` and ``shopassist train pricing`` (pricing issue #7).

Thin commands over :mod:`pricing`; numpy/torch load inside the commands only.  ``eval`` runs the
rolling-origin backtest (see :mod:`pricing.backtest`) and prints one JSON line per model, exactly one
of them ``"chosen": true``; ``train`` fits the forecaster the service loads from
``<data dir>/models/pricing/`` (default: on a simulated two-year history of the demo catalog, so it
works on a fresh machine).  Progress goes to stderr so stdout stays JSON.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli._common import fail, save_atomically, settings

if TYPE_CHECKING:
    from pricing import Forecaster, PriceSeries

__all__ = ["eval_pricing", "train_pricing"]

HistoryOption = Annotated[
    Path, typer.Option("--history", help="price history file (see --format)", show_default=False)
]
FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        help="csv (product_id,date,price[,category][,comp_1..]) | m5 (store_id,item_id,wm_yr_wk,sell_price) "
        "| olist (monthly)",
    ),
]
CalendarOption = Annotated[
    Path | None, typer.Option("--calendar", help="m5: m5_calendar.csv (default: the file beside --history)")
]
SeedOption = Annotated[int, typer.Option(help="seed of the series sample and of the neural model")]
QuietOption = Annotated[bool, typer.Option("--quiet", help="no progress bar")]


@contextlib.contextmanager
def _progress(description: str, quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr driven by ``update(done, total)`` (None when quiet)."""
    if quiet:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _read(history: Path, fmt: str, calendar: Path | None) -> list[PriceSeries]:
    from pricing import FORMATS, PriceHistoryError, read_history

    if fmt not in FORMATS:
        raise fail(f"unknown format {fmt!r}; choose csv, m5 or olist")
    try:
        read = read_history(history, fmt, calendar)
    except PriceHistoryError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{history}: {exc.strerror or exc}") from None
    if read.bad_rows:
        first = f" (first: {read.problems[0]})" if read.problems else ""
        typer.echo(f"skipped {read.bad_rows} of {read.rows} rows{first}", err=True)
    return read.series


def eval_pricing(
    history: HistoryOption,
    fmt: FormatOption = "csv",
    calendar: CalendarOption = None,
    max_series: Annotated[
        int | None, typer.Option("--max-series", min=1, help="backtest a random sample of N series")
    ] = None,
    seed: SeedOption = 0,
    quiet: QuietOption = False,
) -> None:
    """Rolling-origin backtest of the price forecasters; one JSON line per model.

    Weekly data: origins every 4 weeks after a series' first 52, MAE / sMAPE at 4 and 12 weeks, 80 %
    interval coverage and drop AUC / Brier at 4 weeks (monthly Olist: 1 and 3 months).  Models refit
    yearly (quarterly for monthly data) on data before each origin.  ``chosen`` marks the model the
    advice uses (rule in :mod:`pricing.backtest`).
    """
    import numpy as np

    series = _read(history, fmt, calendar)
    import torch

    from pricing import BASELINES, NeuralConfig, NeuralForecaster, backtest

    torch.set_num_threads(1)
    if max_series is not None and max_series < len(series):
        pick = np.sort(np.random.default_rng(seed).choice(len(series), max_series, replace=False))
        series = [series[i] for i in pick]
    config = NeuralConfig(seed=seed)
    factories: list[Callable[[], Forecaster]] = [*BASELINES.values(), lambda: NeuralForecaster(config)]
    t0 = time.perf_counter()
    try:
        with _progress(f"backtest {len(series)} series", quiet) as update:
            result = backtest(series, factories, progress=update)
    except ValueError as exc:
        raise fail(str(exc)) from None
    for score in result.scores:
        typer.echo(json.dumps(score.line()))
    typer.echo(
        json.dumps(
            {
                "series": result.n_series,
                "windows": result.n_windows,
                "drop_rate": round(result.drop_rate, 5),
                "seconds": round(time.perf_counter() - t0, 1),
            }
        ),
        err=True,
    )


def _demo_series(seed: int) -> list[PriceSeries]:
    """Two simulated years of weekly prices for every demo catalog product."""
    from datetime import date

    from pricing import simulate_history, weekly

    catalog = settings().demo_catalog
    if not catalog.is_file():
        raise fail(f"{catalog}: no demo catalog; pass --history FILE")
    products: list[tuple[str, float]] = []
    groups: dict[str, str] = {}
    for line in catalog.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if isinstance(row.get("price"), int | float) and row["price"] > 0:
                products.append((str(row["id"]), float(row["price"])))
                groups[str(row["id"])] = str(row.get("category") or "")
    histories = simulate_history(products, weeks=104, end=date.today(), seed=seed)
    return [weekly(obs, key=key, group=groups.get(key, "")) for key, obs in histories.items()]


def train_pricing(
    history: Annotated[
        Path | None,
        typer.Option(
            "--history",
            help="price history file (default: the store's own; else the simulated demo history)",
        ),
    ] = None,
    fmt: FormatOption = "csv",
    calendar: CalendarOption = None,
    out: Annotated[
        Path | None, typer.Option(help="model directory (default: <data dir>/models/pricing)")
    ] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="training epochs of the neural model")] = None,
    seed: SeedOption = 0,
    quiet: QuietOption = False,
) -> None:
    """Train the price forecaster the service uses and save it (validated against naive first)."""
    source = str(history)
    if history is None:
        from api.cli._common import runtime
        from api.cli.alerts import store_series

        with runtime() as rt:  # the store's own price history; the simulated demo one when it has none
            series = store_series(rt.db)
        source = "the store's price history"
        if not series:
            series, source = _demo_series(seed), "simulated demo history"
    else:
        series = _read(history, fmt, calendar)
    import torch

    from pricing import NeuralConfig, train_forecaster

    torch.set_num_threads(1)
    config = NeuralConfig(seed=seed) if epochs is None else NeuralConfig(seed=seed, epochs=epochs)
    out_dir = out or settings().models_dir / "pricing"
    t0 = time.perf_counter()
    try:
        with _progress(f"train price forecaster on {len(series)} series", quiet) as update:
            model = train_forecaster(series, config, progress=update)
    except ValueError as exc:
        raise fail(str(exc)) from None
    try:
        save_atomically(model, out_dir)  # a running server reloads it whole, never half-written
    except OSError as exc:
        raise fail(f"cannot write {out_dir}: {exc}") from None
    typer.echo(
        json.dumps(
            {
                "model": model.name,
                "source": source,
                "series": len(series),
                "validation": model.validation,
                "train_s": round(time.perf_counter() - t0, 1),
                "out": str(out_dir),
            }
        )
    )
