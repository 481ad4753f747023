"""Shopper sessions: unguessable ids, creation, look-up with an optional per-session write lock."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assistant.errors import InvalidRequest, SessionNotFound
from assistant.models import SessionRow, utcnow

__all__ = ["new_session_id", "is_valid_session_id", "create_session", "get_session", "SESSION_ID_PATTERN"]

#: What a session id may look like (``token_urlsafe(32)`` gives 43 of these characters).
SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
_SESSION_ID = re.compile(SESSION_ID_PATTERN)
_CHANNEL = re.compile(r"^[a-z_]{1,16}$")


def new_session_id() -> str:
    """256 random bits, URL-safe (43 characters), starting with a letter or digit.

    A leading ``-`` would read as an option to ``shopassist sessions erase`` (and to most shell
    tools), so such draws (1 in 32) are drawn again.
    """
    while True:
        token = secrets.token_urlsafe(32)
        if token[0].isalnum():
            return token


def is_valid_session_id(value: object) -> bool:
    return isinstance(value, str) and _SESSION_ID.fullmatch(value) is not None


def create_session(s: Session, *, channel: str = "web") -> SessionRow:
    """A new, empty session (flushed, so its id can be used at once)."""
    if not _CHANNEL.fullmatch(channel):
        raise InvalidRequest(f"invalid channel {channel!r}")
    now = utcnow()
    row = SessionRow(
        id=new_session_id(),
        channel=channel,
        state={},
        turn_count=0,
        handoff=False,
        version=0,
        created_at=now,
        updated_at=now,
    )
    s.add(row)
    s.flush()
    return row


def get_session(s: Session, *, session_id: str, for_update: bool = False) -> SessionRow:
    """The session row; :class:`SessionNotFound` for an unknown or malformed id (never a 500).

    ``for_update=True`` serialises writers of one session until the transaction ends:
    ``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite (no row locks) a no-op ``UPDATE`` of the
    row, which takes SQLite's database-wide write lock — so on SQLite hold it briefly.
    """
    if not is_valid_session_id(session_id):
        raise SessionNotFound()
    if for_update and s.get_bind().dialect.name == "sqlite":
        s.execute(
            update(SessionRow)
            .where(SessionRow.id == session_id)
            .values(channel=SessionRow.channel)
            .execution_options(synchronize_session=False)
        )
    stmt = select(SessionRow).where(SessionRow.id == session_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = s.scalars(stmt).one_or_none()
    if row is None:
        raise SessionNotFound()
    return row
