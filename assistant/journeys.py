"""Scripted shopper journeys: what the load test's simulated shoppers say, turn by turn.

One definition for every simulated shopper (the load test now; the behaviour simulator's personas
later): a journey is a list of steps, each a message template over the catalog's product types,
colours and a budget, drawn with a seeded random generator so that a run can be repeated.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

__all__ = ["JOURNEYS", "Journey", "draw_conversation"]


@dataclass(frozen=True)
class Journey:
    name: str
    steps: tuple[str, ...]


#: {type} a product type (plural), {colour} a colour, {budget} a round price, {n} an ordinal word
JOURNEYS: Final[tuple[Journey, ...]] = (
    Journey(
        "decisive buyer",
        (
            "show me {colour} {type}",
            "under ${budget}",
            "add the first one to my cart",
            "checkout",
            "shopper{k}@example.com",
            "Sam Lee, {k} Main Street, Springfield, IL 62704, US",
            "yes please",
            "what's the status of my order",
        ),
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
            "checkout",
            "shopper{k}@example.com",
            "Sam Lee, {k} Main Street, Springfield, IL 62704, US",
        ),
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
    ),
)

_ORDINALS = ("first", "second", "third")


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
    budget = rng.choice((30, 40, 50, 60, 80, 100))
    values = {
        "type": rng.choice(types),
        "colour": rng.choice(colours),
        "budget": budget,
        "low": max(5, budget // 2),
        "n": rng.choice(_ORDINALS),
        "k": rng.randrange(1, 10_000),
    }
    n_turns = rng.randint(min_turns, max_turns)
    steps = list(journey.steps)
    while len(steps) < n_turns:
        steps += list(rng.choice(JOURNEYS).steps[:2])
    return journey.name, [s.format(**values) for s in steps[:n_turns]]
