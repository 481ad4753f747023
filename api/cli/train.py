"""``shopassist train …``: each capability adds its command here."""

from __future__ import annotations

import typer

from api.cli import nlu as _nlu

app = typer.Typer(no_args_is_help=True)
app.command("nlu")(_nlu.train_nlu)
