"""The policy's action names (DESIGN.md, the chat response's ``action``).

A leaf module: the dialogue package answers with them and the abandonment features count them, and
the features cannot import the dialogue package (its engine imports the features' live scorer).
"""

from __future__ import annotations

from typing import Final

__all__ = ["ACTIONS"]

ACTIONS: Final = (
    "greet",
    "show_products",
    "ask_clarification",
    "show_details",
    "compare",
    "recommend",
    "cart_updated",
    "show_cart",
    "collect_checkout_details",
    "confirm_order",
    "order_placed",
    "order_status",
    "price_advice",
    "alert_created",
    "handoff",
    "goodbye",
    "fallback",
)
