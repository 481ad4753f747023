"""Notices (what reaches a session outside its own turns) and human handoff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.commerce._common import as_utc, iso
from assistant.commerce._sessions import get_session
from assistant.errors import InvalidRequest
from assistant.models import HandoffRow, NoticeRow, utcnow
from assistant.pii import redact_card_numbers

__all__ = [
    "NOTICE_KINDS",
    "Notice",
    "Handoff",
    "add_notice",
    "take_notices",
    "notices_after",
    "request_handoff",
    "open_handoff",
    "close_handoff",
    "staff_reply",
]

NOTICE_KINDS: Final = ("staff_message", "price_alert", "order_update")
MAX_TEXT = 4000


@dataclass(frozen=True)
class Notice:
    id: int
    session_id: str
    kind: str
    text: str
    created_at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def to_public(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "data": dict(self.data),
            "created_at": iso(self.created_at),
        }


@dataclass(frozen=True)
class Handoff:
    id: int
    session_id: str
    reason: str
    status: str
    requested_at: datetime
    closed_at: datetime | None = None
    created: bool = False  # False when an open handoff already existed

    def to_public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reason": self.reason,
            "status": self.status,
            "requested_at": iso(self.requested_at),
            "closed_at": iso(self.closed_at) if self.closed_at else None,
        }


def _notice(row: NoticeRow) -> Notice:
    return Notice(
        id=row.id,
        session_id=row.session_id,
        kind=row.kind,
        text=row.text,
        data=dict(row.data or {}),
        created_at=as_utc(row.created_at),
    )


def _handoff(row: HandoffRow, *, created: bool = False) -> Handoff:
    return Handoff(
        id=row.id,
        session_id=row.session_id,
        reason=row.reason,
        status=row.status,
        requested_at=as_utc(row.requested_at),
        closed_at=as_utc(row.closed_at) if row.closed_at else None,
        created=created,
    )


def _clean_text(text: str, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest(f"{what} must not be empty")
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise InvalidRequest(f"{what} is longer than {MAX_TEXT} characters")
    return redact_card_numbers(text)  # never stored, even when staff paste one


def add_notice(
    s: Session, *, session_id: str, kind: str, text: str, data: dict[str, Any] | None = None
) -> Notice:
    """Queue a notice for the session (delivered with its next turn and visible to polling)."""
    if kind not in NOTICE_KINDS:
        raise InvalidRequest(f"unknown notice kind {kind!r}; one of {', '.join(NOTICE_KINDS)}")
    get_session(s, session_id=session_id)
    row = NoticeRow(
        session_id=session_id,
        kind=kind,
        text=_clean_text(text, "text"),
        data=dict(data or {}),
        created_at=utcnow(),
    )
    s.add(row)
    s.flush()
    return _notice(row)


def take_notices(s: Session, *, session_id: str) -> list[Notice]:
    """The session's undelivered notices, oldest first, now marked delivered (one chat turn's ``notices``)."""
    get_session(s, session_id=session_id)
    rows = s.scalars(
        select(NoticeRow)
        .where(NoticeRow.session_id == session_id, NoticeRow.delivered_at.is_(None))
        .order_by(NoticeRow.created_at, NoticeRow.id)
        .with_for_update()
    ).all()
    now = utcnow()
    for row in rows:
        row.delivered_at = now
    s.flush()
    return [_notice(row) for row in rows]


def notices_after(s: Session, *, session_id: str, after: datetime | None, limit: int = 100) -> list[Notice]:
    """Notices created strictly after ``after`` (all when ``None``), oldest first, at most ``limit``;
    for polling, so nothing is marked delivered.  A naive ``after`` is taken as UTC."""
    get_session(s, session_id=session_id)
    stmt = select(NoticeRow).where(NoticeRow.session_id == session_id)
    if after is not None:
        stmt = stmt.where(NoticeRow.created_at > as_utc(after))
    rows = s.scalars(stmt.order_by(NoticeRow.created_at, NoticeRow.id).limit(max(1, min(limit, 1000)))).all()
    return [_notice(row) for row in rows]


# ---------------------------------------------------------------------------- handoff


def open_handoff(s: Session, *, session_id: str) -> Handoff | None:
    get_session(s, session_id=session_id)
    row = s.scalars(
        select(HandoffRow)
        .where(HandoffRow.session_id == session_id, HandoffRow.status == "open")
        .order_by(HandoffRow.id.desc())
        .limit(1)
    ).first()
    return _handoff(row) if row else None


def request_handoff(s: Session, *, session_id: str, reason: str = "") -> Handoff:
    """Flag the session for staff and open a handoff; while one is open, returns it (``created=False``)."""
    session = get_session(s, session_id=session_id, for_update=True)
    existing = s.scalars(
        select(HandoffRow)
        .where(HandoffRow.session_id == session_id, HandoffRow.status == "open")
        .order_by(HandoffRow.id.desc())
        .limit(1)
    ).first()
    session.handoff = True
    session.updated_at = utcnow()
    if existing is not None:
        return _handoff(existing)
    row = HandoffRow(
        session_id=session_id,
        reason=(reason or "").strip()[:1000],
        status="open",
        requested_at=utcnow(),
    )
    s.add(row)
    s.flush()
    return _handoff(row, created=True)


def close_handoff(s: Session, *, session_id: str) -> Handoff | None:
    """Close the open handoff (staff are done) and clear the session's flag; ``None`` when none is open."""
    session = get_session(s, session_id=session_id, for_update=True)
    rows = s.scalars(
        select(HandoffRow).where(HandoffRow.session_id == session_id, HandoffRow.status == "open")
    ).all()
    session.handoff = False
    now = utcnow()
    for row in rows:
        row.status = "closed"
        row.closed_at = now
    s.flush()
    return _handoff(rows[-1]) if rows else None


def staff_reply(s: Session, *, session_id: str, text: str) -> Notice:
    """A staff member's message to the shopper: a ``staff_message`` notice."""
    return add_notice(s, session_id=session_id, kind="staff_message", text=_clean_text(text, "the reply"))
