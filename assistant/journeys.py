"""Scripted shoppers: what simulated shoppers say, turn by turn, and how they behave.

One definition for every simulated shopper.  A :class:`Journey` (a persona) is a list of message
templates over the catalog's product types, colours and a budget, plus a :class:`Behaviour`: how
the shopper reacts to the assistant's answers.  Two users:

* the load test (``shopassist bench load``) draws conversations with :func:`draw_conversation` and
  sends the steps as they are, one after the other (no reactions);
* the behaviour simulator (:mod:`assistant.simulator`) walks the same steps but reacts like the
  persona would: it gets frustrated by searches that find nothing, questions it cannot answer and
  prices over its budget, thinks longer between messages when frustrated, may leave at any turn,
  answers the checkout form as the assistant asks, and buys only when it meant to.

Templates are filled from a seeded random generator so that a run can be repeated.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "CHECKOUT",
    "CONFIRM",
    "EMAIL",
    "ADDRESS",
    "JOURNEYS",
    "MISSING_PRODUCTS",
    "VAGUE_MESSAGES",
    "WANDERING",
    "Behaviour",
    "Journey",
    "draw_conversation",
    "draw_values",
    "persona",
]

#: the checkout steps: the simulator answers the checkout form in the order the assistant asks
CHECKOUT: Final = "checkout"
EMAIL: Final = "shopper{k}@example.com"
ADDRESS: Final = "Sam Lee, {k} Main Street, Springfield, IL 62704, US"
CONFIRM: Final = "yes please"

#: things a fashion catalog does not sell ({missing}); the simulator drops any the catalog has
MISSING_PRODUCTS: Final = (
    "garden hoses",
    "coffee makers",
    "dog leashes",
    "phone chargers",
    "camping tents",
    "yoga mats",
    "bike helmets",
    "desk lamps",
    "board games",
)

#: what a confused shopper says instead of a step, now and then
VAGUE_MESSAGES: Final = (
    "hmm",
    "not sure what i want",
    "something nice",
    "the thing from before",
    "whatever is good",
    "i dunno, what do people buy",
    "something for my sister",
    "what",
)

#: what a shopper who does not mean to buy says between the steps, now and then: more of the same,
#: or back and forth between two colours and two budgets (undecided)
WANDERING: Final = (
    "show me more",
    "tell me about the {n} one",
    "what about {colour2} ones",
    "actually, the {colour} ones",
    "hmm, the {colour2} ones again",
    "under ${budget}",
    "actually under ${low}",
    "best rated first",
)


@dataclass(frozen=True)
class Behaviour:
    """How a simulated shopper reacts (the load test ignores this).

    The shopper starts meaning to buy (probability ``buys``) or not, with frustration 0.  Each answer
    adds to the frustration (nothing found, not understood, over budget, filters dropped) or relieves
    it (a useful answer); one who does not mean to buy also drifts off (``boredom``) and browses back
    and forth (``wanders``).  Minds change (``converts``, ``put_off``, ``waits_on_advice``).  Before
    every message the shopper leaves with probability ``leave_base + (1 - leave_base) *
    sigmoid(3 * (frustration - patience))``, and waits a log-normal think time whose median is
    ``dwell_s`` (+ 2 s per product card to read), times ``1 + dwell_frustration * frustration``,
    times ``hesitant_dwell`` (and the boredom factor) when it does not mean to buy.  At the
    checkout step a shopper who does not mean to buy leaves.
    """

    #: share of simulated sessions (relative weight)
    weight: float = 1.0
    #: probability that the shopper means to buy when the session starts
    buys: float = 0.5
    #: minds change: after a useful answer a shopper who did not mean to buy decides to, with
    #: probability ``converts``; with frustration past 70 % of the patience a shopper who meant to
    #: buy gives the purchase up, with probability ``put_off`` per answer
    converts: float = 0.06
    put_off: float = 0.3
    #: median seconds between the assistant's answer and the shopper's next message
    dwell_s: float = 15.0
    dwell_sigma: float = 0.45
    dwell_frustration: float = 0.6
    hesitant_dwell: float = 1.5
    #: frustration the shopper puts up with
    patience: float = 2.5
    leave_base: float = 0.03
    #: frustration added by a search that finds nothing, by a question or answer it cannot use
    #: (clarification without products, fallback), by a list whose cheapest product is over budget,
    #: and by a search whose filters the assistant had to drop
    zero_cost: float = 1.0
    unclear_cost: float = 0.7
    over_budget_cost: float = 0.0
    relaxed_cost: float = 0.4
    #: frustration removed by a useful answer (products, details, a cart update)
    relief: float = 0.3
    #: probability of saying goodbye before leaving (most just close the tab)
    says_bye: float = 0.25
    #: probability of clicking a shown product card
    clicks: float = 0.3
    #: probability that a shopper who does not mean to buy browses on (``WANDERING``) before a step
    wanders: float = 0.3
    #: a shopper who does not mean to buy loses interest: after *k* answers in a row that are not
    #: progress (a cart change, a checkout step) frustration grows by ``boredom * k`` and the think
    #: time by a factor ``1 + boredom * k``
    boredom: float = 0.1
    #: probability that a message is replaced by a vague one (``VAGUE_MESSAGES``)
    vague: float = 0.0
    #: probability of asking for a person once frustration passes 80 % of the patience
    asks_for_person: float = 0.0
    #: a price advice verdict of "wait" makes the shopper drop the purchase with this probability
    waits_on_advice: float = 0.0
    #: budget = the drawn budget times this (price-sensitive shoppers want it cheaper)
    budget_factor: float = 1.5


@dataclass(frozen=True)
class Journey:
    """A persona: its name, its script and how it behaves."""

    name: str
    steps: tuple[str, ...]
    behaviour: Behaviour = field(default_factory=Behaviour)


#: {type} a product type (plural), {colour}, {colour2} colours, {budget} a round price, {low} half of it,
#: {n} an ordinal word, {k} a number, {missing} a product the catalog does not have
JOURNEYS: Final[tuple[Journey, ...]] = (
    Journey(
        "decisive buyer",
        (
            "show me {colour} {type}",
            "under ${budget}",
            "add the first one to my cart",
            CHECKOUT,
            EMAIL,
            ADDRESS,
            CONFIRM,
            "what's the status of my order",
        ),
        Behaviour(weight=1.3, buys=0.85, dwell_s=8, patience=2.5, relief=0.4, clicks=0.2),
    ),
    Journey(
        "comparer",
        (
            "i'm looking for {type}",
            "in {colour}",
            "compare the first two",
            "tell me about the {n} one",
            "is it a good price?",
            "add it to my cart",
            "show me my cart",
            CHECKOUT,
            EMAIL,
            ADDRESS,
        ),
        Behaviour(weight=1.0, buys=0.6, dwell_s=22, patience=3.0, clicks=0.5, waits_on_advice=0.3),
    ),
    Journey(
        "browser",
        (
            "show me {type}",
            "show me more",
            "cheapest first",
            "what about {colour} ones",
            "recommend something similar to the second one",
            "tell me about the first one",
            "thanks, bye",
        ),
        Behaviour(weight=1.2, buys=0.12, dwell_s=18, patience=2.0, leave_base=0.08, says_bye=0.5, clicks=0.4),
    ),
    Journey(
        "price watcher",
        (
            "{type} under ${budget}",
            "tell me about the {n} one",
            "will it get cheaper?",
            "tell me when it drops below ${low}",
            "show me {colour} {type} instead",
            "add the first one to my cart",
            "view my cart",
        ),
        Behaviour(weight=0.8, buys=0.35, dwell_s=20, patience=2.5, waits_on_advice=0.7),
    ),
    Journey(
        "price-sensitive",
        (
            "cheapest {type}",
            "under ${low}",
            "anything cheaper?",
            "what about {colour} ones",
            "add the first one to my cart",
            CHECKOUT,
            EMAIL,
            ADDRESS,
            CONFIRM,
        ),
        Behaviour(weight=1.1, buys=0.55, dwell_s=14, patience=2.0, over_budget_cost=0.8, budget_factor=0.6),
    ),
    Journey(
        "confused",
        (
            "hi",
            "i need something for my sister",
            "{type} maybe?",
            "the other one",
            "add it to my cart",
            CHECKOUT,
            EMAIL,
            ADDRESS,
            CONFIRM,
        ),
        Behaviour(
            weight=0.9,
            buys=0.45,
            dwell_s=28,
            patience=2.2,
            unclear_cost=0.9,
            vague=0.3,
            asks_for_person=0.35,
            relief=0.2,
        ),
    ),
    Journey(
        "gives up after zero results",
        (
            "do you have {missing}",
            "any {missing} at all?",
            "ok, show me {colour} {type} then",
            "add the first one to my cart",
            CHECKOUT,
            EMAIL,
            ADDRESS,
            CONFIRM,
            "thanks, bye",
        ),
        Behaviour(weight=1.0, buys=0.6, dwell_s=12, patience=1.6, zero_cost=1.1, leave_base=0.02),
    ),
)

_ORDINALS = ("first", "second", "third")


def persona(name: str) -> Journey:
    """The journey called ``name`` (``KeyError`` when there is none)."""
    for journey in JOURNEYS:
        if journey.name == name:
            return journey
    raise KeyError(name)


def draw_values(
    rng: random.Random, *, types: list[str], colours: list[str], missing: list[str] | None = None
) -> dict[str, object]:
    """The placeholder values of one conversation."""
    budget = rng.choice((30, 40, 50, 60, 80, 100))
    return {
        "type": rng.choice(types),
        "colour": rng.choice(colours),
        "colour2": rng.choice(colours),
        "budget": budget,
        "low": max(5, budget // 2),
        "n": rng.choice(_ORDINALS),
        "k": rng.randrange(1, 10_000),
        "missing": rng.choice(missing or list(MISSING_PRODUCTS)),
    }


def draw_conversation(
    rng: random.Random,
    *,
    types: list[str],
    colours: list[str],
    min_turns: int = 6,
    max_turns: int = 10,
) -> tuple[str, list[str]]:
    """A journey's name and 6–10 concrete messages (a journey shorter than that is followed by
    a second one's opening)."""
    journey = rng.choice(JOURNEYS)
    values = draw_values(rng, types=types, colours=colours)
    n_turns = rng.randint(min_turns, max_turns)
    steps = list(journey.steps)
    while len(steps) < n_turns:
        steps += list(rng.choice(JOURNEYS).steps[:2])
    return journey.name, [s.format(**values) for s in steps[:n_turns]]
