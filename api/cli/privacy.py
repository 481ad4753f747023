"""``shopassist sessions erase|purge``: a shopper's erasure request, and the retention policy from cron."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from api.cli._common import fail, runtime, settings

app = typer.Typer(no_args_is_help=True)


@app.command("erase")
def erase(
    session_id: Annotated[
        str, typer.Argument(help="the session id to erase (put -- before an id that starts with '-')")
    ],
) -> None:
    """Erase one conversation (turns, cart, notices, alerts, photos); its orders stay, scrubbed."""
    from assistant.commerce import SessionNotFound
    from assistant.privacy import erase_session

    with runtime() as rt:
        try:
            report = erase_session(rt.db, session_id, uploads=rt.uploads)
        except SessionNotFound:
            raise fail(f"no session {session_id[:80]!r}") from None
    typer.echo(json.dumps(report.as_dict()))


@app.command("purge")
def purge(
    days: Annotated[
        float | None,
        typer.Option(help="erase conversations idle longer than this; default SHOPASSIST_RETENTION_DAYS"),
    ] = None,
) -> None:
    """Apply the retention policy now: erase every conversation idle longer than DAYS."""
    from assistant.privacy import purge_expired

    days = days if days is not None else settings().retention_days
    if days is None or days <= 0:
        raise fail("give --days N (N > 0) or set SHOPASSIST_RETENTION_DAYS")
    with runtime() as rt:
        report = purge_expired(rt.db, days, uploads=rt.uploads)
    typer.echo(json.dumps({"days": days, **report.as_dict()}))
