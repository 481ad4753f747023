"""Scripted shopper journeys: seeded, 6–10 turns, every placeholder filled."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from assistant.journeys import JOURNEYS, draw_conversation

TYPES, COLOURS = ["watches", "backpacks"], ["black", "navy blue"]


@given(seed=st.integers(0, 2**32 - 1))
def test_a_drawn_conversation_is_repeatable_and_complete(seed: int) -> None:
    name, turns = draw_conversation(random.Random(seed), types=TYPES, colours=COLOURS)
    again = draw_conversation(random.Random(seed), types=TYPES, colours=COLOURS)
    assert (name, turns) == again
    assert name in {j.name for j in JOURNEYS}
    assert 6 <= len(turns) <= 10
    assert all("{" not in t and "}" not in t and t.strip() for t in turns)


def test_every_journey_reaches_the_cart_or_says_goodbye() -> None:
    for journey in JOURNEYS:
        text = " ".join(journey.steps)
        assert "cart" in text or "bye" in text, journey.name
