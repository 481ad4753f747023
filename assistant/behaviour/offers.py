"""What the assistant adds to a turn when the shopper looks likely to leave: an offer of help.

The offer never replaces what the shopper asked for: the turn's action, products and reply stay,
and one sentence plus one or two suggestions are added.  Which help (:func:`offer_help`):

1. **a person** when the assistant is stuck: the search found nothing, the message was not
   understood (fallback, or a clarifying question with no products), or it was out of scope;
2. **something cheaper** when products are shown and price is on the shopper's mind (a price
   limit in the filters, price advice or an alert this turn): "Under $X", X a round price below the
   cheapest one shown;
3. **a narrower question** when products are shown: what matters most (brand, colour, budget),
   with "Best rated" and "Cheapest first";
4. otherwise **a person**.

No offer while the shopper is checking out (the form), when an order was just placed or its status
asked, when the turn already handed over to a person, or within ``OFFER_GAP`` turns of the last
offer; and no offer of a person once the session was handed over.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = ["HelpOffer", "offer_help", "merge_suggestions", "OFFER_GAP", "TALK_TO_A_PERSON", "NO_INTERRUPT"]

#: turns between two offers in one session
OFFER_GAP: Final = 3
TALK_TO_A_PERSON: Final = "Talk to a person"
NO_INTERRUPT: Final = frozenset(
    {"collect_checkout_details", "confirm_order", "order_placed", "order_status", "handoff"}
)
_STUCK_INTENTS: Final = frozenset({"out_of_scope"})
_PRICE_ACTIONS: Final = frozenset({"price_advice", "alert_created"})
_PRICE_INTENTS: Final = frozenset({"price_advice", "price_alert"})


@dataclass(frozen=True)
class HelpOffer:
    kind: Literal["person", "cheaper", "narrower"]
    sentence: str
    suggestions: tuple[str, ...]


def _round_price_below(price: float) -> int:
    """A round price clearly below ``price``: 80 % of it, rounded down to 5 (to 10 above 100)."""
    step = 10 if price > 100 else 5
    return int(math.floor(price * 0.8 / step) * step)


def _price_text(amount: int, currency: str) -> str:
    return f"${amount}" if currency == "USD" else f"{amount} {currency}"


def offer_help(
    *,
    risk: float,
    threshold: float,
    action: str,
    intent: str,
    n_results: int | None,
    prices: Sequence[float],
    filters: Mapping[str, Any],
    turns_since_offer: int | None,
    handed_off: bool = False,
    currency: str = "USD",
) -> HelpOffer | None:
    """The help to offer after this turn, or None (see the module docstring).

    ``prices``: of the products this turn shows; ``turns_since_offer``: turns since the last offer
    in the session (None: never).
    """
    if risk < threshold or action in NO_INTERRUPT:
        return None
    if turns_since_offer is not None and turns_since_offer < OFFER_GAP:
        return None
    person = HelpOffer(
        "person",
        "Would you like a hand? Someone from our team can join and answer right here.",
        (TALK_TO_A_PERSON,),
    )
    stuck = (
        n_results == 0
        or action == "fallback"
        or (action == "ask_clarification" and not prices)
        or intent in _STUCK_INTENTS
    )
    if stuck and not handed_off:
        return person
    if prices:
        price_minded = (
            filters.get("price_max") is not None or action in _PRICE_ACTIONS or intent in _PRICE_INTENTS
        )
        cap = _round_price_below(min(prices))
        if price_minded and cap >= 5:
            text = _price_text(cap, currency)
            return HelpOffer(
                "cheaper",
                f"Looking for something cheaper? I can show you options under {text}.",
                (f"Under {text}",),
            )
        return HelpOffer(
            "narrower",
            "Want me to narrow it down? Tell me what matters most: a brand, a colour or your budget.",
            ("Best rated", "Cheapest first"),
        )
    if not handed_off:
        return person
    return None


def merge_suggestions(existing: Sequence[str], added: Sequence[str]) -> list[str]:
    """The turn's own suggestions first, then the offer's that are not there yet."""
    seen = {s.lower() for s in existing}
    return [*existing, *(s for s in added if s.lower() not in seen)]
