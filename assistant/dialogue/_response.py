"""The chat response object of DESIGN.md ("Chat API contract")."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from assistant.actions import ACTIONS

__all__ = ["ChatResponse", "ProductCardOut", "IntentOut", "ACTIONS"]


class IntentOut(BaseModel):
    name: str
    confidence: float


class ProductCardOut(BaseModel):
    id: str
    title: str
    price: float
    currency: str
    product_type: str
    category: str
    brand: str
    rating: float | None
    rating_count: int = 0
    in_stock: bool = True
    image_url: str | None
    attributes: dict[str, str] = Field(default_factory=dict)
    score: float | None = None
    why: str = ""


class ChatResponse(BaseModel):
    session_id: str
    turn_id: str
    reply: str
    speech: str
    intent: IntentOut
    slots: dict[str, Any] = Field(default_factory=dict)
    filters: dict[str, Any] = Field(default_factory=dict)
    action: str
    products: list[ProductCardOut] = Field(default_factory=list)
    cart: dict[str, Any]
    order: dict[str, Any] | None = None
    price_advice: dict[str, Any] | None = None
    notices: list[dict[str, Any]] = Field(default_factory=list)
    suggestions: list[str] = Field(default_factory=list)
