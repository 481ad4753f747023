"""What the assistant remembers between turns (stored as JSON on the session row)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["DialogueState", "PAGE_SIZE"]

PAGE_SIZE = 5


class DialogueState(BaseModel):
    """Filters, the search phrase, what was shown, the product in focus and any open form."""

    #: the shopper's active constraints, in DESIGN.md slot names (the response's ``filters``)
    filters: dict[str, Any] = Field(default_factory=dict)
    #: free words of the current search that are not filters (e.g. "running" in "running shoes")
    query: str = ""
    sort: str = "relevance"
    offset: int = 0
    #: product ids of the most recent list shown, in order (ordinals refer to these)
    shown: list[str] = Field(default_factory=list)
    #: the product talked about last ("it", "that one")
    focus: str | None = None
    #: the last product added to the cart ("make that two")
    last_carted: str | None = None
    #: whether the last list shown was the cart (then "remove the second one" means a cart line)
    shown_is_cart: bool = False
    #: facets already asked about for the current search (ask once)
    asked: list[str] = Field(default_factory=list)
    #: open form step: None | "email" | "address" | "confirm"
    form: str | None = None
    checkout: dict[str, Any] = Field(default_factory=dict)
    #: a question waiting for an answer, e.g. {"kind": "reference", "intent": "add_to_cart"}
    pending: dict[str, Any] | None = None
    last_total: int | None = None
    last_action: str | None = None
    #: the picture the current search looks like: "upload:<image_id>" or "product:<product id>"
    image: str | None = None

    def reset_search(self) -> None:
        self.image = None
        self.filters = {}
        self.query = ""
        self.sort = "relevance"
        self.offset = 0
        self.asked = []
