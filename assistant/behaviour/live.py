"""The abandonment model at work: the risk after each turn, the offer of help, the at-risk list.

:func:`watch_turn` runs inside :meth:`Assistant.turn`, after the policy answered and before the
reply is built: it reads the session's logged turns and events (two indexed queries), adds the turn
being answered (timed now), computes the risk with the model (numpy) and, at or above the model's
threshold, adds an offer of help to the reply and suggestions (:mod:`.offers`).  It returns what the
turn log stores in ``TurnRow.latency_ms`` next to the stage timings: ``abandonment_risk`` (0–1) and
``abandonment_offer`` (1 when help was offered); its own time is the ``abandonment_ms`` stage.  A
failure is logged and the turn goes on without it.

:func:`at_risk_sessions` lists live sessions (activity within the last minutes, no order, not
simulated) whose latest risk is at or above the threshold: what the staff console shows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from assistant.behaviour.features import EventLog, TurnLog, epoch, order_cut
from assistant.behaviour.logs import OFFER_KEY, SIMULATED_CHANNEL, read_logs
from assistant.behaviour.model import AbandonmentModel
from assistant.behaviour.offers import merge_suggestions, offer_help
from assistant.models import OrderRow, SessionRow, TurnRow, utcnow
from assistant.pii import mask_pii

if TYPE_CHECKING:
    from assistant.dialogue._policy import Outcome, TurnContext

__all__ = ["watch_turn", "session_risk", "at_risk_sessions", "RISK_KEY", "OFFER_KEY"]

log = logging.getLogger("shopassist.behaviour")

RISK_KEY: Final = "abandonment_risk"
#: the longest history the model reads at serving time (the latest turns)
MAX_TURNS: Final = 200


def _logged(s: Session, session_id: str) -> tuple[list[TurnLog], list[EventLog]]:
    turns, events = read_logs(s, [session_id])
    return turns.get(session_id, []), events.get(session_id, [])


def session_risk(model: AbandonmentModel, turns: list[TurnLog], events: list[EventLog]) -> float:
    """The risk after the last turn; 0 once the session has an order."""
    if not turns or order_cut(turns, events) < len(turns):
        return 0.0
    return model.risk(turns[-MAX_TURNS:], events)


def watch_turn(
    model_getter: Callable[[], AbandonmentModel | None] | None, ctx: TurnContext, outcome: Outcome
) -> dict[str, float]:
    """Risk after this turn, and the offer of help when it is high (see the module docstring)."""
    model = model_getter() if model_getter is not None else None
    if model is None:
        return {}
    t0 = time.perf_counter()
    out: dict[str, float] = {}
    try:
        turns, events = _logged(ctx.s, ctx.session_id)
        turns.append(
            TurnLog(
                at=epoch(utcnow()),
                intent=ctx.intent,
                confidence=float(ctx.confidence),
                action=outcome.action,
                n_results=outcome.n_results,
                n_shown=len(outcome.products),
            )
        )
        risk = session_risk(model, turns, events)
        out[RISK_KEY] = round(risk, 4)
        offered = [i for i, t in enumerate(turns[:-1]) if t.offered_help]
        session = ctx.s.get(SessionRow, ctx.session_id)
        offer = offer_help(
            risk=risk,
            threshold=model.threshold,
            action=outcome.action,
            intent=ctx.intent,
            n_results=outcome.n_results,
            prices=[p.price for p, _, _ in outcome.products],
            filters=ctx.state.filters,
            turns_since_offer=len(turns) - 1 - offered[-1] if offered else None,
            handed_off=bool(session is not None and session.handoff),
            currency=outcome.products[0][0].currency if outcome.products else "USD",
        )
        if offer is not None:
            outcome.reply = f"{outcome.reply} {offer.sentence}"
            outcome.suggestions = merge_suggestions(outcome.suggestions, offer.suggestions)
            out[OFFER_KEY] = 1.0
    except Exception:  # the risk is advice: it never fails the shopper's turn
        log.exception("abandonment risk not computed")
        out = {}
    ctx.timings["abandonment_ms"] = (time.perf_counter() - t0) * 1000
    return out


def at_risk_sessions(
    s: Session,
    *,
    threshold: float,
    minutes: float = 30.0,
    limit: int = 50,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Live sessions whose latest turn's risk is at or above ``threshold``, riskiest first.

    Live: a turn within the last ``minutes``, no order, not a simulated session.  Each entry:
    ``session_id``, ``risk``, ``turns``, ``last_activity`` (ISO 8601), ``last_intent``,
    ``last_action``, ``last_message`` (PII masked), ``handoff``.
    """
    cutoff = (now or datetime.now(UTC)) - timedelta(minutes=minutes)
    ordered = select(OrderRow.session_id).where(OrderRow.session_id.is_not(None))
    rows = s.execute(
        select(
            SessionRow.id,
            SessionRow.turn_count,
            SessionRow.handoff,
            TurnRow.created_at,
            TurnRow.intent,
            TurnRow.action,
            TurnRow.message,
            TurnRow.latency_ms,
        )
        .join(TurnRow, and_(TurnRow.session_id == SessionRow.id, TurnRow.idx == SessionRow.turn_count))
        .where(
            SessionRow.updated_at >= cutoff,
            SessionRow.channel != SIMULATED_CHANNEL,
            SessionRow.id.not_in(ordered),
        )
        .order_by(SessionRow.updated_at.desc())
        .limit(5000)
    ).all()
    out = []
    for sid, n_turns, handoff, at, intent, action, message, latency in rows:
        risk = (latency or {}).get(RISK_KEY)
        if risk is None or float(risk) < threshold:
            continue
        out.append(
            {
                "session_id": sid,
                "risk": round(float(risk), 4),
                "turns": int(n_turns),
                "last_activity": datetime.fromtimestamp(epoch(at), UTC).isoformat().replace("+00:00", "Z"),
                "last_intent": intent,
                "last_action": action,
                "last_message": mask_pii(message),
                "handoff": bool(handoff),
            }
        )
    out.sort(key=lambda r: -float(r["risk"]))  # stable: equal risks stay most recent first
    return out[: max(1, limit)]
