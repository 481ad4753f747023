"""Which help the assistant offers a shopper at risk (pure decisions)."""

from __future__ import annotations

from typing import Any

from assistant.behaviour.offers import OFFER_GAP, TALK_TO_A_PERSON, merge_suggestions, offer_help


def decide(**kw: Any) -> Any:
    args: dict[str, Any] = {
        "risk": 0.9,
        "threshold": 0.5,
        "action": "show_products",
        "intent": "search",
        "n_results": 12,
        "prices": [40.0, 55.0],
        "filters": {},
        "turns_since_offer": None,
    }
    args.update(kw)
    return offer_help(**args)


def test_no_offer_below_the_threshold_or_during_checkout() -> None:
    assert decide(risk=0.49) is None
    assert decide(risk=0.5) is not None
    for action in ("collect_checkout_details", "confirm_order", "order_placed", "order_status", "handoff"):
        assert decide(action=action) is None, action


def test_not_again_within_the_gap() -> None:
    assert decide(turns_since_offer=OFFER_GAP - 1) is None
    assert decide(turns_since_offer=OFFER_GAP) is not None


def test_a_person_when_the_assistant_is_stuck() -> None:
    for kw in (
        {"n_results": 0},
        {"action": "fallback", "intent": "out_of_scope", "prices": [], "n_results": None},
        {"action": "ask_clarification", "prices": [], "n_results": None},
    ):
        offer = decide(**kw)
        assert offer.kind == "person" and offer.suggestions == (TALK_TO_A_PERSON,), kw
    # already handed over: no second person; with products shown, a narrower question instead
    assert decide(n_results=0, handed_off=True).kind == "narrower"
    assert decide(n_results=0, prices=[], handed_off=True) is None


def test_something_cheaper_when_price_is_on_their_mind() -> None:
    offer = decide(filters={"price_max": 60})
    assert offer.kind == "cheaper"
    assert offer.suggestions == ("Under $30",)  # 80 % of the cheapest ($40), rounded down to 5
    assert "under $30" in offer.sentence
    assert decide(action="price_advice", intent="price_advice", prices=[149.0]).suggestions == ("Under $110",)
    assert decide(filters={"price_max": 10}, prices=[5.0]).kind == "narrower"  # nothing round below


def test_a_narrower_question_when_products_are_shown() -> None:
    offer = decide()
    assert offer.kind == "narrower" and "narrow it down" in offer.sentence
    assert decide(prices=[], n_results=None, action="show_cart", intent="view_cart").kind == "person"


def test_suggestions_are_added_after_the_turns_own() -> None:
    assert merge_suggestions(["Show me more", "Talk to a person"], ["talk to a person", "Best rated"]) == [
        "Show me more",
        "Talk to a person",
        "Best rated",
    ]
