"""Simulated shoppers: realistic conversation logs to learn from until a store has its own.

Each simulated session picks a persona from :data:`assistant.journeys.JOURNEYS` (by its
``behaviour.weight``) and talks to the **real assistant API** (``POST /v1/chat``, ``POST
/v1/events`` for product clicks) through a client the caller provides — in-process, the FastAPI
app over the store's runtime — so the turn log, events, carts and orders are the ones real
shoppers would leave.  The persona walks its script and reacts to the answers (see
:class:`assistant.journeys.Behaviour`): frustration grows with searches that find nothing,
questions it cannot answer and prices over its budget, and shrinks with useful answers; it thinks
longer when frustrated or hesitant, may leave before any message, asks for a person when stuck
(the confused persona), drops a purchase when price advice says "wait", answers the checkout form
in the order the assistant asks, and buys only when it meant to and things went well enough.

**Time without sleeping.**  The conversation runs as fast as the assistant answers; the shopper's
think time is drawn but not waited for.  When the session is over its timestamps are rewritten
onto a virtual timeline: the session starts at a seeded moment in the past (spread over
``span_days`` before ``now`` − 2 h, so every simulated session is finished, idle for over 30
minutes), turn *i* happens at the previous turn's time plus the drawn think time, and every other
row of the session (events, cart lines, orders, handoffs, alerts, notices) keeps its place between
the turns around it (its real offset from the nearer of the two, at most half of the gap).  The
rows keep their order, so features read from the log (e.g. the dwell between turns, the events
each turn owns) are what the timeline says.  Simulated sessions and their turns get the channel
``"simulated"`` (:data:`assistant.behaviour.SIMULATED_CHANNEL`).

Randomness: session *k* of a run with seed *s* draws everything from ``random.Random(f"{s}/{k}")``,
so a run is repeatable and a longer run extends a shorter one.
"""

from __future__ import annotations

import bisect
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update

from assistant.behaviour.logs import SIMULATED_CHANNEL
from assistant.db import Database
from assistant.journeys import (
    ADDRESS,
    CHECKOUT,
    CONFIRM,
    EMAIL,
    JOURNEYS,
    VAGUE_MESSAGES,
    WANDERING,
    Journey,
    draw_values,
)
from assistant.models import (
    CartItemRow,
    EventRow,
    HandoffRow,
    NoticeRow,
    OrderRow,
    PriceAlertRow,
    ProductRow,
    SessionRow,
    TurnRow,
)

__all__ = [
    "ShopperClient",
    "SimulatedSession",
    "SimulationReport",
    "catalog_words",
    "simulate",
    "simulate_session",
    "retime_session",
]

#: the most messages one simulated shopper sends
MAX_TURNS = 25
_FORM_STEPS = frozenset({EMAIL, ADDRESS, CONFIRM})
_NEEDS_PRODUCTS = ("the first", "the second", "the third", "{n} one", "compare", " it ", "it to", "other one")
_USEFUL_ACTIONS = frozenset(
    {
        "show_details",
        "compare",
        "recommend",
        "cart_updated",
        "show_cart",
        "collect_checkout_details",
        "confirm_order",
        "order_placed",
        "price_advice",
        "alert_created",
        "order_status",
    }
)
_SEARCH_ACTIONS = frozenset({"show_products", "ask_clarification", "recommend"})
_PROGRESS_ACTIONS = frozenset({"cart_updated", "collect_checkout_details", "confirm_order", "order_placed"})


class _Response(Protocol):
    @property
    def status_code(self) -> int: ...

    def json(self) -> Any: ...


class ShopperClient(Protocol):
    """What the simulator needs of an HTTP client of the shop's API (httpx / FastAPI TestClient)."""

    def post(self, url: str, *, json: Any) -> _Response: ...

    def close(self) -> None: ...


#: a client of the shop's API for one shopper, given the shopper's (made-up) IP address
Connect = Callable[[str], ShopperClient]


@dataclass(frozen=True)
class SimulatedSession:
    session_id: str
    persona: str
    turns: int
    ordered: bool
    #: "ordered", "left", "left at checkout", "handed off", "said goodbye", "done", "error"
    ending: str
    #: seconds before each message (the first: from opening the chat)
    gaps: tuple[float, ...] = ()


@dataclass
class SimulationReport:
    sessions: list[SimulatedSession] = field(default_factory=list)
    wall_s: float = 0.0
    errors: int = 0

    @property
    def n_turns(self) -> int:
        return sum(s.turns for s in self.sessions)

    @property
    def conversion(self) -> float:
        return sum(s.ordered for s in self.sessions) / len(self.sessions) if self.sessions else 0.0

    def summary(self) -> dict[str, Any]:
        by: dict[str, Counter[str]] = {}
        for s in self.sessions:
            by.setdefault(s.persona, Counter())[s.ending] += 1
        return {
            "sessions": len(self.sessions),
            "turns": self.n_turns,
            "conversion": round(self.conversion, 4),
            "errors": self.errors,
            "wall_s": round(self.wall_s, 1),
            "personas": {p: dict(c) for p, c in sorted(by.items())},
        }


