"""Per-turn feature vectors of a conversation, from its turn log, its events and its orders.

A session's turns (``TurnRow``: intent, NLU confidence, action, result count, cards shown, time) and
its events (``EventRow``: cart adds and removes, clicks, orders) become one row per turn.  Turn *i*
owns the events logged after turn *i − 1* and up to turn *i* (the cart changes the turn itself
made, and the clicks the shopper made while reading the previous answer).  Row *i* holds:

* ``intent=<name>`` one-hot over the NLU intents (``intent=other`` for an unknown one);
* ``action=<name>`` one-hot over the policy's actions (``action=other``);
* ``searched`` (the turn ran a catalog search), ``zero_results`` (it found nothing),
  ``log_results`` (log(1 + results found)), ``log_shown`` (log(1 + product cards shown));
* ``confidence`` (the NLU's), ``low_confidence`` (under ``assistant.staff.LOW_CONFIDENCE``, 0.5);
* ``first_turn``, ``log_dwell`` (log(1 + seconds since the previous turn), capped at an hour: the
  shopper's reading and thinking time), ``log_turn`` (log(1 + turn index));
* ``cart_adds``, ``cart_removes`` (in the turn's window), ``log_cart`` (log(1 + lines in the cart
  by then: adds minus removes, never negative));
* ``price_view`` (price advice or a price alert this turn), ``log_clicks`` (log(1 + card clicks
  and photo opens in the window)), ``handoff`` (the turn handed the shopper to a person).

The label of a session is whether it ended **without an order**.  Only turns before the first order
are predictions: once an order is placed the outcome is known (:func:`order_cut`).  The same code
builds the rows for training (from the stored log) and for serving (the stored turns plus the one
being answered, timed "now"), so the two never drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import numpy as np
import numpy.typing as npt

from assistant.actions import ACTIONS
from assistant.nlu import INTENTS
from assistant.staff import LOW_CONFIDENCE

__all__ = [
    "ACTIONS",
    "BINARY",
    "EVENT_TYPES",
    "FEATURES",
    "INTENTS",
    "EventLog",
    "SessionLog",
    "TurnLog",
    "epoch",
    "order_cut",
    "turn_features",
]

#: the event types the features read (widget ``view`` events are left out: they only repeat the
#: cards the turn log already counts, and the simulator does not send them)
EVENT_TYPES: Final = ("cart_add", "cart_remove", "click", "image_open", "order")

_NUMERIC: Final = (
    "searched",
    "zero_results",
    "log_results",
    "log_shown",
    "confidence",
    "low_confidence",
    "first_turn",
    "log_dwell",
    "log_turn",
    "cart_adds",
    "cart_removes",
    "log_cart",
    "price_view",
    "log_clicks",
    "handoff",
)
FEATURES: Final[tuple[str, ...]] = (
    *(f"intent={i}" for i in (*INTENTS, "other")),
    *(f"action={a}" for a in (*ACTIONS, "other")),
    *_NUMERIC,
)
#: features that are 0/1 flags (not standardised)
BINARY: Final = frozenset(
    [f for f in FEATURES if f.startswith(("intent=", "action="))]
    + ["searched", "zero_results", "low_confidence", "first_turn", "price_view", "handoff"]
)
_COLUMN: Final = {name: i for i, name in enumerate(FEATURES)}
_MAX_DWELL_S: Final = 3600.0
_PRICE_ACTIONS: Final = frozenset({"price_advice", "alert_created"})
_PRICE_INTENTS: Final = frozenset({"price_advice", "price_alert"})


@dataclass(frozen=True)
class TurnLog:
    """What the features need of one turn (``at``: seconds since the epoch, UTC)."""

    at: float
    intent: str
    confidence: float
    action: str
    n_results: int | None
    n_shown: int
    offered_help: bool = False


@dataclass(frozen=True)
class EventLog:
    at: float
    type: str


@dataclass
class SessionLog:
    """One conversation's log, as training and evaluation read it."""

    session_id: str
    turns: list[TurnLog]
    events: list[EventLog]
    ordered: bool
    channel: str = "web"

    @property
    def abandoned(self) -> bool:
        return not self.ordered


def epoch(dt: datetime) -> float:
    """Seconds since the epoch; a naive datetime (SQLite) is UTC."""
    return (dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt).timestamp()


def _windows(turns: Sequence[TurnLog], events: Sequence[EventLog]) -> list[list[EventLog]]:
    """The events each turn owns: after the previous turn, up to and including this one."""
    out: list[list[EventLog]] = [[] for _ in turns]
    if not turns:
        return out
    ordered = sorted(events, key=lambda e: e.at)
    i = 0
    for e in ordered:
        while i < len(turns) and e.at > turns[i].at:
            i += 1
        if i == len(turns):
            break  # after the last turn: the next turn's
        out[i].append(e)
    return out


def order_cut(turns: Sequence[TurnLog], events: Sequence[EventLog]) -> int:
    """How many leading turns come before the session's first order (all of them without one).

    A turn that placed an order (``order_placed``), or whose window holds an ``order`` event (an
    order placed through the API between two turns), is the first turn whose outcome is known.
    """
    for i, (turn, window) in enumerate(zip(turns, _windows(turns, events), strict=True)):
        if turn.action == "order_placed" or any(e.type == "order" for e in window):
            return i
    return len(turns)


def turn_features(turns: Sequence[TurnLog], events: Sequence[EventLog]) -> npt.NDArray[np.float32]:
    """``[len(turns), len(FEATURES)]``: one row per turn, in order (see the module docstring)."""
    x = np.zeros((len(turns), len(FEATURES)), np.float32)
    cart = 0
    prev_at: float | None = None
    for i, (turn, window) in enumerate(zip(turns, _windows(turns, events), strict=True)):
        row = x[i]
        row[_COLUMN.get(f"intent={turn.intent}", _COLUMN["intent=other"])] = 1.0
        row[_COLUMN.get(f"action={turn.action}", _COLUMN["action=other"])] = 1.0
        if turn.n_results is not None:
            row[_COLUMN["searched"]] = 1.0
            row[_COLUMN["zero_results"]] = float(turn.n_results == 0)
            row[_COLUMN["log_results"]] = math.log1p(max(0, turn.n_results))
        row[_COLUMN["log_shown"]] = math.log1p(max(0, turn.n_shown))
        row[_COLUMN["confidence"]] = float(turn.confidence)
        row[_COLUMN["low_confidence"]] = float(turn.confidence < LOW_CONFIDENCE)
        if prev_at is None:
            row[_COLUMN["first_turn"]] = 1.0
        else:
            row[_COLUMN["log_dwell"]] = math.log1p(min(_MAX_DWELL_S, max(0.0, turn.at - prev_at)))
        prev_at = turn.at
        row[_COLUMN["log_turn"]] = math.log1p(i)
        adds = sum(e.type == "cart_add" for e in window)
        removes = sum(e.type == "cart_remove" for e in window)
        cart = max(0, cart + adds - removes)
        row[_COLUMN["cart_adds"]] = float(adds)
        row[_COLUMN["cart_removes"]] = float(removes)
        row[_COLUMN["log_cart"]] = math.log1p(cart)
        row[_COLUMN["price_view"]] = float(turn.action in _PRICE_ACTIONS or turn.intent in _PRICE_INTENTS)
        row[_COLUMN["log_clicks"]] = math.log1p(sum(e.type in ("click", "image_open") for e in window))
        row[_COLUMN["handoff"]] = float(turn.action == "handoff")
    return x
