"""Domain errors: each knows its HTTP status and code; the API turns them into the envelope."""

from __future__ import annotations

__all__ = ["ShopAssistError", "NotFound", "ProductNotFound", "InvalidRequest", "Conflict"]


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