def catalog_words(db: Database) -> tuple[list[str], list[str], list[str]]:
    """Product types (plural), colours, and the :data:`~assistant.journeys.MISSING_PRODUCTS` this
    catalog really lacks."""
    from assistant.dialogue._text import plural
    from assistant.journeys import MISSING_PRODUCTS

    types: set[str] = set()
    colours: set[str] = set()
    titles: list[str] = []
    with db.session() as s:
        for ptype, attrs, title in s.execute(
            select(ProductRow.product_type, ProductRow.attributes, ProductRow.title).where(ProductRow.active)
        ):
            if ptype:
                types.add(plural(ptype))
            colour = (attrs or {}).get("color")
            if isinstance(colour, str) and colour:
                colours.add(colour.lower())
            titles.append(str(title).lower())
    text = " ".join(titles)
    missing = [m for m in MISSING_PRODUCTS if m.rstrip("s") not in text and m not in types]
    return sorted(types), sorted(colours), missing


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def _found_nothing(body: dict[str, Any]) -> bool:
    """What a shopper reads as "nothing found": no products for a search, or only the closest."""
    products = body.get("products") or []
    reply = str(body.get("reply", ""))
    if body.get("action") not in _SEARCH_ACTIONS:
        return False
    if not products:
        return "couldn't find" in reply or "no more" in reply or body.get("action") == "show_products"
    return all(p.get("why") == "closest to what you asked" for p in products)


