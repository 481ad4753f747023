"""``shopassist eval …``: each prints one JSON line."""

from __future__ import annotations

import typer

from api.cli import nlu as _nlu

app = typer.Typer(no_args_is_help=True)
app.command("nlu")(_nlu.eval_nlu)
