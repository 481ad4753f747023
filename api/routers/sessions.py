"""``/v1/sessions/{session_id}…`` routes: notices for polling, and erasing a conversation."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import RuntimeDep
from api.errors import ERROR_RESPONSES
from api.schemas_commerce import NoticePublic, NoticesResponse, SessionIdPath
from assistant.commerce import notices_after
from assistant.errors import InvalidRequest
from assistant.privacy import erase_session

router = APIRouter(prefix="/v1/sessions", tags=["sessions"], responses=ERROR_RESPONSES)

_PLUS_LOST = re.compile(r"^(.*T[0-9:.]+) (\d{2}:?\d{2})$")


def parse_after(text: str) -> datetime:
    """ISO 8601 (``Z`` or an offset; naive is UTC).  A ``+`` that an unencoded query turned into a space
    is put back."""
    t = text.strip()
    t = _PLUS_LOST.sub(r"\1+\2", t)
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        raise InvalidRequest(f"after: {text!r} is not an ISO 8601 date-time", code="invalid_after") from None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


@router.get("/{session_id}/notices", operation_id="list_notices", response_model=NoticesResponse)
def list_notices(
    runtime: RuntimeDep,
    session_id: SessionIdPath,
    after: Annotated[
        str | None, Query(max_length=64, description="ISO 8601; only notices created after it")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> NoticesResponse:
    """Staff messages, price alerts and order updates, oldest first (polling marks nothing delivered)."""
    since = parse_after(after) if after else None
    with runtime.db.session() as s:
        notices = notices_after(s, session_id=session_id, after=since, limit=limit)
    return NoticesResponse(notices=[NoticePublic.model_validate(n.to_public()) for n in notices])


@router.delete(
    "/{session_id}",
    operation_id="erase_session",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "erased"}},
)
def erase(runtime: RuntimeDep, session_id: SessionIdPath) -> Response:
    """Erase this conversation: turns, cart, notices, alerts, events and uploaded photos are deleted;
    orders are kept for the store with the e-mail and address scrubbed.  Afterwards the id is unknown
    (404).  The session id is the shopper's secret, so whoever holds it may erase it."""
    erase_session(runtime.db, session_id, uploads=runtime.uploads)
    return Response(status_code=204)
