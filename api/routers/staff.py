"""``/v1/staff/*``: conversation review, replies, label corrections, order status and API keys.

Every route needs ``Authorization: Bearer <key>`` (or ``X-API-Key``) from ``shopassist keys create``:
401 without a valid key, 403 when a staff key calls an admin route.  Everything shown is PII-masked.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import RuntimeDep
from api.errors import ERROR_RESPONSES
from api.schemas_commerce import ORDER_ID_PATH_PATTERN, SESSION_ID_PATTERN
from assistant import staff
from assistant.errors import InvalidRequest

router = APIRouter(prefix="/v1/staff", tags=["staff"], responses=ERROR_RESPONSES)

SessionPath = Annotated[str, PathParam(pattern=SESSION_ID_PATTERN)]
TurnPath = Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$")]
OrderPath = Annotated[str, PathParam(pattern=ORDER_ID_PATH_PATTERN)]
KeyPath = Annotated[str, PathParam(pattern=r"^key_[0-9a-f]{12}$")]


def _key(authorization: str | None, x_api_key: str | None) -> str | None:
    if x_api_key:
        return x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def _user(role: str) -> Any:
    def dep(
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> staff.StaffUser:
        runtime = request.app.state.runtime
        with runtime.db.session() as s:
            return staff.authenticate(s, _key(authorization, x_api_key), role=role)

    return dep


StaffDep = Annotated[staff.StaffUser, Depends(_user("staff"))]
AdminDep = Annotated[staff.StaffUser, Depends(_user("admin"))]

_RELATIVE = re.compile(r"^(\d{1,4})([dhw])$")


def parse_when(text: str | None, name: str) -> datetime | None:
    """ISO 8601 (naive = UTC) or relative: ``7d``, ``24h``, ``2w`` before now."""
    if text is None or not text.strip():
        return None
    t = text.strip()
    m = _RELATIVE.match(t)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        delta = {"d": timedelta(days=n), "h": timedelta(hours=n), "w": timedelta(weeks=n)}[unit]
        return datetime.now(UTC) - delta
    try:
        dt = datetime.fromisoformat(t.replace(" ", "+") if re.search(r"\d \d", t) else t)
    except ValueError:
        raise InvalidRequest(
            f"{name}: {text!r} is not an ISO 8601 date-time or 7d / 24h", code="invalid_date"
        ) from None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)


class LabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    intent: str = Field(min_length=1, max_length=32)
    slots: dict[str, Any] = Field(default_factory=dict)
    note: str = Field(default="", max_length=2000)


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["placed", "shipped", "delivered", "cancelled"]


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["staff", "admin"]
    name: str = Field(default="", max_length=200)


@router.get("/conversations", operation_id="staff_list_conversations")
def conversations(
    runtime: RuntimeDep,
    user: StaffDep,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
    intent: Annotated[str | None, Query(max_length=32)] = None,
    handoff: bool | None = None,
    low_confidence: bool | None = None,
    ordered: bool | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> dict[str, Any]:
    with runtime.db.session() as s:
        return staff.list_conversations(
            s,
            since=parse_when(since, "since"),
            until=parse_when(until, "until"),
            intent=intent,
            handoff=handoff,
            low_confidence=low_confidence,
            ordered=ordered,
            q=q,
            limit=limit,
            offset=offset,
        )


@router.get("/conversations/{session_id}", operation_id="staff_get_conversation")
def conversation(runtime: RuntimeDep, user: StaffDep, session_id: SessionPath) -> dict[str, Any]:
    with runtime.db.session() as s:
        return staff.transcript(s, session_id=session_id)


@router.post("/conversations/{session_id}/messages", status_code=201, operation_id="staff_reply")
def reply(runtime: RuntimeDep, user: StaffDep, session_id: SessionPath, body: ReplyIn) -> dict[str, Any]:
    with runtime.db.session() as s:
        return staff.reply(s, user, session_id=session_id, text=body.text)


@router.post("/turns/{turn_id}/label", status_code=201, operation_id="staff_label_turn")
def label(runtime: RuntimeDep, user: StaffDep, turn_id: TurnPath, body: LabelIn) -> dict[str, Any]:
    with runtime.db.session() as s:
        return staff.label_turn(
            s, user, turn_id=turn_id, intent=body.intent, slots=body.slots, note=body.note
        )


@router.get(
    "/labels/export",
    operation_id="staff_export_labels",
    response_class=PlainTextResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def export(runtime: RuntimeDep, user: StaffDep) -> PlainTextResponse:
    """Corrections as NLU training JSONL (one ``{"text", "intent", "slots"}`` per line, PII masked)."""
    with runtime.db.session() as s:
        rows = staff.export_labels(s)
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return PlainTextResponse(body, media_type="application/x-ndjson")


@router.patch("/orders/{order_id}", operation_id="staff_update_order")
def order_status(runtime: RuntimeDep, user: StaffDep, order_id: OrderPath, body: StatusIn) -> dict[str, Any]:
    with runtime.db.session() as s:
        return staff.update_order_status(s, user, order_id=order_id, status=body.status)


@router.get("/keys", operation_id="staff_list_keys")
def keys(runtime: RuntimeDep, user: AdminDep) -> dict[str, Any]:
    with runtime.db.session() as s:
        return {"keys": staff.list_keys(s)}


@router.post("/keys", status_code=201, operation_id="staff_create_key")
def create_key(runtime: RuntimeDep, user: AdminDep, body: KeyIn) -> dict[str, Any]:
    """The key is in the answer once; only its hash is kept."""
    with runtime.db.session() as s:
        key, record = staff.create_key(s, role=body.role, name=body.name, by=user)
    return {**record, "key": key}


@router.delete("/keys/{key_id}", operation_id="staff_revoke_key")
def revoke_key(runtime: RuntimeDep, user: AdminDep, key_id: KeyPath) -> dict[str, Any]:
    with runtime.db.session() as s:
        return staff.revoke_key(s, key_id=key_id, by=user)
