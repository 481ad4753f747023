"""``/v1/products`` and friends through the real app factory (lifespan builds the Runtime)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from assistant.catalog import ingest_catalog
from assistant.config import Settings
from assistant.runtime import Runtime
from retrieval import Product, SearchFilters

N_SMALL = 300
DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "demo"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, demo_rows: list[dict[str, Any]]) -> Iterator[Any]:
    """One data dir for the module: the small catalog (10 per type) plus a product without a photo.

    Built once and only read by the tests, so the module stays fast.
    """
    root = tmp_path_factory.mktemp("products-api")
    per_type: dict[str, int] = {}
    lines = []
    for row in demo_rows:
        t = str(row["product_type"])
        if per_type.get(t, 0) < 10:
            per_type[t] = per_type.get(t, 0) + 1
            lines.append(json.dumps({**row, "image_path": str(DEMO_DIR / str(row["image_path"]))}))
    assert len(lines) == N_SMALL
    small = root / "small.jsonl"
    small.write_text("\n".join(lines) + "\n")
    extra = root / "extra.jsonl"
    extra.write_text(json.dumps({"id": "noimg", "title": "Plain Grey Scarf", "price": 9.5}) + "\n")
    with pytest.MonkeyPatch.context() as mp:  # no developer SHOPASSIST_* variable leaks in
        for key in [k for k in os.environ if k.startswith("SHOPASSIST_")]:
            mp.delenv(key)
        settings = Settings(data_dir=root / "var", encoder="hashing")
    rt = Runtime(settings)
    try:
        ingest_catalog(path=small, db=rt.db, index=rt.index)
        report = ingest_catalog(path=extra, db=rt.db, index=rt.index)
    finally:
        rt.close()
    assert report.catalog_version
    catalog = {p.id: p for p in (Product.model_validate_json(line) for line in lines)}
    with TestClient(create_app(settings)) as client:
        yield client, catalog, report.catalog_version


@pytest.fixture
def client(served: Any) -> TestClient:
    c: TestClient = served[0]
    return c


@pytest.fixture
def catalog(served: Any) -> dict[str, Product]:
    out: dict[str, Product] = served[1]
    return out


@pytest.fixture
def version(served: Any) -> str:
    out: str = served[2]
    return out


def assert_envelope(resp: Any, status: int, code: str) -> str:
    """The response is exactly ``{"error": {"code", "message"}}`` with this status and code."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    message = body["error"]["message"]
    assert isinstance(message, str) and message
    return message


# ----------------------------------------------------------------------------- search


@pytest.mark.parametrize(
    "params",
    [
        {"color": "black", "gender": "men"},
        {"product_type": "watch", "price_max": "100"},
        {"price_min": "20", "price_max": "40", "in_stock": "true"},
        {"category": "Accessories", "rating_min": "4"},
        {"gender": "women", "color": "Pink "},
        {"brand": "puma"},
    ],
    ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()),
)
def test_search_with_filters_returns_exactly_the_matching_products(
    client: TestClient, catalog: dict[str, Product], params: dict[str, str]
) -> None:
    resp = client.get("/v1/products/search", params={**params, "limit": 100})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    filters = SearchFilters(**params)  # type: ignore[arg-type]
    expected = {pid for pid, p in catalog.items() if filters.matches(p)}
    assert expected, "the parameters should match some products of the small catalog"
    got = [p["id"] for p in body["products"]]
    assert body["total"] == len(expected)
    assert set(got) == expected
    assert body["filters"] == filters.active()
    assert (body["sort"], body["limit"], body["offset"]) == ("relevance", 100, 0)
    for item in body["products"]:
        product = catalog[item["id"]]
        assert item["price"] == product.price and item["attributes"] == product.attributes
        assert item["why"]


def test_search_echoes_normalised_filters_and_pages(client: TestClient, catalog: dict[str, Product]) -> None:
    resp = client.get(
        "/v1/products/search",
        params={
            "color": " Black ",
            "gender": "men",
            "price_max": 100,
            "limit": 3,
            "offset": 2,
            "sort": "price_asc",
        },
    )
    body = resp.json()
    assert body["filters"] == {"color": "black", "gender": "men", "price_max": 100.0}
    everything = client.get(
        "/v1/products/search",
        params={"color": "black", "gender": "men", "price_max": 100, "limit": 100, "sort": "price_asc"},
    ).json()
    assert body["total"] == everything["total"] > 5
    assert [p["id"] for p in body["products"]] == [p["id"] for p in everything["products"]][2:5]
    prices = [p["price"] for p in everything["products"]]
    assert prices == sorted(prices)


