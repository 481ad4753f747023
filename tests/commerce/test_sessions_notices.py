"""Sessions (ids, look-up, locking), notices, handoff and events."""

from __future__ import annotations

import re
import time
from datetime import timedelta, timezone

import pytest
from sqlalchemy import select

import assistant.commerce as commerce
from assistant.commerce import (
    SESSION_ID_PATTERN,
    add_notice,
    close_handoff,
    create_session,
    get_session,
    new_session_id,
    notices_after,
    open_handoff,
    record_event,
    request_handoff,
    staff_reply,
    take_notices,
)
from assistant.db import Database
from assistant.errors import InvalidRequest, ProductNotFound, SessionNotFound
from assistant.models import EventRow, HandoffRow, SessionRow

# ---------------------------------------------------------------------------- exported names


def test_exported_members() -> None:
    assert commerce.__all__ == list(dict.fromkeys(commerce.__all__)), "duplicates in __all__"
    for name in commerce.__all__:
        assert hasattr(commerce, name), name
    public = {n for n in dir(commerce) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(commerce, n)).__name__ == "module"}
    assert public - modules == set(commerce.__all__)


# ---------------------------------------------------------------------------- sessions


def test_session_ids_are_256_bit_url_safe_tokens() -> None:
    ids = {new_session_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 43 and re.fullmatch(SESSION_ID_PATTERN, i) for i in ids)
    # A leading '-' (1 draw in 64 before) made `shopassist sessions erase ID` read the id as an option.
    assert all(i[0].isalnum() for i in ids)


def test_create_and_get_session(db: Database) -> None:
    with db.session() as s:
        row = create_session(s, channel="voice")
        sid = row.id
    with db.session() as s:
        got = get_session(s, session_id=sid)
        assert (got.channel, got.handoff, got.turn_count, got.state) == ("voice", False, 0, {})
        assert get_session(s, session_id=sid, for_update=True).id == sid
    with db.session() as s, pytest.raises(InvalidRequest):
        create_session(s, channel="Web Widget!")


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "short",
        "../../etc/passwd",
        "x" * 65,
        "A" * 43,
        "é" * 43,
        "abc def" * 6,
        "'; DROP TABLE sessions;--",
    ],
)
def test_garbage_session_ids_are_not_found(db: Database, garbage: str) -> None:
    with db.session() as s:
        with pytest.raises(SessionNotFound) as exc:
            get_session(s, session_id=garbage)
        with pytest.raises(SessionNotFound):
            get_session(s, session_id=garbage, for_update=True)
    assert exc.value.status_code == 404 and exc.value.code == "session_not_found"


# ---------------------------------------------------------------------------- notices


def test_take_notices_delivers_each_once(db: Database, sid: str) -> None:
    with db.session() as s:
        add_notice(s, session_id=sid, kind="staff_message", text="Hi, I'm Sam from support.")
        add_notice(s, session_id=sid, kind="price_alert", text="It dropped", data={"product_id": "P1"})
    with db.session() as s:
        taken = take_notices(s, session_id=sid)
    assert [(n.kind, n.text, n.data) for n in taken] == [
        ("staff_message", "Hi, I'm Sam from support.", {}),
        ("price_alert", "It dropped", {"product_id": "P1"}),
    ]
    public = taken[0].to_public()
    assert set(public) == {"kind", "text", "data", "created_at"} and public["created_at"].endswith("Z")
    with db.session() as s:
        assert take_notices(s, session_id=sid) == []
        assert len(notices_after(s, session_id=sid, after=None)) == 2  # polling still sees them


