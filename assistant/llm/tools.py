"""The assistant's capabilities as LangChain tools, bound to one runtime and one shopper session.

Each tool calls the same service function as the matching API route (``search_products`` as
``GET /v1/products/search``, ``add_to_cart`` as ``POST /v1/sessions/{id}/cart/items``, …), takes
typed pydantic arguments and answers a JSON-serialisable dict.  Domain errors (unknown product,
empty cart, unknown order, out of stock) come back as the tool's error message
(``"product_not_found: no product with id 'x'"``), never as an exception escaping the tool.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant import commerce
from assistant.commerce import MAX_QUANTITY
from assistant.errors import CartEmpty, InvalidRequest, NotFound, ShopAssistError
from assistant.images import IMAGE_ID_PATTERN, embedder_id, search_by_image
from assistant.products import get_product, image_url, search_products
from retrieval import Product, SearchFilters

if TYPE_CHECKING:
    from assistant.runtime import Runtime

__all__ = [
    "TOOL_NAMES",
    "AddToCartArgs",
    "CompareArgs",
    "FilterArgs",
    "ImageSearchArgs",
    "NoArgs",
    "OrderStatusArgs",
    "ProductIdArgs",
    "SearchArgs",
    "make_tools",
    "product_data",
]

TOOL_NAMES = (
    "search_products",
    "get_product",
    "compare_products",
    "add_to_cart",
    "view_cart",
    "price_advice",
    "find_similar_by_image",
    "order_status",
)

#: a product's description is cut to this many characters in tool results
MAX_DESCRIPTION_CHARS = 1500

_PRODUCT_ID = r"^[A-Za-z0-9._:\-]{1,128}$"


class FilterArgs(BaseModel):
    """Metadata filters, exactly those of ``GET /v1/products/search``."""

    model_config = ConfigDict(extra="forbid")

    product_type: str | None = Field(default=None, max_length=200, description="e.g. 'sofa', 'running shoe'")
    category: str | None = Field(default=None, max_length=200, description="a category path or its start")
    brand: str | None = Field(default=None, max_length=200)
    color: str | None = Field(default=None, max_length=200)
    material: str | None = Field(default=None, max_length=200)
    size: str | None = Field(default=None, max_length=200)
    gender: Literal["men", "women", "boys", "girls", "unisex"] | None = None
    price_min: float | None = Field(default=None, ge=0, le=10_000_000, allow_inf_nan=False)
    price_max: float | None = Field(default=None, ge=0, le=10_000_000, allow_inf_nan=False)
    rating_min: float | None = Field(default=None, ge=0, le=5, allow_inf_nan=False)
    in_stock: bool | None = Field(default=None, description="true: only products in stock")

    def filters(self) -> SearchFilters:
        return SearchFilters.model_validate(self.model_dump(include=set(SearchFilters.model_fields)))


class SearchArgs(FilterArgs):
    query: str = Field(default="", max_length=500, description="free text; empty lists by the filters")
    sort: Literal["relevance", "price_asc", "price_desc", "rating_desc"] = "relevance"
    limit: int = Field(default=5, ge=1, le=20, description="how many products to return")


class ProductIdArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(pattern=_PRODUCT_ID, description="a product id from a search result")


class CompareArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_ids: list[str] = Field(min_length=2, max_length=4, description="two to four product ids")


class AddToCartArgs(ProductIdArgs):
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY, description="units to add")


class NoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImageSearchArgs(FilterArgs):
    image_id: str | None = Field(
        default=None, pattern=IMAGE_ID_PATTERN, description="an uploaded photo (POST /v1/images)"
    )
    product_id: str | None = Field(
        default=None, pattern=_PRODUCT_ID, description="or a product whose picture to match"
    )
    query: str = Field(default="", max_length=500, description="words that also count, e.g. 'leather'")
    limit: int = Field(default=5, ge=1, le=20)

    @model_validator(mode="after")
    def _one_picture(self) -> ImageSearchArgs:
        if (self.image_id is None) == (self.product_id is None):
            raise ValueError("give exactly one of image_id or product_id")
        return self


class OrderStatusArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: str | None = Field(
        default=None, max_length=40, description="e.g. K7M2Q9XD; empty = this conversation's latest orders"
    )


def product_data(
    p: Product,
    *,
    score: float | None = None,
    why: str | None = None,
    active: bool | None = None,
    description: bool = False,
) -> dict[str, Any]:
    """A product as a tool result: the API's product fields (the description only when asked)."""
    out: dict[str, Any] = {
        "id": p.id,
        "title": p.title,
        "price": p.price,
        "currency": p.currency,
        "product_type": p.product_type,
        "category": p.category,
        "brand": p.brand,
        "rating": p.rating,
        "rating_count": p.rating_count,
        "in_stock": p.in_stock,
        "image_url": image_url(p),
        "attributes": dict(p.attributes),
    }
    if description:
        out["description"] = p.description[:MAX_DESCRIPTION_CHARS]
    if active is not None:
        out["active"] = active
    if score is not None:
        out["score"] = round(float(score), 4)
    if why is not None:
        out["why"] = why
    return out


