"""Support staff: API keys and roles, the audit log, conversation review (PII masked), replies,
label corrections for the next NLU training, and order status changes.

Keys are random 256-bit tokens shown once; only their SHA-256 is stored (a fast hash is enough for
a key with that much entropy — there is nothing to brute-force).  Every action that changes
something (reply, label, status, key) writes an audit row in the same transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from assistant import commerce
from assistant.commerce._common import as_utc, iso
from assistant.errors import InvalidRequest, NotFound, ShopAssistError
from assistant.models import (
    ApiKeyRow,
    AuditRow,
    HandoffRow,
    NoticeRow,
    OrderRow,
    SessionRow,
    TurnLabelRow,
    TurnRow,
    utcnow,
)
from assistant.pii import mask_pii, redact_card_numbers

__all__ = [
    "ROLES",
    "LOW_CONFIDENCE",
    "StaffUser",
    "Unauthorized",
    "Forbidden",
    "create_key",
    "list_keys",
    "revoke_key",
    "authenticate",
    "audit",
    "list_conversations",
    "transcript",
    "reply",
    "label_turn",
    "export_labels",
    "update_order_status",
    "mask_value",
]

ROLES: Final = ("staff", "admin")
LOW_CONFIDENCE: Final = 0.5
KEY_PREFIX: Final = "sak_"


class Unauthorized(ShopAssistError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ShopAssistError):
    status_code = 403
    code = "forbidden"


@dataclass(frozen=True)
class StaffUser:
    key_id: str
    role: str
    name: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _key_public(row: ApiKeyRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "role": row.role,
        "prefix": row.prefix,
        "created_at": iso(as_utc(row.created_at)),
        "revoked_at": iso(as_utc(row.revoked_at)) if row.revoked_at else None,
        "last_used_at": iso(as_utc(row.last_used_at)) if row.last_used_at else None,
    }


def create_key(
    s: Session, *, role: str, name: str = "", by: StaffUser | None = None
) -> tuple[str, dict[str, Any]]:
    """A new key (returned once, in clear) and its public record."""
    if role not in ROLES:
        raise InvalidRequest(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKeyRow(
        id="key_" + secrets.token_hex(6),
        name=(name or "").strip()[:200],
        role=role,
        prefix=key[:10],
        key_hash=_hash(key),
        created_at=utcnow(),
    )
    s.add(row)
    s.flush()
    audit(s, by, "key_create", row.id, {"role": role, "name": row.name})
    return key, _key_public(row)


def list_keys(s: Session) -> list[dict[str, Any]]:
    return [_key_public(r) for r in s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))]


def revoke_key(s: Session, *, key_id: str, by: StaffUser | None = None) -> dict[str, Any]:
    row = s.get(ApiKeyRow, key_id)
    if row is None:
        raise NotFound(f"no API key {key_id!r}", code="key_not_found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit(s, by, "key_revoke", row.id, {"role": row.role})
    return _key_public(row)


def authenticate(s: Session, key: str | None, *, role: str = "staff") -> StaffUser:
    """The key's user; ``Unauthorized`` without a valid key, ``Forbidden`` for staff on admin routes."""
    if not key:
        raise Unauthorized("this route needs a staff API key (Authorization: Bearer <key>)")
    digest = _hash(key.strip())
    row = s.scalars(select(ApiKeyRow).where(ApiKeyRow.key_hash == digest)).first()
    if row is None or not hmac.compare_digest(row.key_hash, digest) or row.revoked_at is not None:
        raise Unauthorized("the API key is unknown or revoked")
    if role == "admin" and row.role != "admin":
        raise Forbidden("this route is for admins")
    row.last_used_at = utcnow()
    return StaffUser(key_id=row.id, role=row.role, name=row.name)


def audit(
    s: Session, user: StaffUser | None, action: str, target: str, detail: dict[str, Any] | None = None
) -> None:
    """One audit row (``user=None`` = the command line, run by whoever holds the server)."""
    s.add(
        AuditRow(
            at=utcnow(),
            actor=user.key_id if user else "cli",
            role=user.role if user else "admin",
            action=action,
            target=target[:200],
            detail=dict(detail or {}),
        )
    )


def _redact_cards(value: Any) -> Any:
    """Card numbers removed through nested slots (what is stored; the rest is kept as typed)."""
    if isinstance(value, str):
        return redact_card_numbers(value)
    if isinstance(value, list):
        return [_redact_cards(v) for v in value]
    if isinstance(value, dict):
        return {k: _redact_cards(v) for k, v in value.items()}
    return value


