"""``shopassist simulate``, ``shopassist train abandonment`` and ``shopassist eval abandonment``.

* ``simulate`` runs scripted shopper personas (:mod:`assistant.simulator`) against the assistant's
  own API, in-process, over the configured data dir: their conversations land in its database as
  ``simulated`` sessions.
* ``train abandonment`` trains the abandonment model (:mod:`assistant.behaviour`) on the finished
  sessions of the turn log and saves it where the service loads it; with too few finished sessions
  it says so, or simulates ``--simulate N`` sessions first.
* ``eval abandonment`` simulates fresh sessions (another seed) into a temporary database over the
  same catalog and prints the trained model's and its logistic-regression baseline's metrics on
  them as one JSON line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from api.cli._common import fail, progress_bar, quiet_libraries, save_atomically, settings
from assistant.errors import ShopAssistError

__all__ = [
    "in_process_connect",
    "run_simulation",
    "train_from_log",
    "setup_abandonment",
    "simulate_command",
    "train_abandonment",
    "eval_abandonment",
]

#: fewer finished sessions than this and ``train abandonment`` will not train
MIN_SESSIONS = 200
#: the seed ``eval abandonment`` simulates with unless told (never the one ``simulate`` defaults to)
EVAL_SEED = 1_000_003
#: what ``shopassist setup`` spends on the model when there is none
SETUP_SESSIONS = 600
SETUP_SIMULATE_S = 40.0
SETUP_TRAIN_S = 15.0

SourceOption = Annotated[
    str,
    typer.Option(
        help="auto (real sessions once there are --min-sessions finished ones, else simulated) | real | "
        "simulated | all"
    ),
]


@contextlib.contextmanager
def _quiet_requests() -> Iterator[None]:
    """No request log line per simulated request."""
    logger = logging.getLogger("shopassist.request")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def in_process_connect(rt: Any) -> Callable[[str], Any]:
    """Clients of the real API app over ``rt``, in-process, one per shopper address (so each simulated
    shopper has its own per-IP rate limit, as real ones do)."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    app = create_app(runtime=rt)

    def connect(address: str) -> Any:
        return TestClient(app, client=(address, 50000), raise_server_exceptions=False)

    return connect


def run_simulation(
    rt: Any,
    *,
    sessions: int,
    seed: int,
    start: int = 0,
    budget_s: float | None = None,
    label: str | None = None,
) -> Any:
    """Simulate into ``rt``'s database with a progress bar; the :class:`SimulationReport`."""
    from assistant.simulator import simulate

    rt.assistant  # noqa: B018 -- loads the NLU model now (a missing one is one clear error)
    connect = in_process_connect(rt)
    with _quiet_requests(), progress_bar(label or f"simulate {sessions} shopper sessions") as update:
        return simulate(
            rt.db, connect, sessions=sessions, seed=seed, start=start, budget_s=budget_s, progress=update
        )


def _pick_source(
    counts: dict[str, int], source: str, min_sessions: int
) -> Literal["real", "simulated", "all"]:
    if source == "auto":
        return "real" if counts["real"] >= min_sessions else "simulated"
    if source not in ("real", "simulated", "all"):
        raise fail(f"unknown source {source!r}; choose auto, real, simulated or all")
    return source  # type: ignore[return-value]


def train_from_log(
    rt: Any,
    *,
    source: str = "auto",
    min_sessions: int = MIN_SESSIONS,
    real_from: int = MIN_SESSIONS,
    simulate_n: int | None = None,
    seed: int = 0,
    config: Any = None,
    out: Path | None = None,
    echo: Callable[[str], None] = typer.echo,
) -> Any:
    """Train on the finished sessions of ``rt``'s log (simulating ``simulate_n`` first when there are
    fewer than ``min_sessions``) and save the model; returns it.  ``source="auto"`` takes the real
    sessions once there are ``real_from`` finished ones, else the simulated ones."""
    from assistant.behaviour import count_finished, finished_session_ids, load_sessions
    from assistant.behaviour.train import TooFewSessions, TrainConfig, train_abandonment

    with rt.db.session() as s:
        counts = count_finished(s)
    chosen = _pick_source(counts, source, real_from)
    have = counts["real"] + counts["simulated"] if chosen == "all" else counts[chosen]
    if have < min_sessions:
        if not simulate_n:
            raise fail(
                f"the log has {have} finished {'' if chosen == 'all' else chosen + ' '}sessions "
                f"({counts['real']} real, {counts['simulated']} simulated); at least {min_sessions} are "
                "needed. Run `shopassist simulate --sessions 1000` or pass --simulate 1000"
            )
        echo(
            f"the log has {have} finished {chosen} sessions ({min_sessions} needed): simulating {simulate_n}"
        )
        report = run_simulation(rt, sessions=simulate_n, seed=seed)
        echo(f"simulated: {json.dumps(report.summary())}")
        with rt.db.session() as s:
            counts = count_finished(s)
        chosen = _pick_source(counts, source, real_from)
    with rt.db.session() as s:
        ids = finished_session_ids(s, source=chosen)
        logs = load_sessions(s, ids)
    cfg = config or TrainConfig(seed=seed)
    try:
        with progress_bar(f"train the abandonment model on {len(logs)} {chosen} sessions") as update:
            model = train_abandonment(
                logs,
                cfg,
                description={"source": chosen, "finished_sessions": counts},
                progress=update,
            )
    except TooFewSessions as exc:
        raise fail(str(exc)) from None
    save_atomically(model, out or rt.abandonment_path)
    return model


