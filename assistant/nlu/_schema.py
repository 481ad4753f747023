"""The NLU schema of DESIGN.md: intents, slots, BIO tags and one labelled example."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "INTENTS",
    "SLOTS",
    "TAG_SLOTS",
    "TAGS",
    "STRING_SLOTS",
    "NUMBER_SLOTS",
    "LIST_SLOTS",
    "GENDERS",
    "SORTS",
    "Example",
]

INTENTS: tuple[str, ...] = (
    "greet",
    "goodbye",
    "search",
    "refine",
    "product_info",
    "compare",
    "recommend",
    "add_to_cart",
    "remove_from_cart",
    "view_cart",
    "checkout",
    "order_status",
    "price_advice",
    "price_alert",
    "human_handoff",
    "affirm",
    "deny",
    "out_of_scope",
)

#: the public slots (the keys of ``NLUResult.slots``)
SLOTS: tuple[str, ...] = (
    "product_type",
    "brand",
    "color",
    "material",
    "gender",
    "size",
    "price_min",
    "price_max",
    "rating_min",
    "quantity",
    "ordinal",
    "sort",
    "order_id",
)

#: what the tagger marks: the public slots plus ``price_approx`` ("around 300"), which the
#: normaliser turns into a price_min/price_max pair (±20 %)
TAG_SLOTS: tuple[str, ...] = SLOTS + ("price_approx",)

TAGS: tuple[str, ...] = ("O",) + tuple(f"{p}-{s}" for s in TAG_SLOTS for p in ("B", "I"))

STRING_SLOTS = frozenset({"product_type", "brand", "color", "material", "gender", "size", "sort", "order_id"})
NUMBER_SLOTS = frozenset({"price_min", "price_max", "rating_min", "quantity"})
LIST_SLOTS = frozenset({"ordinal"})

GENDERS: tuple[str, ...] = ("men", "women", "boys", "girls", "unisex")
SORTS: tuple[str, ...] = ("price_asc", "price_desc", "rating_desc")


@dataclass
class Example:
    """One labelled utterance: word tokens with BIO tags, and the normalised slots they mean."""

    text: str
    intent: str
    slots: dict[str, Any] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    source: str = "template"

    def to_json(self) -> dict[str, Any]:
        """The eval format of DESIGN.md (``{"text", "intent", "slots"}``)."""
        return {"text": self.text, "intent": self.intent, "slots": dict(self.slots)}
