"""Shopper-behaviour analytics from the turn, event and order logs.

Every figure is for the sessions *started* in ``[since, until)``: what those shoppers did, whenever
they did it.  The funnel is open: each step counts the sessions that did it, whether or not they did
the step before (a shopper may add to the cart from a product page without searching); beside each
count, ``from_previous`` is how many of them also did the previous step, and ``conversion`` that
number over the previous step's count.

Steps:

1. ``sessions``: sessions with at least one chat or voice turn, or any event;
2. ``searched``: a turn that ran a catalog search (``n_results`` set, zero included);
3. ``viewed_details``: a ``show_details`` / ``compare`` turn, or a ``view`` / ``click`` /
   ``image_open`` event reported by the widget;
4. ``added_to_cart``: a ``cart_add`` event (chat or cart API);
5. ``checkout_started``: a ``collect_checkout_details`` / ``confirm_order`` / ``order_placed`` turn,
   or an order;
6. ``order_placed``: an order linked to the session.

Query texts are PII-masked before they are counted or shown.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.behaviour.logs import SIMULATED_CHANNEL
from assistant.commerce._common import as_utc
from assistant.models import EventRow, HandoffRow, OrderRow, ProductRow, SessionRow, TurnRow
from assistant.pii import mask_pii
from assistant.staff import LOW_CONFIDENCE

__all__ = ["FUNNEL_STEPS", "REPORTS", "AnalyticsRange", "report", "to_csv", "LOW_RESULTS"]

FUNNEL_STEPS: Final = (
    "sessions",
    "searched",
    "viewed_details",
    "added_to_cart",
    "checkout_started",
    "order_placed",
)
REPORTS: Final = ("summary", "funnel", "intents", "intent_trend", "queries", "zero_results", "products")
#: a search that found at most this many products is a "low-result" query
LOW_RESULTS: Final = 2

_DETAIL_ACTIONS = frozenset({"show_details", "compare"})
_DETAIL_EVENTS = frozenset({"view", "click", "image_open"})
_CHECKOUT_ACTIONS = frozenset({"collect_checkout_details", "confirm_order", "order_placed"})
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class AnalyticsRange:
    since: datetime
    until: datetime

    @classmethod
    def of(cls, since: datetime | None, until: datetime | None, *, default_days: int = 30) -> AnalyticsRange:
        end = as_utc(until) if until else datetime.now(UTC)
        start = as_utc(since) if since else end - timedelta(days=default_days)
        return cls(start, end)


def normalise_query(text: str) -> str:
    return _SPACE.sub(" ", mask_pii(text).strip().lower())[:200]


def _median(values: list[float]) -> float | None:
    return round(float(statistics.median(values)), 2) if values else None


def report(s: Session, rng: AnalyticsRange, *, top: int = 20, simulated: bool = False) -> dict[str, Any]:
    """Every analytics figure for the sessions started in the range (see the module docstring).

    Sessions of simulated shoppers (channel ``simulated``, :mod:`assistant.simulator`) are left out
    unless ``simulated`` is true."""
    stmt = select(SessionRow.id, SessionRow.created_at).where(
        SessionRow.created_at >= rng.since, SessionRow.created_at < rng.until
    )
    if not simulated:
        stmt = stmt.where(SessionRow.channel != SIMULATED_CHANNEL)
    sessions = {sid: as_utc(created) for sid, created in s.execute(stmt)}
    ids = list(sessions)
    turns: list[Any] = []
    events: list[Any] = []
    orders: list[Any] = []
    handoffs: set[str] = set()
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        turns += s.execute(
            select(
                TurnRow.session_id, TurnRow.created_at, TurnRow.intent, TurnRow.confidence, TurnRow.action,
                TurnRow.n_results, TurnRow.message,
            ).where(TurnRow.session_id.in_(chunk))
        ).all()  # fmt: skip
        events += s.execute(
            select(EventRow.session_id, EventRow.type, EventRow.product_id).where(
                EventRow.session_id.in_(chunk)
            )
        ).all()
        orders += s.execute(
            select(
                OrderRow.session_id, OrderRow.created_at, OrderRow.total, OrderRow.currency, OrderRow.status
            ).where(OrderRow.session_id.in_(chunk))
        ).all()
        handoffs |= set(s.scalars(select(HandoffRow.session_id).where(HandoffRow.session_id.in_(chunk))))

    steps: dict[str, set[str]] = {name: set() for name in FUNNEL_STEPS}
    n_turns: Counter[str] = Counter()
    intents: Counter[str] = Counter()
    trend: dict[str, Counter[str]] = defaultdict(Counter)
    queries: Counter[str] = Counter()
    query_results: dict[str, list[int]] = defaultdict(list)
    low_conf = 0
    for sid, created, intent, confidence, action, n_results, message in turns:
        steps["sessions"].add(sid)
        n_turns[sid] += 1
        intents[intent] += 1
        trend[as_utc(created).date().isoformat()][intent] += 1
        low_conf += confidence < LOW_CONFIDENCE
        if n_results is not None:
            steps["searched"].add(sid)
            q = normalise_query(message)
            queries[q] += 1
            query_results[q].append(int(n_results))
        if action in _DETAIL_ACTIONS:
            steps["viewed_details"].add(sid)
        if action in _CHECKOUT_ACTIONS:
            steps["checkout_started"].add(sid)
    clicked: Counter[str] = Counter()
    carted: Counter[str] = Counter()
    for sid, etype, pid in events:
        steps["sessions"].add(sid)
        if etype in _DETAIL_EVENTS:
            steps["viewed_details"].add(sid)
            if etype != "view":
                clicked[pid] += 1
        elif etype == "cart_add":
            steps["added_to_cart"].add(sid)
            carted[pid] += 1
    revenue: dict[str, float] = defaultdict(float)
    time_to_order: list[float] = []
    first_order: dict[str, datetime] = {}
    for sid, created, total, currency, status in orders:
        steps["sessions"].add(sid)
        steps["checkout_started"].add(sid)
        steps["order_placed"].add(sid)
        if status != "cancelled":
            revenue[currency] += float(total)
        at = as_utc(created)
        first_order[sid] = min(at, first_order.get(sid, at))
    for sid, at in first_order.items():
        time_to_order.append((at - sessions[sid]).total_seconds())

    funnel = []
    prev: set[str] | None = None
    for name in FUNNEL_STEPS:
        did = steps[name]
        both = len(did & prev) if prev is not None else len(did)
        base = len(prev) if prev is not None else len(did)
        funnel.append({
            "step": name,
            "sessions": len(did),
            "from_previous": both,
            "conversion": round(both / base, 4) if base else None,
            "drop_off": round(1 - both / base, 4) if base else None,
        })  # fmt: skip
        prev = did

    n_sessions = len(steps["sessions"])
    n_turn_rows = len(turns)
    titles = _titles(s, set(clicked) | set(carted))
    poor = sorted(
        (q for q, r in query_results.items() if max(r) <= LOW_RESULTS),
        key=lambda q: (-len(query_results[q]), max(query_results[q]), q),
    )
    zero = [
        {"query": q, "searches": len(query_results[q]), "max_results": max(query_results[q])} for q in poor
    ]
    days = sorted(trend)
    top_intents = [name for name, _ in intents.most_common(8)]
    return {
        "since": rng.since.isoformat(),
        "until": rng.until.isoformat(),
        "simulated": simulated,
        "summary": {
            "sessions": n_sessions,
            "turns": n_turn_rows,
            "orders": len(orders),
            "nlu_low_confidence_rate": round(low_conf / n_turn_rows, 4) if n_turn_rows else None,
            "handoff_rate": round(len(handoffs & steps["sessions"]) / n_sessions, 4) if n_sessions else None,
            "median_turns_per_session": _median([float(n_turns[sid]) for sid in steps["sessions"]]),
            "median_seconds_to_order": _median(time_to_order),
            "revenue": {cur: round(v, 2) for cur, v in sorted(revenue.items())},
            "conversion": round(len(steps["order_placed"]) / n_sessions, 4) if n_sessions else None,
        },
        "funnel": funnel,
        "intents": [{"intent": k, "turns": v} for k, v in intents.most_common(top)],
        "intent_trend": [{"day": d, **{i: trend[d].get(i, 0) for i in top_intents}} for d in days],
        "queries": [
            {"query": q, "searches": n, "median_results": _median([float(x) for x in query_results[q]])}
            for q, n in queries.most_common(top)
        ],
        "zero_results": zero[:top],
        "products": sorted(
            (
                {"product_id": p, "title": titles.get(p, ""), "clicks": clicked[p], "cart_adds": carted[p]}
                for p in {p for p, _ in carted.most_common(top)} | {p for p, _ in clicked.most_common(top)}
            ),
            key=lambda r: (-int(r["cart_adds"]), -int(r["clicks"]), str(r["product_id"])),
        ),
    }


def _titles(s: Session, ids: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for chunk in (list(ids)[i : i + 500] for i in range(0, len(ids), 500)):
        out.update(
            dict(s.execute(select(ProductRow.id, ProductRow.title).where(ProductRow.id.in_(chunk))).all())
        )
    return out


def to_csv(data: dict[str, Any], name: str) -> str:
    """One report (``REPORTS``) as CSV with a header row."""
    if name not in REPORTS:
        raise ValueError(name)
    value = data[name]
    rows = [{"figure": k, "value": _flat(v)} for k, v in value.items()] if name == "summary" else list(value)
    buf = io.StringIO()
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    writer = csv.DictWriter(buf, fieldnames=fields or ["empty"], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _flat(v) for k, v in row.items()})
    return buf.getvalue()


def _flat(value: Any) -> Any:
    if isinstance(value, dict):
        return "; ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # a shopper's text never runs as a spreadsheet formula
    return "" if value is None else value
