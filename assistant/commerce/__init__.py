"""Commerce: sessions, cart, checkout details, idempotent orders, the order webhook, notices, handoff, events.

Every data function takes an explicit SQLAlchemy ``Session`` and keyword-only arguments, returns
domain objects (never rows, except the :class:`~assistant.models.SessionRow` of the session
functions) and raises :mod:`assistant.errors` domain errors; none commits — the caller's
``with db.session() as s:`` does.
"""

from assistant.commerce._cart import (
    DEFAULT_CURRENCY,
    MAX_QUANTITY,
    Cart,
    CartChange,
    CartLine,
    add_to_cart,
    cart_changes,
    clear_cart,
    get_cart,
    refresh_cart,
    remove_from_cart,
    set_quantity,
)
from assistant.commerce._checkout import (
    Address,
    parse_address,
    resolve_country,
    validate_address,
    validate_email,
)
from assistant.commerce._common import call_after_commit
from assistant.commerce._events import EVENT_TYPES, WIDGET_EVENT_TYPES, add_event, record_event
from assistant.commerce._notices import (
    NOTICE_KINDS,
    Handoff,
    Notice,
    add_notice,
    close_handoff,
    notices_after,
    open_handoff,
    request_handoff,
    staff_reply,
    take_notices,
)
from assistant.commerce._orders import (
    IDEMPOTENCY_KEY_PATTERN,
    ORDER_ID_PATTERN,
    ORDER_STATUSES,
    Order,
    OrderItem,
    OrderNotifier,
    cancel_order,
    get_order,
    new_order_id,
    normalise_order_id,
    orders_of_session,
    place_order,
    request_fingerprint,
    set_order_status,
)
from assistant.commerce._sessions import (
    SESSION_ID_PATTERN,
    create_session,
    get_session,
    is_valid_session_id,
    new_session_id,
)
from assistant.commerce._webhook import SIGNATURE_HEADER, OrderWebhook, sign_payload, verify_signature
from assistant.errors import (
    CartEmpty,
    CurrencyMismatch,
    IdempotencyConflict,
    InvalidAddress,
    InvalidEmail,
    InvalidQuantity,
    InvalidStatusChange,
    NotInCart,
    OrderNotFound,
    OutOfStock,
    PriceChanged,
    SessionNotFound,
)

__all__ = [
    # sessions
    "SESSION_ID_PATTERN",
    "new_session_id",
    "is_valid_session_id",
    "create_session",
    "get_session",
    # cart
    "MAX_QUANTITY",
    "DEFAULT_CURRENCY",
    "Cart",
    "CartLine",
    "CartChange",
    "get_cart",
    "add_to_cart",
    "set_quantity",
    "remove_from_cart",
    "clear_cart",
    "cart_changes",
    "refresh_cart",
    # checkout details
    "Address",
    "validate_email",
    "validate_address",
    "parse_address",
    "resolve_country",
    # orders
    "ORDER_STATUSES",
    "ORDER_ID_PATTERN",
    "IDEMPOTENCY_KEY_PATTERN",
    "Order",
    "OrderItem",
    "OrderNotifier",
    "new_order_id",
    "normalise_order_id",
    "request_fingerprint",
    "place_order",
    "get_order",
    "orders_of_session",
    "cancel_order",
    "set_order_status",
    # webhook
    "OrderWebhook",
    "SIGNATURE_HEADER",
    "sign_payload",
    "verify_signature",
    "call_after_commit",
    # notices and handoff
    "NOTICE_KINDS",
    "Notice",
    "Handoff",
    "add_notice",
    "take_notices",
    "notices_after",
    "request_handoff",
    "open_handoff",
    "close_handoff",
    "staff_reply",
    # events
    "EVENT_TYPES",
    "WIDGET_EVENT_TYPES",
    "add_event",
    "record_event",
    # the domain errors these raise (defined in assistant.errors)
    "SessionNotFound",
    "OrderNotFound",
    "NotInCart",
    "CartEmpty",
    "OutOfStock",
    "PriceChanged",
    "CurrencyMismatch",
    "IdempotencyConflict",
    "InvalidStatusChange",
    "InvalidQuantity",
    "InvalidAddress",
    "InvalidEmail",
]
