"""Reading conversations from the database as :class:`~assistant.behaviour.features.SessionLog`.

A session is *finished*, so its label is known, when it has an order or when nothing has happened in
it for ``idle_minutes`` (30 by default).  Sessions the simulator wrote have the channel
``"simulated"`` (:data:`SIMULATED_CHANNEL`); ``source`` picks ``"real"`` ones, ``"simulated"`` ones
or ``"all"``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from assistant.behaviour.features import EVENT_TYPES, EventLog, SessionLog, TurnLog, epoch
from assistant.models import EventRow, OrderRow, SessionRow, TurnRow

__all__ = [
    "SIMULATED_CHANNEL",
    "Source",
    "count_finished",
    "finished_session_ids",
    "load_sessions",
    "mark_simulated",
    "read_logs",
]

SIMULATED_CHANNEL: Final = "simulated"
#: the key in a turn's ``latency_ms`` JSON that marks an offer of help (written by
#: :func:`assistant.behaviour.live.watch_turn`, read back as ``TurnLog.offered_help``)
OFFER_KEY: Final = "abandonment_offer"
IDLE_MINUTES: Final = 30.0
Source = Literal["real", "simulated", "all"]
_CHUNK = 500


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    for i in range(0, len(ids), _CHUNK):
        yield list(ids[i : i + _CHUNK])


def _source_filter(source: Source) -> ColumnElement[bool] | None:
    if source == "simulated":
        return SessionRow.channel == SIMULATED_CHANNEL
    if source == "real":
        return SessionRow.channel != SIMULATED_CHANNEL
    return None


def finished_session_ids(
    s: Session, *, source: Source = "all", idle_minutes: float = IDLE_MINUTES, now: datetime | None = None
) -> list[str]:
    """Ids of the sessions with turns whose outcome is known (an order, or idle long enough), sorted."""
    cutoff = (now or datetime.now(UTC)) - timedelta(minutes=idle_minutes)
    ordered = select(OrderRow.session_id).where(OrderRow.session_id.is_not(None))
    q = select(SessionRow.id).where(
        SessionRow.turn_count > 0, or_(SessionRow.updated_at < cutoff, SessionRow.id.in_(ordered))
    )
    where = _source_filter(source)
    if where is not None:
        q = q.where(where)
    return sorted(s.scalars(q))


def count_finished(
    s: Session, *, idle_minutes: float = IDLE_MINUTES, now: datetime | None = None
) -> dict[str, int]:
    """Finished sessions by kind: ``{"real": n, "simulated": n}``."""
    cutoff = (now or datetime.now(UTC)) - timedelta(minutes=idle_minutes)
    ordered = select(OrderRow.session_id).where(OrderRow.session_id.is_not(None))
    q = (
        select(SessionRow.channel == SIMULATED_CHANNEL, func.count())
        .where(SessionRow.turn_count > 0, or_(SessionRow.updated_at < cutoff, SessionRow.id.in_(ordered)))
        .group_by(SessionRow.channel == SIMULATED_CHANNEL)
    )
    out = {"real": 0, "simulated": 0}
    for simulated, n in s.execute(q):
        out["simulated" if simulated else "real"] += int(n)
    return out


def mark_simulated(s: Session, session_ids: Iterable[str]) -> int:
    """Give these sessions and their turns the channel ``simulated``; returns how many sessions.

    ``shopassist bench load`` does this with the shoppers it drove over HTTP (they arrive as ``web``
    like anyone else), so a load test never counts as real shoppers in analytics, the at-risk list or
    ``train abandonment --source auto``."""
    marked = 0
    for chunk in _chunks(sorted(set(session_ids))):
        done = s.execute(update(SessionRow).where(SessionRow.id.in_(chunk)).values(channel=SIMULATED_CHANNEL))
        marked += int(getattr(done, "rowcount", 0) or 0)
        s.execute(update(TurnRow).where(TurnRow.session_id.in_(chunk)).values(channel=SIMULATED_CHANNEL))
    return marked


def read_logs(s: Session, ids: Sequence[str]) -> tuple[dict[str, list[TurnLog]], dict[str, list[EventLog]]]:
    """The turn logs (in turn order) and the logged events of these sessions, by session id: two
    indexed queries per 500 ids.  The batch loader below and the live scorer (one session, on the
    turn path) both read them here."""
    turns: dict[str, list[TurnLog]] = defaultdict(list)
    events: dict[str, list[EventLog]] = defaultdict(list)
    for chunk in _chunks(ids):
        q = (
            select(
                TurnRow.session_id,
                TurnRow.created_at,
                TurnRow.intent,
                TurnRow.confidence,
                TurnRow.action,
                TurnRow.n_results,
                TurnRow.product_ids,
                TurnRow.latency_ms,
            )
            .where(TurnRow.session_id.in_(chunk))
            .order_by(TurnRow.session_id, TurnRow.idx)
        )
        for sid, at, intent, confidence, action, n_results, product_ids, latency in s.execute(q):
            turns[sid].append(
                TurnLog(
                    at=epoch(at),
                    intent=intent,
                    confidence=float(confidence),
                    action=action,
                    n_results=n_results,
                    n_shown=len(product_ids or []),
                    offered_help=bool((latency or {}).get(OFFER_KEY)),
                )
            )
        q_events = select(EventRow.session_id, EventRow.created_at, EventRow.type).where(
            EventRow.session_id.in_(chunk), EventRow.type.in_(EVENT_TYPES)
        )
        for sid, at, etype in s.execute(q_events):
            events[sid].append(EventLog(at=epoch(at), type=etype))
    return turns, events


def load_sessions(s: Session, ids: Sequence[str]) -> list[SessionLog]:
    """The turn, event and order logs of these sessions (in the order of ``ids``; unknown ids and
    sessions without turns are left out)."""
    turns, events = read_logs(s, ids)
    ordered: set[str] = set()
    channel: dict[str, str] = {}
    for chunk in _chunks(ids):
        channel.update(
            dict(s.execute(select(SessionRow.id, SessionRow.channel).where(SessionRow.id.in_(chunk))).all())
        )
        ordered |= set(s.scalars(select(OrderRow.session_id).where(OrderRow.session_id.in_(chunk))))
    return [
        SessionLog(
            session_id=sid,
            turns=turns[sid],
            events=sorted(events.get(sid, []), key=lambda e: e.at),
            ordered=sid in ordered,
            channel=channel.get(sid, "web"),
        )
        for sid in ids
        if turns.get(sid)
    ]