def setup_abandonment(rt: Any) -> None:
    """``shopassist setup``: with no abandonment model, simulate sessions if the log has too few
    finished ones (within ~40 s) and train one (within ~15 s)."""
    from assistant.behaviour import count_finished
    from assistant.behaviour.train import TrainConfig

    if (rt.abandonment_path / "config.json").is_file():
        typer.echo(f"abandonment model: {rt.abandonment_path}")
        return
    t0 = time.perf_counter()
    with rt.db.session() as s:
        counts = count_finished(s)
    try:
        if max(counts.values()) < MIN_SESSIONS:  # neither enough real nor enough simulated sessions
            report = run_simulation(
                rt,
                sessions=SETUP_SESSIONS,
                seed=0,
                start=counts["simulated"],  # a second setup continues the first one's shoppers
                budget_s=SETUP_SIMULATE_S,
                label=f"simulate shopper sessions for the abandonment model (up to {SETUP_SIMULATE_S:.0f} s)",
            )
            typer.echo(
                f"simulated {len(report.sessions)} shopper sessions ({report.n_turns} turns, "
                f"{report.conversion:.0%} ordered) in {report.wall_s:.0f} s"
            )
        cfg = TrainConfig(seed=0, max_seconds=SETUP_TRAIN_S, min_sessions=50)
        model = train_from_log(rt, min_sessions=50, config=cfg)  # auto: real sessions from MIN_SESSIONS on
    except (typer.Exit, ShopAssistError) as exc:  # optional: the assistant works without it
        reason = exc.message if isinstance(exc, ShopAssistError) else "see the error above"
        typer.echo(
            f"abandonment model: not trained ({reason}); run `shopassist train abandonment --simulate 1000`"
        )
        return
    test = model.metrics.get("test") or {}
    typer.echo(
        f"abandonment model trained on {model.training['sessions']} {model.training['source']} sessions "
        f"(test AUC {test.get('auc')}, baseline {test.get('baseline_auc')}) in "
        f"{time.perf_counter() - t0:.0f} s → {rt.abandonment_path}"
    )


def simulate_command(
    sessions: Annotated[int, typer.Option("--sessions", min=1, max=1_000_000, help="shopper sessions")] = 500,
    seed: Annotated[int, typer.Option(help="personas, messages and think times are drawn from this")] = 0,
    budget_s: Annotated[
        float | None, typer.Option("--budget-s", min=1, help="stop after this many seconds")
    ] = None,
) -> None:
    """Simulated shoppers talk to the assistant; their sessions land in the database (one JSON line).

    Personas (decisive buyer, comparer, browser, price watcher, price-sensitive, confused, gives up
    after zero results) come from the journeys the load test uses; see README, "Abandonment model".
    """
    from api.cli._common import runtime

    quiet_libraries()
    with runtime() as rt:
        if rt.index.n_active == 0:
            raise fail("the catalog is empty; run `shopassist setup` or `shopassist ingest FILE` first")
        report = run_simulation(rt, sessions=sessions, seed=seed, budget_s=budget_s)
    typer.echo(json.dumps(report.summary()))


