"""Analytics figures against a hand-computed set of logged sessions (steps skipped included), the CSV
export, the staff API (401 / JSON / CSV) and the CLI."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from assistant import analytics
from assistant.config import Settings
from assistant.db import Database
from assistant.models import EventRow, HandoffRow, OrderRow, ProductRow, SessionRow, TurnRow

NOW = datetime.now(UTC)


def _session(s: Any, sid: str, *, days_ago: float = 1) -> None:
    s.add(SessionRow(id=sid, created_at=NOW - timedelta(days=days_ago), updated_at=NOW, state={}))


def _turn(
    s: Any,
    sid: str,
    idx: int,
    intent: str,
    action: str,
    *,
    n: int | None = None,
    msg: str = "hi",
    conf: float = 0.9,
) -> None:
    s.add(
        TurnRow(
            id=uuid.uuid4().hex, session_id=sid, idx=idx, created_at=NOW - timedelta(hours=20, minutes=-idx),
            message=msg, intent=intent, confidence=conf, action=action, n_results=n, reply="…",
        )
    )  # fmt: skip


def _order(s: Any, oid: str, sid: str, total: float, *, status: str = "placed", minutes: float = 30) -> None:
    s.add(
        OrderRow(
            id=oid, session_id=sid, status=status, email="a@b.co", shipping_address={}, total=total,
            currency="USD", created_at=NOW - timedelta(days=1) + timedelta(minutes=minutes),
        )
    )  # fmt: skip


@pytest.fixture
def logged(settings: Settings) -> Iterator[Database]:
    """Seven sessions whose funnel is worked out by hand in the test below."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    with db.session() as s:
        s.add(ProductRow(id="p1", title="Steel watch", price=50, content_hash="x"))
        s.add(ProductRow(id="p2", title="Red scarf", price=30, content_hash="y"))
        for sid in "ABCDEFG":
            _session(s, sid * 43, days_ago=40 if sid == "E" else 1)
        a, b, c, d, e, g = ("A" * 43, "B" * 43, "C" * 43, "D" * 43, "E" * 43, "G" * 43)
        s.flush()
        # A: every step, in order
        _turn(s, a, 1, "search", "show_products", n=5, msg="steel watch")
        _turn(s, a, 2, "product_info", "show_details")
        _turn(s, a, 3, "checkout", "collect_checkout_details")
        s.add(EventRow(session_id=a, type="cart_add", product_id="p1", created_at=NOW))
        _order(s, "ORDA0001", a, 50.0, minutes=30)
        # B: a search the catalog cannot answer, then gone
        _turn(s, b, 1, "search", "show_products", n=0, msg="Purple unicorn lamp")
        # C: no search and no chat: clicked a card, carted, ordered through the API; order cancelled
        s.add(EventRow(session_id=c, type="click", product_id="p2", created_at=NOW))
        s.add(EventRow(session_id=c, type="cart_add", product_id="p2", created_at=NOW))
        _order(s, "ORDC0001", c, 30.0, status="cancelled", minutes=90)
        # D: one unclear turn
        _turn(s, d, 1, "greet", "fallback", conf=0.3)
        # E: started before the range: left out although it ordered
        _turn(s, e, 1, "search", "show_products", n=3, msg="steel watch")
        _order(s, "ORDE0001", e, 99.0)
        # F: a session with nothing in it: not counted
        # G: the same poor query (one result), then asked for a human
        _turn(s, g, 1, "search", "show_products", n=1, msg="purple   UNICORN lamp")
        s.add(HandoffRow(session_id=g, reason="asked"))
    yield db
    db.dispose()


def _report(db: Database) -> dict[str, Any]:
    with db.session() as s:
        return analytics.report(s, analytics.AnalyticsRange.of(NOW - timedelta(days=7), NOW))


def test_funnel_matches_the_hand_count_including_skipped_steps(logged: Database) -> None:
    funnel = {row["step"]: row for row in _report(logged)["funnel"]}
    assert {k: v["sessions"] for k, v in funnel.items()} == {
        "sessions": 5,  # A B C D G (E is older, F is empty)
        "searched": 3,  # A B G
        "viewed_details": 2,  # A (turn), C (click)
        "added_to_cart": 2,  # A C
        "checkout_started": 2,  # A (turn), C (its order)
        "order_placed": 2,  # A C
    }
    # C viewed details without searching: it counts in the step, not in "from_previous"
    assert funnel["viewed_details"]["from_previous"] == 1
    assert funnel["viewed_details"]["conversion"] == round(1 / 3, 4)
    assert funnel["searched"]["conversion"] == 0.6
    assert funnel["searched"]["drop_off"] == 0.4
    assert funnel["added_to_cart"]["conversion"] == 1.0