def mask_value(value: Any) -> Any:
    """PII masking through nested slots, filters and payloads."""
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------- review


def list_conversations(
    s: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    intent: str | None = None,
    handoff: bool | None = None,
    low_confidence: bool | None = None,
    ordered: bool | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """Conversations, newest first, with the filters of the staff console (all optional)."""
    stmt = select(SessionRow).where(SessionRow.turn_count > 0)
    if since is not None:
        stmt = stmt.where(SessionRow.updated_at >= as_utc(since))
    if until is not None:
        stmt = stmt.where(SessionRow.created_at <= as_utc(until))
    if intent:
        stmt = stmt.where(exists().where(TurnRow.session_id == SessionRow.id, TurnRow.intent == intent))
    if handoff is not None:
        had = exists().where(HandoffRow.session_id == SessionRow.id)
        stmt = stmt.where(had if handoff else ~had)
    if low_confidence is not None:
        low = exists().where(TurnRow.session_id == SessionRow.id, TurnRow.confidence < LOW_CONFIDENCE)
        stmt = stmt.where(low if low_confidence else ~low)
    if ordered is not None:
        has_order = exists().where(OrderRow.session_id == SessionRow.id)
        stmt = stmt.where(has_order if ordered else ~has_order)
    if q and q.strip():
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(
            exists().where(
                TurnRow.session_id == SessionRow.id,
                or_(func.lower(TurnRow.message).like(like), func.lower(TurnRow.reply).like(like)),
            )
        )
    total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = s.scalars(
        stmt.order_by(SessionRow.updated_at.desc(), SessionRow.id)
        .limit(max(1, min(limit, 200)))
        .offset(offset)
    ).all()
    out = []
    for row in rows:
        turns = s.execute(
            select(TurnRow.intent, TurnRow.confidence, TurnRow.message)
            .where(TurnRow.session_id == row.id)
            .order_by(TurnRow.idx)
        ).all()
        out.append(
            {
                "id": row.id,
                "channel": row.channel,
                "created_at": iso(as_utc(row.created_at)),
                "updated_at": iso(as_utc(row.updated_at)),
                "turns": row.turn_count,
                "handoff": bool(row.handoff),
                "ordered": bool(
                    s.scalar(select(func.count()).select_from(OrderRow).where(OrderRow.session_id == row.id))
                ),
                "intents": sorted({t.intent for t in turns}),
                "min_confidence": round(min((t.confidence for t in turns), default=1.0), 3),
                "first_message": mask_pii(turns[0].message) if turns else "",
                "last_message": mask_pii(turns[-1].message) if turns else "",
            }
        )
    return {"conversations": out, "total": int(total), "limit": limit, "offset": offset}


def transcript(s: Session, *, session_id: str) -> dict[str, Any]:
    """A conversation for staff: each turn with NLU, action, products and latency; PII masked."""
    session = commerce.get_session(s, session_id=session_id)
    labels: dict[str, list[dict[str, Any]]] = {}
    for lab in s.scalars(
        select(TurnLabelRow)
        .join(TurnRow, TurnRow.id == TurnLabelRow.turn_id)
        .where(TurnRow.session_id == session_id)
        .order_by(TurnLabelRow.id)
    ):
        labels.setdefault(lab.turn_id, []).append(
            {
                "intent": lab.intent,
                "slots": mask_value(lab.slots),
                "note": mask_pii(lab.note),
                "by": lab.actor,
                "at": iso(as_utc(lab.created_at)),
            }
        )
    turns = [
        {
            "turn_id": t.id,
            "idx": t.idx,
            "created_at": iso(as_utc(t.created_at)),
            "channel": t.channel,
            "message": mask_pii(t.message),
            "image_id": t.image_id,
            "intent": t.intent,
            "confidence": round(float(t.confidence), 4),
            "low_confidence": t.confidence < LOW_CONFIDENCE,
            "slots": mask_value(t.slots),
            "filters": mask_value(t.filters),
            "action": t.action,
            "products": list(t.product_ids or []),
            "n_results": t.n_results,
            "reply": mask_pii(t.reply),
            "latency_ms": {k: round(float(v), 2) for k, v in (t.latency_ms or {}).items()},
            "total_ms": round(float(t.total_ms), 2),
            "labels": labels.get(t.id, []),
        }
        for t in s.scalars(select(TurnRow).where(TurnRow.session_id == session_id).order_by(TurnRow.idx))
    ]
    notices = [
        {"kind": n.kind, "text": mask_pii(n.text), "created_at": iso(as_utc(n.created_at))}
        for n in s.scalars(
            select(NoticeRow).where(NoticeRow.session_id == session_id).order_by(NoticeRow.created_at)
        )
    ]
    orders = [
        {
            "id": o.id,
            "status": o.status,
            "total": o.total,
            "currency": o.currency,
            "email": mask_pii(o.email),
            "shipping_address": mask_value({k: v for k, v in (o.shipping_address or {}).items()}),
            "created_at": iso(as_utc(o.created_at)),
        }
        for o in s.scalars(
            select(OrderRow).where(OrderRow.session_id == session_id).order_by(OrderRow.created_at)
        )
    ]
    if orders:
        for o in orders:  # street, name and postal code are personal; city and country are not
            addr = o["shipping_address"]
            for key in ("name", "line1", "line2", "postal_code"):
                if addr.get(key):
                    addr[key] = "[masked]"
    open_handoff = commerce.open_handoff(s, session_id=session_id)
    return {
        "id": session.id,
        "channel": session.channel,
        "created_at": iso(as_utc(session.created_at)),
        "updated_at": iso(as_utc(session.updated_at)),
        "handoff": bool(session.handoff),
        "open_handoff": open_handoff.to_public() if open_handoff else None,
        "turns": turns,
        "notices": notices,
        "orders": orders,
    }


def reply(s: Session, user: StaffUser, *, session_id: str, text: str) -> dict[str, Any]:
    """A staff message to the shopper (delivered as a ``staff_message`` notice)."""
    notice = commerce.staff_reply(s, session_id=session_id, text=text)
    audit(s, user, "reply", session_id, {"chars": len(notice.text)})
    return {**notice.to_public(), "text": mask_pii(notice.text)}


def label_turn(
    s: Session, user: StaffUser, *, turn_id: str, intent: str, slots: dict[str, Any], note: str = ""
) -> dict[str, Any]:
    """Record the right intent and slots of a turn (the latest correction of a turn wins)."""
    from assistant.nlu import INTENTS, SLOTS

    turn = s.get(TurnRow, turn_id)
    if turn is None:
        raise NotFound(f"no turn {turn_id!r}", code="turn_not_found")
    if intent not in INTENTS:
        raise InvalidRequest(f"unknown intent {intent!r}; one of {', '.join(INTENTS)}", code="invalid_intent")
    unknown = sorted(set(slots) - set(SLOTS))
    if unknown:
        raise InvalidRequest(f"unknown slot(s) {', '.join(unknown)}", code="invalid_slots")
    row = TurnLabelRow(  # a card number in a correction is never stored either
        turn_id=turn_id,
        intent=intent,
        slots=_redact_cards(dict(slots)),
        note=redact_card_numbers((note or "")[:2000]),
        actor=user.key_id,
    )
    s.add(row)
    s.flush()
    audit(s, user, "label", turn_id, {"intent": intent, "was": turn.intent})
    return {
        "turn_id": turn_id,
        "intent": intent,
        "slots": mask_value(dict(slots)),
        "note": mask_pii(row.note),
    }


def export_labels(s: Session) -> list[dict[str, Any]]:
    """Corrected turns in the NLU eval format (``{"text", "intent", "slots"}``), PII masked, the latest
    correction per turn; for ``shopassist train nlu --extra``."""
    latest: dict[str, TurnLabelRow] = {}
    for lab in s.scalars(select(TurnLabelRow).order_by(TurnLabelRow.id)):
        latest[lab.turn_id] = lab
    out = []
    for turn_id, lab in latest.items():
        turn = s.get(TurnRow, turn_id)
        if turn is None:
            continue
        out.append({"text": mask_pii(turn.message), "intent": lab.intent, "slots": mask_value(lab.slots)})
    return out


def update_order_status(s: Session, user: StaffUser, *, order_id: str, status: str) -> dict[str, Any]:
    order = commerce.set_order_status(s, order_id=order_id, status=status)
    audit(s, user, "order_status", order.id, {"status": status})
    public: dict[str, Any] = mask_value(order.to_public())
    return public
