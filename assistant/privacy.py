"""A shopper's right to be forgotten, and how long conversations are kept.

:func:`erase_session` removes one conversation: its turns, cart, notices, events, alerts, hand-offs,
label corrections and uploaded photos.  Orders are business records and stay, with the shopper's
e-mail and address scrubbed and the link to the session cut.  :func:`purge_expired` does the same
for every session idle longer than ``SHOPASSIST_RETENTION_DAYS``; :class:`RetentionSweeper` runs it
in the server.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from assistant.commerce import SessionNotFound, get_session, is_valid_session_id
from assistant.db import Database
from assistant.images import UploadStore
from assistant.models import (
    CartItemRow,
    EventRow,
    HandoffRow,
    NoticeRow,
    OrderRow,
    PriceAlertRow,
    SessionRow,
    TurnLabelRow,
    TurnRow,
    utcnow,
)

__all__ = ["ErasureReport", "erase_session", "purge_expired", "RetentionSweeper", "SCRUBBED_EMAIL"]

log = logging.getLogger("shopassist.privacy")

#: what an erased order keeps in place of the shopper's e-mail address
SCRUBBED_EMAIL = "erased@invalid"
#: address fields an erased order keeps (enough for tax and returns statistics, nothing personal)
_KEEP_ADDRESS = ("country",)


@dataclass
class ErasureReport:
    sessions: int = 0
    turns: int = 0
    orders_scrubbed: int = 0
    images: int = 0

    def add(self, other: ErasureReport) -> None:
        self.sessions += other.sessions
        self.turns += other.turns
        self.orders_scrubbed += other.orders_scrubbed
        self.images += other.images

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _scrub_address(address: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (address or {}).items() if k in _KEEP_ADDRESS}


def erase_session(db: Database, session_id: str, *, uploads: UploadStore | None = None) -> ErasureReport:
    """Erase one conversation (:class:`SessionNotFound` when there is none); orders stay, scrubbed."""
    if not is_valid_session_id(session_id):
        raise SessionNotFound()
    with db.session() as s:
        get_session(s, session_id=session_id, for_update=True)
        turns = s.scalars(select(TurnRow).where(TurnRow.session_id == session_id)).all()
        image_ids = {t.image_id for t in turns if t.image_id}
        orders = s.scalars(select(OrderRow).where(OrderRow.session_id == session_id)).all()
        for order in orders:
            order.email = SCRUBBED_EMAIL
            order.shipping_address = _scrub_address(order.shipping_address)
            order.session_id = None
            order.updated_at = utcnow()
        s.flush()
        # children first: the database cascades too, but not every engine enforces foreign keys
        s.execute(delete(TurnLabelRow).where(TurnLabelRow.turn_id.in_([t.id for t in turns])))
        for table in (TurnRow, CartItemRow, NoticeRow, EventRow, PriceAlertRow, HandoffRow):
            s.execute(delete(table).where(table.session_id == session_id))
        s.execute(delete(SessionRow).where(SessionRow.id == session_id))
        report = ErasureReport(sessions=1, turns=len(turns), orders_scrubbed=len(orders))
    if uploads is not None:
        report.images = sum(uploads.delete(i) for i in image_ids)
    log.info("erased a session: %d turns, %d orders scrubbed", report.turns, report.orders_scrubbed)
    return report


def purge_expired(
    db: Database, retention_days: float, *, uploads: UploadStore | None = None, batch: int = 500
) -> ErasureReport:
    """Erase every session whose last activity is older than ``retention_days``."""
    cutoff = utcnow() - timedelta(days=retention_days)
    total = ErasureReport()
    while True:
        with db.session() as s:
            ids = s.scalars(select(SessionRow.id).where(SessionRow.updated_at < cutoff).limit(batch)).all()
        if not ids:
            return total
        for sid in ids:
            try:
                total.add(erase_session(db, sid, uploads=uploads))
            except SessionNotFound:  # erased meanwhile by the shopper or another replica
                continue


class RetentionSweeper:
    """Purges expired conversations every ``interval_s`` in a daemon thread (off when days is None)."""

    def __init__(
        self,
        db: Database,
        retention_days: float | None,
        *,
        uploads: UploadStore | None = None,
        interval_s: float = 3600,
    ) -> None:
        self.db = db
        self.days = retention_days
        self.uploads = uploads
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> ErasureReport:
        if self.days is None:
            return ErasureReport()
        report = purge_expired(self.db, self.days, uploads=self.uploads)
        if report.sessions:
            log.info("retention: erased %d sessions older than %g days", report.sessions, self.days)
        return report

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a failed sweep is retried at the next interval, never kills the server
                log.exception("retention sweep failed")
            self._stop.wait(self.interval_s)

    def start(self) -> None:
        if self.days is None or self.interval_s <= 0:
            return
        self._thread = threading.Thread(target=self._loop, name="retention-sweeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
