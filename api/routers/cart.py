"""``/v1/sessions/{session_id}/cart``: the shopper's cart; every route answers the cart object."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import RuntimeDep
from api.errors import ERROR_RESPONSES
from api.schemas_commerce import CartItemCreate, CartItemUpdate, CartPublic, ProductIdPath, SessionIdPath
from assistant.commerce import Cart, add_to_cart, get_cart, remove_from_cart, set_quantity

router = APIRouter(prefix="/v1/sessions/{session_id}/cart", tags=["cart"], responses=ERROR_RESPONSES)


def _public(cart: Cart) -> CartPublic:
    return CartPublic.model_validate(cart.to_public())


@router.get("", operation_id="get_cart", response_model=CartPublic)
def read_cart(runtime: RuntimeDep, session_id: SessionIdPath) -> CartPublic:
    with runtime.db.session() as s:
        return _public(get_cart(s, session_id=session_id))


@router.post(
    "/items",
    operation_id="add_cart_item",
    response_model=CartPublic,
    responses={409: {"description": "out of stock / currency mismatch"}},
)
def add_item(runtime: RuntimeDep, session_id: SessionIdPath, body: CartItemCreate) -> CartPublic:
    """Add ``quantity`` of a product (to its line if it is in the cart already)."""
    with runtime.db.session() as s:
        return _public(
            add_to_cart(s, session_id=session_id, product_id=body.product_id, quantity=body.quantity)
        )


@router.patch("/items/{product_id}", operation_id="update_cart_item", response_model=CartPublic)
def update_item(
    runtime: RuntimeDep, session_id: SessionIdPath, product_id: ProductIdPath, body: CartItemUpdate
) -> CartPublic:
    """Set a line's quantity (0 removes it)."""
    with runtime.db.session() as s:
        return _public(set_quantity(s, session_id=session_id, product_id=product_id, quantity=body.quantity))


@router.delete("/items/{product_id}", operation_id="remove_cart_item", response_model=CartPublic)
def remove_item(runtime: RuntimeDep, session_id: SessionIdPath, product_id: ProductIdPath) -> CartPublic:
    with runtime.db.session() as s:
        return _public(remove_from_cart(s, session_id=session_id, product_id=product_id))
