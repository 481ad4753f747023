"""Domain errors: each knows its HTTP status and code; the API turns them into the envelope."""

from __future__ import annotations

__all__ = [
    "ShopAssistError",
    "NotFound",
    "ProductNotFound",
    "InvalidRequest",
    "Conflict",
    # commerce
    "SessionNotFound",
    "OrderNotFound",
    "NotInCart",
    "CartEmpty",
    "OutOfStock",
    "PriceChanged",
    "CurrencyMismatch",
    "IdempotencyConflict",
    "IdempotencyKeyRequired",
    "InvalidStatusChange",
    "InvalidQuantity",
    "InvalidAddress",
    "InvalidEmail",
]


class ShopAssistError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(ShopAssistError):
    status_code = 404
    code = "not_found"


class ProductNotFound(NotFound):
    code = "product_not_found"

    def __init__(self, product_id: str) -> None:
        super().__init__(f"no product with id {product_id!r}")


class InvalidRequest(ShopAssistError):
    status_code = 422
    code = "invalid_request"


class Conflict(ShopAssistError):
    status_code = 409
    code = "conflict"


# ---------------------------------------------------------------------------- commerce


class SessionNotFound(NotFound):
    code = "session_not_found"

    def __init__(self, message: str = "no such session") -> None:
        super().__init__(message)


class OrderNotFound(NotFound):
    """Also raised for another session's order, so that existence never leaks."""

    code = "order_not_found"

    def __init__(self, order_id: str) -> None:
        super().__init__(f"no order {order_id!r} in this session")
        self.order_id = order_id


class NotInCart(NotFound):
    code = "not_in_cart"

    def __init__(self, product_id: str) -> None:
        super().__init__(f"product {product_id!r} is not in the cart")
        self.product_id = product_id


class CartEmpty(Conflict):
    code = "cart_empty"

    def __init__(self, message: str = "the cart is empty") -> None:
        super().__init__(message)


class OutOfStock(Conflict):
    """Products that cannot be bought now (out of stock or no longer sold); names them."""

    code = "out_of_stock"

    def __init__(self, products: list[tuple[str, str]]) -> None:
        self.product_ids = [pid for pid, _ in products]
        self.titles = [title for _, title in products]
        names = ", ".join(f"{title} ({pid})" for pid, title in products)
        super().__init__(f"not available right now: {names}")


class PriceChanged(Conflict):
    """Prices changed since carting (or since the total the shopper confirmed); carries the new total."""

    code = "price_changed"

    def __init__(
        self, *, new_total: float, currency: str, old_total: float | None = None, detail: str = ""
    ) -> None:
        self.new_total = new_total
        self.old_total = old_total
        self.currency = currency
        msg = f"prices changed; the new total is {new_total:.2f} {currency}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg + "; please confirm again")


class CurrencyMismatch(Conflict):
    code = "currency_mismatch"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"

    def __init__(
        self, message: str = "this Idempotency-Key was already used with a different request"
    ) -> None:
        super().__init__(message)


class IdempotencyKeyRequired(ShopAssistError):
    status_code = 400
    code = "idempotency_key_required"


class InvalidStatusChange(Conflict):
    code = "invalid_status_change"

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"an order that is {current!r} cannot become {wanted!r}")
        self.current = current
        self.wanted = wanted


class InvalidQuantity(InvalidRequest):
    code = "invalid_quantity"


class InvalidAddress(InvalidRequest):
    """``field`` names the part that is missing or wrong (``name``, ``line1``, ``city``, ``region``,
    ``postal_code``, ``country``) so the assistant can re-ask for it."""

    code = "invalid_address"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidEmail(InvalidRequest):
    code = "invalid_email"


class ServiceUnavailable(ShopAssistError):
    status_code = 503
    code = "service_unavailable"
