"""Personal data a shopper types stays out of what staff see and out of the logs, and a card number
is never stored at all.

A shopper writes an e-mail address, a phone number, card numbers and a street address (in chat,
by voice, in a search, in an order's address, in an alert); staff reply and correct labels.  Then:
the staff transcript, the conversation list and the label export show none of it unmasked; the
process's log records (in-process) and the real server's log file hold none of it, query strings
included; and no byte of the SQLite files holds the card numbers, in any spelling.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.reliability.conftest import ADDRESS, LiveServer, auth, catalog_ids, new_session

EMAIL = "jane.doe@example.com"
PHONE = "415-555-0123"
STREET = "742 Evergreen Terrace"
CARDS = [
    "4111 1111 1111 1111",
    "5555-5555-5555-4444",
    "378282246310005",
]  # Visa, Mastercard, Amex test numbers
CARD_DIGITS = [re.sub(r"\D", "", c) for c in CARDS]

MESSAGES = [
    f"my email is {EMAIL} and my phone is {PHONE}",
    f"pay with my card {CARDS[0]} please",
    f"card number {CARDS[1]}, ship to {STREET}, Springfield",
    f"show me black backpacks, my amex is {CARDS[2]}",
    f"{CARD_DIGITS[0]}",
    f"order {CARD_DIGITS[1]} status?",
]
# What must never appear unmasked: every spelling a log line or a JSON dump could give them.
SECRETS = [EMAIL, quote(EMAIL), quote_plus(EMAIL), "jane.doe%40example", PHONE, STREET]
SECRETS += CARDS + CARD_DIGITS + [quote(c) for c in CARDS] + [quote_plus(c) for c in CARDS]


def _card_pattern() -> re.Pattern[str]:
    spelled = ["(?:[\\s+.-]|%20)*".join(d) for d in CARD_DIGITS]  # any separators between the digits
    return re.compile("|".join(f"(?<!\\d){s}(?!\\d)" for s in spelled))


CARD_ANYWHERE = _card_pattern()


def leaks(text: str, secrets: list[str] = SECRETS) -> list[str]:
    found = [s for s in secrets if s.lower() in text.lower()]
    found += [m.group(0) for m in CARD_ANYWHERE.finditer(text)]
    return sorted(set(found))


def _shopper_writes_pii(client: TestClient, staff_key: str) -> str:
    """One conversation full of personal data through every door a shopper has; its session id."""
    sid = new_session(client, "show me black backpacks")
    for message in MESSAGES:
        r = client.post("/v1/chat", json={"session_id": sid, "message": message})
        assert r.status_code == 200, r.text
    r = client.post("/v1/chat/stream", json={"session_id": sid, "message": f"it's {CARDS[0]}"})
    assert r.status_code == 200
    r = client.post(
        "/v1/voice",
        json={
            "session_id": sid,
            "transcripts": [
                {"text": f"my card is {CARDS[0]}", "confidence": 0.9},
                {"text": f"call me on {PHONE}", "confidence": 0.5},
            ],
        },
    )
    assert r.status_code == 200, r.text
    r = client.get("/v1/products/search", params={"q": f"{EMAIL} {CARDS[0]}"})
    assert r.status_code == 200
    pid = catalog_ids(1)[0]
    assert client.post(f"/v1/sessions/{sid}/cart/items", json={"product_id": pid}).status_code == 200
    address = {**ADDRESS, "line1": STREET, "line2": f"card {CARDS[1]}"}
    r = client.post(
        "/v1/orders",
        json={"session_id": sid, "email": EMAIL, "shipping_address": address},
        headers={"Idempotency-Key": f"pii-{sid[:12]}"},
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/v1/alerts", json={"session_id": sid, "product_id": pid, "price_max": 1.0, "email": EMAIL}
    )
    assert r.status_code == 201, r.text
    r = client.post(
        f"/v1/staff/conversations/{sid}/messages",
        json={"text": f"Thanks! We never need your card ({CARDS[0]}); we'll call {PHONE}."},
        headers=auth(staff_key),
    )
    assert r.status_code == 201, r.text
    turns = client.get(f"/v1/staff/conversations/{sid}", headers=auth(staff_key)).json()["turns"]
    for t in turns[1:4]:
        r = client.post(
            f"/v1/staff/turns/{t['turn_id']}/label",
            json={
                "intent": "out_of_scope",
                "slots": {},
                "note": f"shopper gave {EMAIL} / {PHONE} / {CARDS[2]}",
            },
            headers=auth(staff_key),
        )
        assert r.status_code == 201, r.text
    return sid


@pytest.fixture(scope="module")
def pii_session(client: TestClient, staff_key: str) -> str:
    return _shopper_writes_pii(client, staff_key)


def test_staff_transcript_masks_everything(client: TestClient, staff_key: str, pii_session: str) -> None:
    r = client.get(f"/v1/staff/conversations/{pii_session}", headers=auth(staff_key))
    assert r.status_code == 200
    assert len(r.json()["turns"]) >= len(MESSAGES) + 3
    assert leaks(r.text) == [], r.text[:2000]


def test_conversation_list_masks_everything(client: TestClient, staff_key: str, pii_session: str) -> None:
    for params in ({}, {"q": "email"}, {"q": EMAIL}, {"q": PHONE}, {"q": CARDS[0]}):
        r = client.get("/v1/staff/conversations", params={**params, "limit": 200}, headers=auth(staff_key))
        assert r.status_code == 200, r.text
        assert leaks(r.text) == [], (params, r.text[:2000])
    listed = client.get("/v1/staff/conversations", params={"limit": 200}, headers=auth(staff_key)).json()
    assert pii_session in {c["id"] for c in listed["conversations"]}


def test_label_export_masks_everything(client: TestClient, staff_key: str, pii_session: str) -> None:
    r = client.get("/v1/staff/labels/export", headers=auth(staff_key))
    assert r.status_code == 200
    rows = [json.loads(line) for line in r.text.splitlines() if line.strip()]
    assert len(rows) >= 3
    assert leaks(r.text) == [], r.text[:2000]


def test_the_shoppers_own_history_keeps_no_card_number(client: TestClient, pii_session: str) -> None:
    """The shopper may see their own e-mail again, but a card number is gone everywhere."""
    r = client.get(f"/v1/sessions/{pii_session}")
    assert r.status_code == 200
    assert CARD_ANYWHERE.findall(r.text) == [], r.text[:2000]


def _db_files(runtime: Any) -> list[Path]:
    db = Path(runtime.settings.data_dir) / "shopassist.db"
    return [p for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-journal")) if p.exists()]


def test_no_card_number_is_stored_anywhere_in_the_database(rel_runtime: Any, pii_session: str) -> None:
    files = _db_files(rel_runtime)
    assert files and files[0].stat().st_size > 0
    # every text cell of every table, read through SQLite (the WAL included)
    found: list[str] = []
    with sqlite3.connect(f"file:{files[0]}?mode=ro", uri=True) as con:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}"'):
                for cell in row:
                    text = cell.decode("utf-8", "replace") if isinstance(cell, bytes) else str(cell)
                    if CARD_ANYWHERE.search(text):
                        found.append(f"{table}: {text[:200]}")
    assert found == [], "\n".join(found)
    # and the raw bytes, free pages and the write-ahead log included
    for path in files:
        raw = path.read_bytes().decode("latin-1")
        assert CARD_ANYWHERE.findall(raw) == [], path.name


def _record_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage()]
    parts += [str(v) for k, v in vars(record).items() if k not in ("msg", "args", "message")]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


#: the test's own HTTP client logs the URLs it requests; that log is not the server's
CLIENT_LOGGERS = ("httpx", "httpx2", "httpcore", "hpack", "urllib3")


def test_the_in_process_logs_hold_no_pii(
    client: TestClient, staff_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sid = _shopper_writes_pii(client, staff_key)
    # query strings and paths with personal data, on matched and unmatched routes
    client.get("/v1/staff/conversations", params={"q": EMAIL}, headers=auth(staff_key))
    client.get("/v1/staff/conversations", params={"q": CARDS[0]}, headers=auth(staff_key))
    client.get(f"/v1/orders/ABCD2345?session_id={quote(EMAIL)}&phone={quote(PHONE)}")
    client.get(f"/v1/no-such-route/{quote(EMAIL)}/{CARD_DIGITS[0]}")
    client.get(f"/v1/sessions/{sid}/notices", params={"after": CARDS[0]})
    client.post(
        "/v1/orders", json={"session_id": sid, "email": f"not an email {CARDS[0]}", "shipping_address": {}}
    )
    records = [r for r in caplog.records if r.name.split(".")[0] not in CLIENT_LOGGERS]
    assert records, "nothing was logged at all"
    bad = [f"{r.name}: {r.getMessage()[:300]}" for r in records if leaks(_record_text(r))]
    assert bad == [], "\n".join(bad)
    # the server side logged its requests (so the check above had lines to look at)
    assert any(r.name == "shopassist.request" for r in records), {r.name for r in records}


@pytest.fixture(scope="module")
def live_staff_key(live_server: LiveServer) -> str:
    from assistant.db import Database
    from assistant.staff import create_key

    db = Database(f"sqlite:///{live_server.data / 'shopassist.db'}", run_migrations=False)
    try:
        with db.session() as s:
            key, _ = create_key(s, role="staff", name="pii-e2e")
    finally:
        db.dispose()
    return key


def test_the_real_servers_log_holds_no_pii(live_server: LiveServer, live_staff_key: str) -> None:
    base, headers = live_server.base, auth(live_staff_key)
    with httpx.Client(base_url=base, timeout=60) as c:
        sid = c.post("/v1/chat", json={"session_id": None, "message": "show me black backpacks"}).json()[
            "session_id"
        ]
        for message in MESSAGES:
            assert c.post("/v1/chat", json={"session_id": sid, "message": message}).status_code == 200
        c.get("/v1/products/search", params={"q": f"{EMAIL} {PHONE} {CARDS[0]}"})
        c.get("/v1/staff/conversations", params={"q": EMAIL}, headers=headers)
        c.get("/v1/staff/conversations", params={"q": CARDS[1]}, headers=headers)
        c.get(f"/v1/staff/conversations/{sid}", headers=headers)
        c.get(f"/v1/orders/ABCD2345?session_id={quote(EMAIL)}&phone={quote(PHONE)}")
        c.get(f"/v1/no-such-route/{quote(EMAIL)}/{CARD_DIGITS[0]}")
        c.post("/v1/orders", json={"session_id": sid, "email": EMAIL, "shipping_address": {"line1": STREET}})
        c.post("/v1/chat", json={"session_id": sid, "message": "x" * 3000 + EMAIL})  # 422
    log = live_server.log_text()
    assert "/v1/products/search" in log, "the server wrote no request log: " + log[-1000:]
    bad = [line for line in log.splitlines() if leaks(line)]
    assert bad == [], "\n".join(bad[:20])
    # session ids are bearer secrets: the request log names route templates, not ids
    assert sid not in log
