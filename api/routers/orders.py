"""``/v1/orders``: place (idempotent), read and cancel the session's own orders.

``POST /v1/orders`` needs an ``Idempotency-Key`` header.  The first request answers 201 with the new
order; repeating it with the same key and the same body answers 201 with the same order again and the
header ``Idempotent-Replayed: true``; the same key with another body is 409 ``idempotency_conflict``.
A 409 ``price_changed`` has already taken the new prices into the cart: sending the request again
(the shopper having seen the new total in the message) places the order.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from api.deps import RuntimeDep
from api.errors import ERROR_RESPONSES, ERROR_SCHEMA
from api.schemas_commerce import ORDER_ID_PATH_PATTERN, OrderCancel, OrderCreate, OrderPublic
from assistant.commerce import (
    Order,
    OrderWebhook,
    cancel_order,
    get_order,
    place_order,
    refresh_cart,
)
from assistant.errors import IdempotencyKeyRequired, InvalidRequest, PriceChanged

router = APIRouter(prefix="/v1/orders", tags=["orders"], responses=ERROR_RESPONSES)

_ERR = {"content": {"application/json": {"schema": ERROR_SCHEMA}}}


def get_order_webhook(request: Request) -> OrderWebhook | None:
    """The runtime's order webhook (``None`` when no URL is set): one per process, shared with chat."""
    webhook: OrderWebhook | None = request.app.state.runtime.order_webhook
    return webhook


WebhookDep = Annotated[OrderWebhook | None, Depends(get_order_webhook)]
OrderIdPath = Annotated[str, Path(pattern=ORDER_ID_PATH_PATTERN, description="order id, e.g. K7M2Q9XD")]


def _public(order: Order) -> OrderPublic:
    return OrderPublic.model_validate(order.to_public())


@router.post(
    "",
    status_code=201,
    operation_id="place_order",
    response_model=OrderPublic,
    responses={
        400: {"description": "Idempotency-Key header missing", **_ERR},
        409: {
            "description": "cart_empty, out_of_stock, price_changed (cart refreshed), idempotency_conflict",
            **_ERR,
        },
    },
)
def create_order(
    runtime: RuntimeDep,
    body: OrderCreate,
    response: Response,
    webhook: WebhookDep,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", description="1–200 printable ASCII characters")
    ] = None,
) -> OrderPublic:
    """Place the session's cart as an order (see the module notes on idempotency)."""
    if not idempotency_key:
        raise IdempotencyKeyRequired(
            "the Idempotency-Key header is required (e.g. a random UUID per checkout)"
        )
    try:
        with runtime.db.session() as s:
            order = place_order(
                s,
                session_id=body.session_id,
                email=body.email,
                address=body.shipping_address.model_dump(),
                idempotency_key=idempotency_key,
                notifier=webhook,
            )
    except PriceChanged:
        with runtime.db.session() as s:
            refresh_cart(s, session_id=body.session_id)
        raise
    if order.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return _public(order)


@router.get("/{order_id}", operation_id="get_order", response_model=OrderPublic)
def read_order(
    runtime: RuntimeDep,
    order_id: OrderIdPath,
    session_id: Annotated[str, Query(max_length=200, description="the session that placed it")],
) -> OrderPublic:
    with runtime.db.session() as s:
        return _public(get_order(s, order_id=order_id, session_id=session_id))


@router.post(
    "/{order_id}/cancel",
    operation_id="cancel_order",
    response_model=OrderPublic,
    responses={
        409: {"description": "invalid_status_change (already shipped, delivered or cancelled)", **_ERR}
    },
)
def cancel(
    runtime: RuntimeDep,
    order_id: OrderIdPath,
    webhook: WebhookDep,
    body: OrderCancel | None = None,
    session_id: Annotated[str | None, Query(max_length=200, description="or in the body")] = None,
) -> OrderPublic:
    """Cancel before shipping; ``session_id`` in the query or in the body."""
    sid = session_id or (body.session_id if body else None)
    if not sid:
        raise InvalidRequest("session_id is required (query or body)")
    with runtime.db.session() as s:
        return _public(cancel_order(s, order_id=order_id, session_id=sid, notifier=webhook))