def test_rates_queries_and_products_match_the_hand_count(logged: Database) -> None:
    data = _report(logged)
    s = data["summary"]
    assert s["sessions"] == 5 and s["turns"] == 6 and s["orders"] == 2
    assert s["nlu_low_confidence_rate"] == round(1 / 6, 4)
    assert s["handoff_rate"] == 0.2
    assert s["median_turns_per_session"] == 1.0  # A 3, B 1, C 0, D 1, G 1
    assert s["revenue"] == {"USD": 50.0}  # C's order was cancelled
    assert s["median_seconds_to_order"] == (30 * 60 + 90 * 60) / 2
    assert data["zero_results"] == [{"query": "purple unicorn lamp", "searches": 2, "max_results": 1}]
    assert data["queries"][0] == {"query": "purple unicorn lamp", "searches": 2, "median_results": 0.5}
    assert data["intents"][0] == {"intent": "search", "turns": 3}
    assert data["products"] == [
        {"product_id": "p2", "title": "Red scarf", "clicks": 1, "cart_adds": 1},
        {"product_id": "p1", "title": "Steel watch", "clicks": 0, "cart_adds": 1},
    ]


def test_csv_has_a_header_and_never_starts_a_cell_with_a_formula() -> None:
    data = {"queries": [{"query": "=HYPERLINK(1)", "searches": 2, "median_results": 0}]}
    rows = list(csv.reader(io.StringIO(analytics.to_csv(data, "queries"))))
    assert rows == [["query", "searches", "median_results"], ["'=HYPERLINK(1)", "2", "0"]]


def test_queries_are_pii_masked(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    with db.session() as s:
        _session(s, "H" * 43)
        s.flush()
        _turn(s, "H" * 43, 1, "search", "show_products", n=0, msg="gift for jane.doe@example.com")
    text = json.dumps(_report(db))
    assert "jane.doe@example.com" not in text and "j***@***" in text
    db.dispose()


def test_staff_api_json_csv_and_auth(logged: Database, settings: Settings) -> None:
    from api.app import create_app
    from assistant import staff
    from assistant.runtime import Runtime

    rt = Runtime(settings)
    with rt.db.session() as s:
        key = staff.create_key(s, role="staff", name="t")[0]
    auth = {"Authorization": f"Bearer {key}"}
    try:
        with TestClient(create_app(runtime=rt)) as client:
            assert client.get("/v1/staff/analytics").status_code == 401
            full = client.get("/v1/staff/analytics", params={"since": "7d"}, headers=auth)
            assert full.status_code == 200
            assert full.json()["summary"]["sessions"] == 5
            funnel = client.get(
                "/v1/staff/analytics/funnel", params={"since": "7d", "format": "csv"}, headers=auth
            )
            assert funnel.status_code == 200 and funnel.headers["content-type"].startswith("text/csv")
            rows = list(csv.DictReader(io.StringIO(funnel.text)))
            assert [r["step"] for r in rows][:2] == ["sessions", "searched"] and rows[1]["sessions"] == "3"
            bad = client.get("/v1/staff/analytics/nope", headers=auth)
            assert bad.status_code == 422 and "error" in bad.json()
            bad_date = client.get("/v1/staff/analytics", params={"since": "last tuesday"}, headers=auth)
            assert bad_date.status_code == 422 and bad_date.json()["error"]["code"] == "invalid_date"
    finally:
        rt.close()


def test_cli_report(logged: Database, env_settings: Settings) -> None:
    from api.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["analytics", "report", "--since", "7d", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout.strip().splitlines()[-1])["summary"]["orders"] == 2
    text = runner.invoke(app, ["analytics", "report", "--since", "7d"])
    assert "searched" in text.stdout and "'purple unicorn lamp' ×2" in text.stdout
    csv_out = runner.invoke(app, ["analytics", "report", "--report", "zero_results", "--format", "csv"])
    assert csv_out.stdout.splitlines()[0] == "query,searches,max_results"
    bad = runner.invoke(app, ["analytics", "report", "--format", "csv"])
    assert bad.exit_code == 1 and bad.stderr.startswith("error: --format csv needs --report")


def test_simulated_shoppers_are_left_out_unless_asked_for(logged: Database) -> None:
    with logged.session() as s:
        s.add(
            SessionRow(
                id="S" * 43, created_at=NOW - timedelta(days=1), updated_at=NOW, state={}, channel="simulated"
            )
        )
        s.flush()
        _turn(s, "S" * 43, 1, "search", "show_products", n=4, msg="red scarf")
    rng = analytics.AnalyticsRange.of(NOW - timedelta(days=7), NOW)
    with logged.session() as s:
        assert analytics.report(s, rng)["summary"]["sessions"] == 5
        assert analytics.report(s, rng, simulated=True)["summary"]["sessions"] == 6
