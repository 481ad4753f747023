"""Request and response models of the commerce routes: cart, orders, notices, events."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from assistant.commerce import SESSION_ID_PATTERN

__all__ = [
    "SESSION_ID_PATTERN",
    "PRODUCT_ID_PATTERN",
    "ORDER_ID_PATH_PATTERN",
    "SessionIdPath",
    "ProductIdPath",
    "CartItemPublic",
    "CartPublic",
    "CartItemCreate",
    "CartItemUpdate",
    "AddressIn",
    "OrderCreate",
    "OrderItemPublic",
    "OrderPublic",
    "OrderCancel",
    "NoticePublic",
    "NoticesResponse",
    "EventCreate",
    "EventAccepted",
]

PRODUCT_ID_PATTERN = r"^[A-Za-z0-9._:\-]{1,128}$"
#: Lenient on purpose (lower case, hyphens): the domain normalises "k7m2-q9xd" to "K7M2Q9XD".
ORDER_ID_PATH_PATTERN = r"^[A-Za-z0-9\-]{1,32}$"

SessionIdPath = Annotated[str, Path(pattern=SESSION_ID_PATTERN, description="session id")]
ProductIdPath = Annotated[str, Path(pattern=PRODUCT_ID_PATTERN, description="product id")]

# ---------------------------------------------------------------------------- cart


class CartItemPublic(BaseModel):
    product_id: str
    title: str
    quantity: int
    unit_price: float
    line_total: float


class CartPublic(BaseModel):
    items: list[CartItemPublic]
    total: float = Field(description="always the sum of the line totals, in cents")
    currency: str


class CartItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(pattern=PRODUCT_ID_PATTERN)
    quantity: int = Field(default=1, description="1 to 99 (a line holds at most 99)")


class CartItemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: int = Field(description="0 removes the line; at most 99")


# ---------------------------------------------------------------------------- orders


class AddressIn(BaseModel):
    """Checked by the domain (``invalid_address`` with the wrong field named), not here."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=1000)
    line1: str | None = Field(default=None, max_length=1000)
    line2: str | None = Field(default=None, max_length=1000)
    city: str | None = Field(default=None, max_length=1000)
    region: str | None = Field(default=None, max_length=1000)
    postal_code: str | None = Field(default=None, max_length=1000)
    country: str | None = Field(default=None, max_length=1000, description="ISO 3166-1 alpha-2, e.g. US")


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str = Field(max_length=200)
    email: str = Field(max_length=1000)
    shipping_address: AddressIn


class OrderItemPublic(BaseModel):
    product_id: str
    title: str
    quantity: int
    unit_price: float


class OrderPublic(BaseModel):
    id: str = Field(description="8 upper-case letters and digits")
    status: Literal["placed", "shipped", "delivered", "cancelled"]
    items: list[OrderItemPublic]
    total: float
    currency: str
    created_at: str = Field(description="ISO 8601, UTC")


class OrderCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str | None = Field(default=None, max_length=200)


# ---------------------------------------------------------------------------- notices and events


class NoticePublic(BaseModel):
    kind: str
    text: str
    data: dict[str, Any]
    created_at: str = Field(description="ISO 8601, UTC; pass the last one as ?after= to poll")


class NoticesResponse(BaseModel):
    notices: list[NoticePublic]


class EventCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str = Field(max_length=200)
    type: Literal["view", "click", "image_open"]
    product_id: str = Field(pattern=PRODUCT_ID_PATTERN)


class EventAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
