"""Money and time helpers shared by the commerce modules (private)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

__all__ = ["CENT", "money", "to_float", "as_utc", "iso", "call_after_commit"]

log = logging.getLogger("shopassist.commerce")

CENT = Decimal("0.01")


def money(value: float | int | str | Decimal) -> Decimal:
    """An amount rounded to cents; floats go through ``str`` so 19.99 stays 19.99."""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def to_float(value: Decimal) -> float:
    return float(money(value))


def as_utc(dt: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored in UTC); make every datetime aware UTC."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def iso(dt: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` (no ``+`` that a query string would turn into a space)."""
    return as_utc(dt).isoformat(timespec="microseconds").replace("+00:00", "Z")


# ---------------------------------------------------------------------------- after-commit hooks

_HOOKS = "shopassist_after_commit"


def call_after_commit(s: Session, fn: Callable[[], None]) -> None:
    """Run ``fn`` once the session's outermost transaction commits; forget it if that rolls back
    (or if the savepoint it was registered in rolls back).  Failures of ``fn`` are logged, not raised."""
    pending: list[tuple[SessionTransaction | None, Callable[[], None]]] | None = s.info.get(_HOOKS)
    if pending is None:
        pending = s.info[_HOOKS] = []
        event.listen(s, "after_commit", _run_hooks)
        event.listen(s, "after_soft_rollback", _drop_hooks)
    pending.append((s.get_nested_transaction() or s.get_transaction(), fn))


def _run_hooks(s: Session) -> None:
    if s.in_nested_transaction():
        return  # a savepoint was released; wait for the real commit
    pending = s.info.get(_HOOKS) or []
    s.info[_HOOKS] = []
    for _, fn in pending:
        try:
            fn()
        except Exception:  # a hook must never undo or fail a committed transaction
            log.exception("after-commit hook failed")


def _drop_hooks(s: Session, previous_transaction: SessionTransaction) -> None:
    def inside(txn: SessionTransaction | None) -> bool:
        while txn is not None:
            if txn is previous_transaction:
                return True
            txn = txn.parent
        return False

    s.info[_HOOKS] = [(txn, fn) for txn, fn in s.info.get(_HOOKS) or [] if not inside(txn)]