def test_notices_after_for_polling(db: Database, sid: str) -> None:
    with db.session() as s:
        first = add_notice(s, session_id=sid, kind="staff_message", text="one")
    time.sleep(0.002)
    with db.session() as s:
        second = add_notice(s, session_id=sid, kind="order_update", text="two")
    with db.session() as s:
        assert [n.text for n in notices_after(s, session_id=sid, after=None)] == ["one", "two"]
        assert [n.text for n in notices_after(s, session_id=sid, after=first.created_at)] == ["two"]
        assert notices_after(s, session_id=sid, after=second.created_at) == []
        # another time zone, and a naive datetime taken as UTC
        in_paris = first.created_at.astimezone(timezone(timedelta(hours=2)))
        assert [n.text for n in notices_after(s, session_id=sid, after=in_paris)] == ["two"]
        naive = (first.created_at - timedelta(seconds=1)).replace(tzinfo=None)
        assert len(notices_after(s, session_id=sid, after=naive)) == 2
        assert [n.text for n in notices_after(s, session_id=sid, after=None, limit=1)] == ["one"]
        assert notices_after(s, session_id=sid, after=None) == notices_after(s, session_id=sid, after=None)


def test_notices_are_per_session(db: Database, sid: str) -> None:
    with db.session() as s:
        other = create_session(s).id
        add_notice(s, session_id=sid, kind="staff_message", text="for you")
    with db.session() as s:
        assert take_notices(s, session_id=other) == []
        assert notices_after(s, session_id=other, after=None) == []


def test_notice_checks(db: Database, sid: str) -> None:
    with db.session() as s:
        with pytest.raises(InvalidRequest, match="unknown notice kind"):
            add_notice(s, session_id=sid, kind="spam", text="x")
        with pytest.raises(InvalidRequest, match="must not be empty"):
            add_notice(s, session_id=sid, kind="staff_message", text="  ")
        with pytest.raises(SessionNotFound):
            add_notice(s, session_id="Z" * 43, kind="staff_message", text="x")
        with pytest.raises(SessionNotFound):
            notices_after(s, session_id="nope", after=None)


# ---------------------------------------------------------------------------- handoff


def test_handoff_is_idempotent_while_open(db: Database, sid: str) -> None:
    with db.session() as s:
        first = request_handoff(s, session_id=sid, reason="wants a person")
        again = request_handoff(s, session_id=sid, reason="asked twice")
        assert first.created and not again.created and again.id == first.id
        assert get_session(s, session_id=sid).handoff is True
        assert open_handoff(s, session_id=sid) == again
    with db.session() as s:
        closed = close_handoff(s, session_id=sid)
        assert closed is not None and closed.status == "closed" and closed.closed_at is not None
        assert get_session(s, session_id=sid).handoff is False
        assert open_handoff(s, session_id=sid) is None and close_handoff(s, session_id=sid) is None
        third = request_handoff(s, session_id=sid, reason="again")
        assert third.created and third.id != first.id
        assert len(s.scalars(select(HandoffRow)).all()) == 2
        assert third.to_public()["status"] == "open"


def test_staff_reply_becomes_a_notice(db: Database, sid: str) -> None:
    with db.session() as s:
        request_handoff(s, session_id=sid, reason="help")
        notice = staff_reply(s, session_id=sid, text="  Hello! I can help.  ")
        assert (notice.kind, notice.text) == ("staff_message", "Hello! I can help.")
        with pytest.raises(SessionNotFound):
            staff_reply(s, session_id="Q" * 43, text="hi")
        with pytest.raises(InvalidRequest):
            staff_reply(s, session_id=sid, text="")
    with db.session() as s:
        assert [n.text for n in take_notices(s, session_id=sid)] == ["Hello! I can help."]


# ---------------------------------------------------------------------------- events


def test_record_event(db: Database, sid: str, catalog: dict[str, str]) -> None:
    with db.session() as s:
        for kind in ("view", "click", "image_open", "order"):
            record_event(s, session_id=sid, type=kind, product_id=catalog["shirt"])
        with pytest.raises(ProductNotFound):
            record_event(s, session_id=sid, type="view", product_id="NOPE")
        with pytest.raises(InvalidRequest) as exc:
            record_event(s, session_id=sid, type="purchase", product_id=catalog["shirt"])
        assert exc.value.code == "invalid_event_type"
        with pytest.raises(SessionNotFound):
            record_event(s, session_id="W" * 43, type="view", product_id=catalog["shirt"])
    with db.session() as s:
        assert [e.type for e in s.scalars(select(EventRow).order_by(EventRow.id))] == [
            "view",
            "click",
            "image_open",
            "order",
        ]
        assert s.get(SessionRow, sid) is not None