class _Shopper:
    """One simulated shopper's session (see the module docstring)."""

    def __init__(self, client: ShopperClient, journey: Journey, rng: random.Random, values: dict[str, Any]):
        self.client = client
        self.journey = journey
        self.b = journey.behaviour
        self.rng = rng
        self.values = values
        self.wants = rng.random() < self.b.buys
        self.budget = float(values["budget"]) * self.b.budget_factor
        self.frustration = 0.0
        self.sid: str | None = None
        self.last: dict[str, Any] | None = None
        self.gaps: list[float] = []
        self.ordered = False
        self.asked_person = False
        self.ending = ""
        #: answers in a row without progress (a cart change or a checkout step)
        self.stale = 0

    # ------------------------------------------------------------------ the shopper's clock and mood
    def think_time(self) -> float:
        if self.last is None:
            return 6.0 * math.exp(self.rng.gauss(0, 0.4))
        b = self.b
        median = b.dwell_s * (1 + b.dwell_frustration * self.frustration)
        median *= 1.0 if self.wants else b.hesitant_dwell * (1 + b.boredom * self.stale)
        median += 2.0 * len(self.last.get("products") or [])
        return float(median * math.exp(self.rng.gauss(0, b.dwell_sigma)))

    def leaves(self) -> bool:
        if self.last is None:
            return False
        b = self.b
        p = b.leave_base + (1 - b.leave_base) * _sigmoid(3.0 * (self.frustration - b.patience))
        return self.rng.random() < p

    def react(self, body: dict[str, Any]) -> None:
        b = self.b
        action = body.get("action")
        products = body.get("products") or []
        reply = str(body.get("reply", ""))
        cost = 0.0
        if _found_nothing(body):
            cost += b.zero_cost
        elif action == "fallback" or (action == "ask_clarification" and not products):
            cost += b.unclear_cost
        elif "dropped the" in reply:
            cost += b.relaxed_cost
        over = bool(products) and min(float(p["price"]) for p in products) > self.budget
        if b.over_budget_cost and over and action in _SEARCH_ACTIONS | {"compare"}:
            cost += b.over_budget_cost
        if action == "show_cart" and not (body.get("cart") or {}).get("items"):
            cost += b.unclear_cost
        useful = cost == 0 and (bool(products) or action in _USEFUL_ACTIONS)
        self.stale = 0 if action in _PROGRESS_ACTIONS else self.stale + 1
        self.frustration = max(0.0, self.frustration + cost - (b.relief if useful else 0.0))
        if not self.wants:  # drifting off: the longer nothing moves, the faster
            self.frustration += b.boredom * self.stale
        if useful and not self.wants and self.rng.random() < b.converts:
            self.wants = True  # a good find
        elif self.wants and self.frustration >= 0.7 * b.patience and self.rng.random() < b.put_off:
            self.wants = False  # put off: will buy elsewhere, or later
        advice = body.get("price_advice") or {}
        if advice.get("verdict") == "wait" and self.rng.random() < b.waits_on_advice:
            self.wants = False
        if action == "order_placed":
            self.ordered = True
        if products and self.rng.random() < b.clicks and self.sid:
            pick = self.rng.choice(products[: min(3, len(products))])
            self.client.post(
                "/v1/events", json={"session_id": self.sid, "type": "click", "product_id": pick["id"]}
            )

    # ------------------------------------------------------------------ talking
    def send(self, message: str) -> dict[str, Any] | None:
        gap = self.think_time()
        r = self.client.post("/v1/chat", json={"session_id": self.sid, "message": message})
        if r.status_code != 200:
            self.ending = "error"
            return None
        body: dict[str, Any] = r.json()
        self.sid = str(body["session_id"])
        self.gaps.append(gap)
        self.last = body
        self.react(body)
        return body

    def say(self, message: str) -> dict[str, Any] | None:
        """Send ``message`` unless the shopper leaves first (or asks for a person instead)."""
        if len(self.gaps) >= MAX_TURNS:
            self.ending = self.ending or "done"
            return None
        if self.leaves():
            said = self.rng.random() < self.b.says_bye and self.send("thanks, bye") is not None
            self.ending = self.ending or ("said goodbye" if said else "left")
            return None
        if (
            self.b.asks_for_person
            and not self.asked_person
            and self.frustration > 0.8 * self.b.patience
            and self.rng.random() < self.b.asks_for_person
        ):
            self.asked_person = True
            body = self.send("can i talk to a person")
            if body is None:
                return None
            if self.rng.random() < 0.7:  # nobody from staff answers a simulated shopper: most leave
                self.ending = "handed off"
                return None
        return self.send(message)

    def checkout(self) -> None:
        """Check out, answering the form as the assistant asks; stops when the shopper leaves."""
        cart = (self.last or {}).get("cart") or {}
        if self.b.over_budget_cost and float(cart.get("total") or 0) > self.budget:
            self.wants = False
        if not self.wants:
            self.ending = "left at checkout"
            return
        empty = not cart.get("items")
        if empty and (self.last or {}).get("products") and self.say("add the first one to my cart") is None:
            return
        body = self.say(CHECKOUT)
        for _ in range(6):
            if body is None or self.ordered:
                return
            action = body.get("action")
            if action == "collect_checkout_details":
                template = EMAIL if "email" in str(body.get("reply", "")).lower() else ADDRESS
            elif action == "confirm_order":
                template = CONFIRM
            else:
                return
            body = self.say(template.format(**self.values))

    def run(self) -> None:
        steps = self.journey.steps
        i = 0
        retried = False
        while i < len(steps) and not self.ending:
            template = steps[i]
            if template in _FORM_STEPS:
                i += 1
                continue
            if template == CHECKOUT:
                if not self.ordered:
                    self.checkout()
                    if not self.ordered and not self.ending:
                        self.ending = "left at checkout"
                i += 1
                continue
            message = template.format(**self.values)
            shown = bool((self.last or {}).get("products"))
            if any(k in f" {template} " for k in _NEEDS_PRODUCTS) and not shown and not retried:
                message, retried = f"show me {self.values['type']}", True  # look again, then go on
            elif self.b.vague and self.rng.random() < self.b.vague:
                message = self.rng.choice(VAGUE_MESSAGES)  # the step is still to come
            elif not self.wants and shown and self.rng.random() < self.b.wanders:
                message = self.rng.choice(WANDERING).format(**self.values)  # browsing, not buying
            else:
                i, retried = i + 1, False
            if self.say(message) is None:
                break
        if not self.ending:
            if self.wants and not self.ordered:
                self.checkout()
            if not self.ending:
                self.ending = "ordered" if self.ordered else "done"
        if self.ordered:
            self.ending = "ordered"


def simulate_session(
    client: ShopperClient,
    rng: random.Random,
    *,
    types: list[str],
    colours: list[str],
    missing: list[str] | None = None,
    personas: Sequence[Journey] = JOURNEYS,
) -> SimulatedSession:
    """One shopper's conversation through ``client`` (timestamps not rewritten yet)."""
    journey = rng.choices(list(personas), weights=[p.behaviour.weight for p in personas])[0]
    values = draw_values(rng, types=types, colours=colours, missing=missing)
    shopper = _Shopper(client, journey, rng, values)
    shopper.run()
    return SimulatedSession(
        session_id=shopper.sid or "",
        persona=journey.name,
        turns=len(shopper.gaps),
        ordered=shopper.ordered,
        ending=shopper.ending,
        gaps=tuple(shopper.gaps),
    )


