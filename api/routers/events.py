"""``/v1/events``: what the widget saw and clicked (the recommender's training log)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import RuntimeDep
from api.errors import ERROR_RESPONSES
from api.schemas_commerce import EventAccepted, EventCreate
from assistant.commerce import record_event

router = APIRouter(prefix="/v1/events", tags=["events"], responses=ERROR_RESPONSES)


@router.post("", status_code=202, operation_id="record_event", response_model=EventAccepted)
def create_event(runtime: RuntimeDep, body: EventCreate) -> EventAccepted:
    """``view`` / ``click`` / ``image_open`` of a product (cart and order events are logged server-side)."""
    with runtime.db.session() as s:
        record_event(s, session_id=body.session_id, type=body.type, product_id=body.product_id)
    return EventAccepted()
