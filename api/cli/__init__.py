"""The ``shopassist`` command line: one Typer sub-app per group, joined here."""

from __future__ import annotations

import typer

from api.cli import alerts as _alerts
from api.cli import analytics as _analytics
from api.cli import behaviour as _behaviour
from api.cli import bench as _bench
from api.cli import catalog as _catalog
from api.cli import evaluate as _evaluate
from api.cli import nlu as _nlu
from api.cli import privacy as _privacy
from api.cli import serve as _serve
from api.cli import staff as _staff
from api.cli import train as _train

__all__ = ["app", "main"]

app = typer.Typer(
    name="shopassist",
    help="ShopAssist: a self-hosted conversational shopping assistant.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("ingest")(_catalog.ingest)
app.command("search")(_catalog.search)
app.command("serve")(_serve.serve)
app.command("setup", help="Ingest the demo catalog and train what is missing (what `make run` does).")(
    _serve.setup
)
app.command("simulate", help="Simulated shoppers talk to the assistant; their sessions go to the database.")(
    _behaviour.simulate_command
)
app.add_typer(_train.app, name="train", help="Train models into the data dir.")
app.add_typer(_evaluate.app, name="eval", help="Measure quality and speed; prints one JSON line.")
app.add_typer(_nlu.app, name="nlu", help="Parse messages with the NLU model; export staff labels.")
app.add_typer(_alerts.prices_app, name="prices", help="Price history: import a file.")
app.add_typer(_alerts.alerts_app, name="alerts", help="Price alerts: run the sweep.")
app.add_typer(_bench.app, name="bench", help="Load test against a real server: one JSON line.")
app.add_typer(_staff.keys_app, name="keys", help="Staff console API keys: create, list, revoke.")
app.add_typer(_analytics.app, name="analytics", help="Shopper-behaviour analytics: funnel, queries, rates.")
app.add_typer(_privacy.app, name="sessions", help="Erase a conversation; apply the retention policy.")
_nlu.app.command("export-labels")(_staff.export_labels)


def main() -> None:
    app()
