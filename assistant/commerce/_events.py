"""Shopper interaction events (the recommender's and the analytics' log)."""

from __future__ import annotations

from typing import Final

from sqlalchemy.orm import Session

from assistant.commerce._sessions import get_session
from assistant.errors import InvalidRequest, ProductNotFound
from assistant.models import EventRow, ProductRow, utcnow

__all__ = ["EVENT_TYPES", "WIDGET_EVENT_TYPES", "record_event"]

#: Every event type the log holds.
EVENT_TYPES: Final = frozenset({"view", "click", "image_open", "cart_add", "cart_remove", "order"})
#: The ones a client may report through ``POST /v1/events``; the rest are recorded by the server.
WIDGET_EVENT_TYPES: Final = frozenset({"view", "click", "image_open"})


def add_event(s: Session, *, session_id: str, type: str, product_id: str) -> None:
    """Append an event without checks (callers have checked the session and the product)."""
    s.add(EventRow(session_id=session_id, type=type, product_id=product_id, created_at=utcnow()))


def record_event(s: Session, *, session_id: str, type: str, product_id: str) -> None:
    """Record that the session did ``type`` with the product; the product must exist."""
    if type not in EVENT_TYPES:
        raise InvalidRequest(
            f"unknown event type {type!r}; one of {', '.join(sorted(EVENT_TYPES))}", code="invalid_event_type"
        )
    get_session(s, session_id=session_id)
    if s.get(ProductRow, product_id) is None:
        raise ProductNotFound(product_id)
    add_event(s, session_id=session_id, type=type, product_id=product_id)
