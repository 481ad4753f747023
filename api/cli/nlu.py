"""``shopassist nlu …``, ``shopassist train nlu`` and ``shopassist eval nlu`` (NLU issue)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


def train_nlu() -> None:
    """Train the NLU model (arrives with the NLU issue)."""
    typer.echo("error: the NLU model is not built yet", err=True)
    raise typer.Exit(code=1)


def eval_nlu() -> None:
    """Evaluate the NLU model (arrives with the NLU issue)."""
    typer.echo("error: the NLU model is not built yet", err=True)
    raise typer.Exit(code=1)
