"""``shopassist keys …`` (staff and admin API keys) and ``shopassist nlu export-labels``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from api.cli._common import fail, runtime

keys_app = typer.Typer(no_args_is_help=True)


@keys_app.command("create")
def create_key(
    role: Annotated[str, typer.Option(help="staff | admin")],
    name: Annotated[str, typer.Option(help="who or what the key is for")] = "",
) -> None:
    """Create an API key for the staff console: its record as JSON, then the key alone on the last line
    (printed once; only its hash is stored)."""
    from assistant.staff import ROLES, create_key

    if role not in ROLES:
        raise fail(f"unknown role {role!r}; choose staff or admin")
    with runtime() as rt, rt.db.session() as s:
        key, record = create_key(s, role=role, name=name)
    typer.echo(json.dumps(record))
    typer.echo(key)


@keys_app.command("list")
def list_keys() -> None:
    """Every key (id, role, name, created / revoked / last used), one JSON line each; never the key."""
    from assistant.staff import list_keys

    with runtime() as rt, rt.db.session() as s:
        for record in list_keys(s):
            typer.echo(json.dumps(record))


@keys_app.command("revoke")
def revoke_key(key_id: Annotated[str, typer.Argument(help="key id (key_…)")]) -> None:
    """Revoke a key: it stops working at once."""
    from assistant.errors import NotFound
    from assistant.staff import revoke_key

    try:
        with runtime() as rt, rt.db.session() as s:
            record = revoke_key(s, key_id=key_id)
    except NotFound as exc:
        raise fail(exc.message) from None
    typer.echo(json.dumps(record))


def export_labels(
    out: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
) -> None:
    """Staff label corrections as NLU training JSONL (PII masked), for `shopassist train nlu --extra`."""
    from assistant.staff import export_labels

    with runtime() as rt, rt.db.session() as s:
        rows = export_labels(s)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror}") from None
    typer.echo(f"{len(rows)} corrected turns → {out}", err=True)