def _domain_errors_as_tool_errors(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """A domain error becomes a :class:`ToolException`, which the tool answers as its message."""

    @functools.wraps(fn)
    def run(**kwargs: Any) -> dict[str, Any]:
        try:
            return fn(**kwargs)
        except ShopAssistError as exc:
            raise ToolException(f"{exc.code}: {exc.message}") from exc

    return run


def _invalid_arguments(exc: Any) -> str:
    """A validation error as one line the model can act on: ``invalid_arguments: quantity: …``."""
    try:
        problems = [f"{'.'.join(str(x) for x in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()]
    except Exception:
        problems = [str(exc)]
    return "invalid_arguments: " + "; ".join(problems)


def _tool(name: str, description: str, args: type[BaseModel], fn: Callable[..., dict[str, Any]]) -> BaseTool:
    return StructuredTool.from_function(
        func=_domain_errors_as_tool_errors(fn),
        name=name,
        description=description,
        args_schema=args,
        handle_tool_error=True,
        handle_validation_error=_invalid_arguments,
    )


def make_tools(runtime: Runtime, session_id: str) -> list[BaseTool]:
    """The eight tools of :data:`TOOL_NAMES`, on ``runtime``; the cart and order tools act for
    ``session_id`` (a session the service issued: ``runtime.assistant.start_session()``)."""

    def search(**kw: Any) -> dict[str, Any]:
        args = SearchArgs(**kw)
        filters = args.filters()
        page = search_products(
            runtime.index,
            query=args.query,
            filters=filters,
            sort=args.sort,
            limit=args.limit,
            reranker=runtime.reranker,
        )
        return {
            "products": [product_data(c.product, score=c.score, why=c.why) for c in page.cards],
            "total": page.total,
            "filters": filters.active(),
        }

    def product(product_id: str) -> dict[str, Any]:
        p, active = get_product(runtime.db, product_id)
        return {"product": product_data(p, active=active, description=True)}

    def compare(product_ids: list[str]) -> dict[str, Any]:
        products = [get_product(runtime.db, pid)[0] for pid in dict.fromkeys(product_ids)]
        if len(products) < 2:
            raise InvalidRequest("name two to four different products to compare")
        rated = [p for p in products if p.rating is not None]
        keys = sorted({k for p in products for k in p.attributes})
        differences = {
            k: {p.id: p.attributes.get(k) for p in products}
            for k in keys
            if len({p.attributes.get(k) for p in products}) > 1
        }
        return {
            "products": [product_data(p) for p in products],
            "cheapest": min(products, key=lambda p: p.price).id,
            "best_rated": max(rated, key=lambda p: (p.rating or 0.0, p.rating_count)).id if rated else None,
            "differences": differences,
        }

    def add(product_id: str, quantity: int = 1) -> dict[str, Any]:
        with runtime.db.session() as s:
            cart = commerce.add_to_cart(s, session_id=session_id, product_id=product_id, quantity=quantity)
            return {"added": {"product_id": product_id, "quantity": quantity}, "cart": cart.to_public()}

    def cart() -> dict[str, Any]:
        with runtime.db.session() as s:
            current = commerce.get_cart(s, session_id=session_id)
            if current.is_empty:
                raise CartEmpty()
            return {"cart": current.to_public(), "units": current.item_count}

    def price(product_id: str) -> dict[str, Any]:
        advice, currency, history = runtime.prices.report(product_id, weeks=12)
        return {"price_advice": advice, "currency": currency, "recent_weekly_prices": history}

    def similar(**kw: Any) -> dict[str, Any]:
        args = ImageSearchArgs(**kw)
        images = runtime.images
        runtime.index.reload_if_changed()
        images.reload_if_changed()
        if not images.n_images:
            raise InvalidRequest("search by photo is not available: no product images are indexed")
        exclude: list[str] = []
        if args.image_id is not None:
            if images.embedder_name != embedder_id(images.embedder()):
                raise InvalidRequest("search by photo is not available while the image index is rebuilt")
            vector = runtime.uploads.vector(args.image_id)
        else:
            pid = str(args.product_id)
            found = images.vector(pid)
            if found is None:
                raise NotFound(f"product {pid!r} has no indexed picture", code="image_not_found")
            vector, exclude = found, [pid]
        result = search_by_image(
            images,
            runtime.index,
            vector,
            args.filters(),
            query=args.query,
            limit=args.limit,
            exclude=exclude,
        )
        return {
            "products": [product_data(h.product, score=h.score, why="looks similar") for h in result.hits],
            "total": result.total,
        }

    def order(order_id: str | None = None) -> dict[str, Any]:
        with runtime.db.session() as s:
            if order_id:
                return {"order": commerce.get_order(s, order_id=order_id, session_id=session_id).to_public()}
            orders = commerce.orders_of_session(s, session_id=session_id, limit=5)
            if not orders:
                raise NotFound("no order has been placed in this conversation", code="order_not_found")
            return {"orders": [o.to_public() for o in orders]}

    return [
        _tool(
            "search_products",
            "Search the shop's catalog by words and filters; answers the best matching products "
            "(id, title, price, rating, attributes, why it matched) and the number of matches.",
            SearchArgs,
            search,
        ),
        _tool(
            "get_product",
            "One product's full details, description included, by its id.",
            ProductIdArgs,
            product,
        ),
        _tool(
            "compare_products",
            "Two to four products side by side: their details, the cheapest, the best rated and "
            "the attributes in which they differ.",
            CompareArgs,
            compare,
        ),
        _tool(
            "add_to_cart",
            "Add units of a product to the shopper's cart; answers the cart.",
            AddToCartArgs,
            add,
        ),
        _tool("view_cart", "The shopper's cart: lines, quantities and total.", NoArgs, cart),
        _tool(
            "price_advice",
            "Whether now is a good time to buy a product: its price against its history, the "
            "forecast, the chance of a drop and a buy-now-or-wait verdict.",
            ProductIdArgs,
            price,
        ),
        _tool(
            "find_similar_by_image",
            "Products that look like an uploaded photo (image_id) or like a product's picture "
            "(product_id), optionally narrowed by words and filters.",
            ImageSearchArgs,
            similar,
        ),
        _tool(
            "order_status",
            "The status of one of this shopper's orders, or their latest orders when no id is given.",
            OrderStatusArgs,
            order,
        ),
    ]