def train_abandonment(
    simulate: Annotated[
        int | None,
        typer.Option(
            "--simulate",
            min=1,
            help="when the log has too few finished sessions, simulate this many first",
        ),
    ] = None,
    source: SourceOption = "auto",
    min_sessions: Annotated[int, typer.Option(min=20, help="finished sessions needed")] = MIN_SESSIONS,
    seed: Annotated[int, typer.Option(help="split, initialisation and simulation seed")] = 0,
    hidden: Annotated[int, typer.Option(min=4, max=512, help="GRU units")] = 32,
    epochs: Annotated[int, typer.Option(min=1, help="most epochs (early stopping on)")] = 80,
    residual: Annotated[
        bool | None,
        typer.Option(
            "--residual/--plain",
            help="the GRU's logit adds to the logistic baseline's, or the GRU alone "
            "(default: residual below 1,000 sessions)",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="model folder (default: where the service loads it)")
    ] = None,
) -> None:
    """Train the abandonment model on the turn logs; prints one JSON line with its test metrics."""
    from api.cli._common import runtime
    from assistant.behaviour.train import TrainConfig

    quiet_libraries()
    cfg = TrainConfig(seed=seed, hidden=hidden, epochs=epochs, residual=residual)
    with runtime() as rt:
        model = train_from_log(
            rt,
            source=source,
            min_sessions=min_sessions,
            real_from=min_sessions,
            simulate_n=simulate,
            seed=seed,
            config=cfg,
            out=out,
        )
        path = out or rt.abandonment_path
    test = model.metrics.get("test") or {}
    t = model.training
    typer.echo(
        json.dumps(
            {
                "model": model.version,
                "path": str(path),
                "source": t["source"],
                "sessions": t["sessions"],
                "predictions": t["predictions"],
                "abandon_rate": t["abandon_rate"],
                "epochs": t["epochs"],
                "best_epoch": t["best_epoch"],
                "threshold": round(model.threshold, 4),
                "test": test,
                "wall_s": t["wall_s"],
            }
        )
    )


def _scratch_runtime(cfg: Any, folder: Path) -> Any:
    """A runtime over the configured catalog index and models, with an empty database in ``folder``
    that holds a copy of the catalog's products and price history (what carts and advice read)."""
    from sqlalchemy import insert, select

    from assistant.db import Database
    from assistant.models import PriceHistoryRow, ProductRow
    from assistant.runtime import Runtime

    url = f"sqlite:///{(folder / 'eval.db').as_posix()}"
    rt = Runtime(cfg.model_copy(update={"database_url": url}))
    source = Database(cfg.resolved_database_url, run_migrations=False)
    try:
        with source.engine.connect() as src, rt.db.engine.begin() as dst:
            for entity in (ProductRow, PriceHistoryRow):
                rows = src.execute(select(entity.__table__)).mappings()
                while chunk := rows.fetchmany(5000):
                    dst.execute(insert(entity), [dict(r) for r in chunk])
    finally:
        source.dispose()
    return rt


def eval_abandonment(
    sessions: Annotated[int, typer.Option("--sessions", min=10, help="held-out sessions to simulate")] = 400,
    seed: Annotated[
        int, typer.Option(help="simulation seed (keep it apart from the training one)")
    ] = EVAL_SEED,
    model: Annotated[Path | None, typer.Option(help="model folder (default: the service's)")] = None,
) -> None:
    """The abandonment model against its logistic-regression baseline on freshly simulated sessions.

    Simulates ``--sessions`` shoppers with ``--seed`` into a temporary database over this store's
    catalog, then scores every turn before each session's first order.  Prints one JSON line:
    ``{"n_sessions", "auc", "f1", "baseline_auc", "baseline_f1", …}`` (ROC AUC over those turns; F1 of
    ``risk >= threshold`` with each model's own operating threshold).
    """
    from assistant.behaviour import AbandonmentModel, build_sequences, evaluate, load_sessions

    quiet_libraries()
    cfg = settings()
    path = model or cfg.models_dir / "abandonment"
    try:
        trained = AbandonmentModel.load(path)
    except ValueError as exc:
        raise fail(f"no abandonment model ({exc}); run `shopassist train abandonment` first") from None
    if seed == 0:
        typer.echo("warning: seed 0 is the one `shopassist simulate` uses by default", err=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="shopassist-eval-") as tmp:
        rt = _scratch_runtime(cfg, Path(tmp))
        try:
            if rt.index.n_active == 0:
                raise fail("the catalog is empty; run `shopassist setup` first")
            report = run_simulation(
                rt, sessions=sessions, seed=seed, label=f"simulate {sessions} held-out sessions"
            )
            with rt.db.session() as s:
                logs = load_sessions(s, [x.session_id for x in report.sessions])
        finally:
            rt.close()
    metrics = evaluate(trained, build_sequences(logs))
    row = {
        "n_sessions": metrics["n_sessions"],
        "auc": metrics["auc"],
        "f1": metrics["f1"],
        "baseline_auc": metrics["baseline_auc"],
        "baseline_f1": metrics["baseline_f1"],
        **{
            k: v
            for k, v in metrics.items()
            if k not in ("n_sessions", "auc", "f1", "baseline_auc", "baseline_f1")
        },
        "conversion": round(report.conversion, 4),
        "seed": seed,
        "model": trained.version,
        "trained_on": {k: trained.training.get(k) for k in ("source", "sessions")},
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    typer.echo(json.dumps(row))
