"""``/v1/products``: search, details, image."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from api.deps import RuntimeDep
from api.errors import ERROR_RESPONSES
from api.schemas import ProductPublic, SearchResponse, card_public, product_public
from assistant.errors import NotFound
from assistant.products import get_product, search_products
from retrieval import SearchFilters

router = APIRouter(prefix="/v1/products", tags=["products"], responses=ERROR_RESPONSES)

_ID = r"^[A-Za-z0-9._:\-]{1,128}$"


class Gender(StrEnum):
    men = "men"
    women = "women"
    boys = "boys"
    girls = "girls"
    unisex = "unisex"


class Sort(StrEnum):
    relevance = "relevance"
    price_asc = "price_asc"
    price_desc = "price_desc"
    rating_desc = "rating_desc"


Text = Annotated[str | None, Query(max_length=200)]
ProductId = Annotated[str, PathParam(pattern=_ID, description="product id")]


@router.get("/search", operation_id="search_products", response_model=SearchResponse)
def search(
    runtime: RuntimeDep,
    q: Annotated[str, Query(max_length=500, description="free text; empty lists by filters")] = "",
    product_type: Text = None,
    category: Text = None,
    color: Text = None,
    brand: Text = None,
    material: Text = None,
    size: Text = None,
    gender: Gender | None = None,
    price_min: Annotated[float | None, Query(ge=0, le=10_000_000, allow_inf_nan=False)] = None,
    price_max: Annotated[float | None, Query(ge=0, le=10_000_000, allow_inf_nan=False)] = None,
    rating_min: Annotated[float | None, Query(ge=0, le=5, allow_inf_nan=False)] = None,
    in_stock: bool | None = None,
    sort: Sort = Sort.relevance,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> SearchResponse:
    filters = SearchFilters(
        product_type=product_type,
        category=category,
        color=color,
        brand=brand,
        material=material,
        size=size,
        gender=gender.value if gender else None,
        price_min=price_min,
        price_max=price_max,
        rating_min=rating_min,
        in_stock=in_stock,
    )
    page = search_products(
        runtime.index,
        query=q,
        filters=filters,
        sort=sort.value,
        limit=limit,
        offset=offset,
        reranker=runtime.reranker,
    )
    return SearchResponse(
        products=[card_public(c) for c in page.cards],
        total=page.total,
        filters=filters.active(),
        sort=sort.value,
        limit=limit,
        offset=offset,
    )


@router.get("/{product_id}", operation_id="get_product", response_model=ProductPublic)
def product(runtime: RuntimeDep, product_id: ProductId) -> ProductPublic:
    p, active = get_product(runtime.db, product_id)
    return product_public(p, active=active)


@router.get(
    "/{product_id}/image",
    operation_id="get_product_image",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}},
)
def product_image(runtime: RuntimeDep, product_id: ProductId) -> FileResponse:
    p, _ = get_product(runtime.db, product_id)
    if not p.image_path or not Path(p.image_path).is_file():
        raise NotFound(f"product {product_id!r} has no stored image", code="image_not_found")
    return FileResponse(p.image_path)