def retime_session(db: Database, session_id: str, gaps: Sequence[float], start: datetime) -> None:
    """Move the session onto its virtual timeline (see the module docstring) and mark it simulated."""
    from assistant.commerce._common import as_utc

    with db.session() as s:
        session = s.get(SessionRow, session_id)
        if session is None:
            return
        turns = list(s.scalars(select(TurnRow).where(TurnRow.session_id == session_id).order_by(TurnRow.idx)))
        if len(turns) != len(gaps):
            raise ValueError(f"session {session_id[:8]}…: {len(turns)} turns logged, {len(gaps)} think times")
        real = [as_utc(session.created_at)] + [as_utc(t.created_at) for t in turns]
        virtual = [as_utc(start)]
        for g in gaps:
            virtual.append(virtual[-1] + timedelta(seconds=float(g)))

        def moved(dt: datetime | None) -> datetime | None:
            if dt is None:
                return None
            dt = as_utc(dt)
            j = bisect.bisect_left(real, dt)
            if j < len(real) and real[j] == dt:
                return virtual[j]
            if j == 0:
                return virtual[0] - (real[0] - dt)
            i = j - 1
            after = (dt - real[i]).total_seconds()
            if i + 1 == len(real):
                return virtual[i] + timedelta(seconds=after)
            # next to the nearer of the two turns around it, never past the middle of the gap
            before = (real[i + 1] - dt).total_seconds()
            half = 0.5 * (virtual[i + 1] - virtual[i]).total_seconds()
            if after <= before:
                return virtual[i] + timedelta(seconds=min(after, half))
            return virtual[i + 1] - timedelta(seconds=min(before, half * 0.999))

        for t, at in zip(turns, virtual[1:], strict=True):
            t.created_at = at
            t.channel = SIMULATED_CHANNEL
        session.created_at = virtual[0]
        session.updated_at = moved(session.updated_at) or virtual[-1]
        session.channel = SIMULATED_CHANNEL
        for e in s.scalars(select(EventRow).where(EventRow.session_id == session_id)):
            e.created_at = moved(e.created_at) or e.created_at
        for o in s.scalars(select(OrderRow).where(OrderRow.session_id == session_id)):
            o.created_at = moved(o.created_at) or o.created_at
            o.updated_at = moved(o.updated_at) or o.updated_at
        for c in s.scalars(select(CartItemRow).where(CartItemRow.session_id == session_id)):
            c.added_at = moved(c.added_at) or c.added_at
            c.updated_at = moved(c.updated_at) or c.updated_at
        for h in s.scalars(select(HandoffRow).where(HandoffRow.session_id == session_id)):
            h.requested_at = moved(h.requested_at) or h.requested_at
            h.closed_at = moved(h.closed_at)
        for a in s.scalars(select(PriceAlertRow).where(PriceAlertRow.session_id == session_id)):
            a.created_at = moved(a.created_at) or a.created_at
        s.execute(
            update(NoticeRow)
            .where(NoticeRow.session_id == session_id)
            .values(created_at=virtual[-1])
            .execution_options(synchronize_session=False)
        )


def simulate(
    db: Database,
    connect: Connect,
    *,
    sessions: int,
    seed: int = 0,
    start: int = 0,
    budget_s: float | None = None,
    span_days: float = 3.0,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    personas: Sequence[Journey] = JOURNEYS,
) -> SimulationReport:
    """Run ``sessions`` simulated shoppers one after the other (stopping early after ``budget_s``
    seconds), each from its own made-up IP address, and put each on its virtual timeline.

    The shoppers are numbers ``start`` … ``start + sessions - 1`` of the seed's sequence: a run with
    ``start=n`` continues one of ``n`` sessions with the same seed.
    """
    t0 = time.perf_counter()
    types, colours, missing = catalog_words(db)
    if not types:
        raise ValueError("the catalog is empty; ingest products before simulating shoppers")
    colours = colours or ["black"]
    now = now or datetime.now(UTC)
    end = now - timedelta(hours=2)
    span = timedelta(days=span_days)
    report = SimulationReport()
    last = start + sessions
    for k in range(start, last):
        if budget_s is not None and time.perf_counter() - t0 > budget_s:
            break
        rng = random.Random(f"{seed}/{k}")
        client = connect(f"10.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255}")
        try:
            sim = simulate_session(
                client, rng, types=types, colours=colours, missing=missing, personas=personas
            )
        finally:
            client.close()
        if sim.ending == "error":
            report.errors += 1
        if sim.session_id and sim.turns:
            at = end - span * (1 - k / last) + timedelta(seconds=rng.uniform(0, 600))
            retime_session(db, sim.session_id, sim.gaps, at)
            report.sessions.append(sim)
        if progress is not None:
            progress(k + 1 - start, sessions)
    report.wall_s = time.perf_counter() - t0
    return report