def test_search_by_text(client: TestClient, catalog: dict[str, Product]) -> None:
    body = client.get("/v1/products/search", params={"q": "black watch", "product_type": "watch"}).json()
    assert body["total"] >= 1
    assert all(catalog[p["id"]].product_type == "watch" for p in body["products"])
    assert "black" in body["products"][0]["title"].lower()
    scores = [p["score"] for p in body["products"]]
    assert scores == sorted(scores, reverse=True)
    # the default page is 10
    assert len(client.get("/v1/products/search").json()["products"]) == 10
    assert client.get("/v1/products/search").json()["total"] == N_SMALL + 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("price_max=abc", "price_max"),
        ("price_min=-1", "price_min"),
        ("limit=1000", "limit"),
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
        ("rating_min=6", "rating_min"),
        ("gender=aliens", "gender"),
        ("sort=cheapest", "sort"),
        ("in_stock=perhaps", "in_stock"),
        ("price_max=nan", "price_max"),
    ],
)
def test_malformed_parameters_are_422_with_the_envelope(client: TestClient, query: str, field: str) -> None:
    message = assert_envelope(client.get(f"/v1/products/search?{query}"), 422, "invalid_request")
    assert message.startswith(f"{field}: ")


def test_price_min_above_price_max_is_422(client: TestClient) -> None:
    resp = client.get("/v1/products/search", params={"price_min": 50, "price_max": 10})
    message = assert_envelope(resp, 422, "invalid_request")
    assert message == "price_min must not be greater than price_max"


# ----------------------------------------------------------------------------- product, image


def test_product_detail(client: TestClient, catalog: dict[str, Product]) -> None:
    product = next(iter(catalog.values()))
    resp = client.get(f"/v1/products/{product.id}")
    assert resp.status_code == 200
    body = resp.json()
    assert body == {
        "id": product.id,
        "title": product.title,
        "description": product.description,
        "price": product.price,
        "currency": "USD",
        "product_type": product.product_type,
        "category": product.category,
        "brand": product.brand,
        "rating": product.rating,
        "rating_count": product.rating_count,
        "in_stock": product.in_stock,
        "active": True,
        "image_url": f"/v1/products/{product.id}/image",
        "attributes": product.attributes,
        "score": None,
        "why": None,
    }


def test_unknown_product_is_404(client: TestClient) -> None:
    message = assert_envelope(client.get("/v1/products/nope-123"), 404, "product_not_found")
    assert message == "no product with id 'nope-123'"
    assert_envelope(client.get("/v1/products/nope-123/image"), 404, "product_not_found")
    # an id that cannot exist is a malformed request
    assert_envelope(client.get("/v1/products/bad id!"), 422, "invalid_request")


def test_product_image_is_served(client: TestClient, catalog: dict[str, Product]) -> None:
    product = next(iter(catalog.values()))
    assert product.image_path
    resp = client.get(f"/v1/products/{product.id}/image")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "image/jpeg"
    assert resp.content == Path(product.image_path).read_bytes()
    assert resp.content[:3] == b"\xff\xd8\xff"
    message = assert_envelope(client.get("/v1/products/noimg/image"), 404, "image_not_found")
    assert "noimg" in message
    assert client.get("/v1/products/noimg").json()["image_url"] is None


# ----------------------------------------------------------------------------- app


def test_unknown_route_and_method_use_the_envelope(client: TestClient) -> None:
    assert assert_envelope(client.get("/v1/nothing-here"), 404, "not_found") == "Not Found"
    assert_envelope(client.post("/v1/products/search"), 405, "method_not_allowed")


def test_healthz(client: TestClient, version: str) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "products": N_SMALL + 1, "catalog_version": version}


def test_healthz_on_an_empty_catalog(settings: Settings) -> None:
    with TestClient(create_app(settings)) as c:
        assert c.get("/healthz").json() == {"status": "ok", "products": 0, "catalog_version": None}
        body = c.get("/v1/products/search", params={"q": "watch"}).json()
        assert (body["products"], body["total"]) == ([], 0)


def test_openapi_lists_the_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    ops = {
        (path, method): op.get("operationId")
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }
    assert ops[("/v1/products/search", "get")] == "search_products"
    assert ops[("/v1/products/{product_id}", "get")] == "get_product"
    assert ops[("/v1/products/{product_id}/image", "get")] == "get_product_image"
    assert ops[("/healthz", "get")] == "healthz"
    params = {p["name"] for p in spec["paths"]["/v1/products/search"]["get"]["parameters"]}
    assert params == {
        "q",
        "product_type",
        "category",
        "color",
        "brand",
        "material",
        "size",
        "gender",
        "price_min",
        "price_max",
        "rating_min",
        "in_stock",
        "sort",
        "limit",
        "offset",
    }
    assert "422" in spec["paths"]["/v1/products/search"]["get"]["responses"]
    assert client.get("/docs").status_code == 200
