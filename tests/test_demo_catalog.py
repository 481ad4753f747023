"""The bundled demo catalog (``data/demo``): plain reads of the committed files.

Built by ``scripts/build_demo_catalog.py``; these checks need nothing outside the repo.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
CATALOG = DEMO / "catalog.jsonl"
META = DEMO / "catalog.meta.json"

FIELDS = {
    "id",
    "title",
    "description",
    "product_type",
    "category",
    "brand",
    "price",
    "currency",
    "rating",
    "rating_count",
    "in_stock",
    "attributes",
    "image_path",
    "image_url",
}
GENDERS = {"men", "women", "boys", "girls", "unisex"}
N_TYPES = 30


@pytest.fixture(scope="module")
def products() -> list[dict[str, Any]]:
    with CATALOG.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def meta() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(META.read_text(encoding="utf-8"))
    return data


def test_size_and_fields(products: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    assert len(products) >= 1900
    assert meta["n_products"] == len(products)
    for product in products:
        assert set(product) == FIELDS, product["id"]
        assert product["currency"] == "USD"
        assert product["image_url"] is None
        assert product["title"] and product["description"] and product["brand"]


def test_ids_unique(products: list[dict[str, Any]]) -> None:
    ids = [p["id"] for p in products]
    assert all(isinstance(i, str) and i.isdigit() for i in ids)
    assert len(set(ids)) == len(ids)


def test_all_types_balanced(products: list[dict[str, Any]]) -> None:
    counts = Counter(p["product_type"] for p in products)
    assert len(counts) == N_TYPES
    assert max(counts.values()) - min(counts.values()) <= 1, counts
    for product in products:
        assert product["product_type"] == product["product_type"].lower()
        assert len(product["category"].split(" > ")) == 3


def test_images_exist_and_open(products: list[dict[str, Any]]) -> None:
    for product in products:
        path = DEMO / product["image_path"]
        assert path.is_file(), product["image_path"]
        with Image.open(path) as im:
            im.load()
            assert im.format == "JPEG"
            assert im.mode == "RGB"
            assert im.size == (60, 80)


def test_image_folder_matches_catalog(products: list[dict[str, Any]]) -> None:
    on_disk = {p.name for p in (DEMO / "images").glob("*.jpg")}
    assert on_disk == {Path(p["image_path"]).name for p in products}
    assert sum((DEMO / "images" / name).stat().st_size for name in on_disk) < 15_000_000


def test_prices_within_type_range(products: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    ranges = meta["price_ranges"]
    assert set(ranges) == {p["product_type"] for p in products}
    for product in products:
        price = product["price"]
        low, high = ranges[product["product_type"]]["min"], ranges[product["product_type"]]["max"]
        assert 0 < low <= price <= high, (product["id"], price, low, high)
        assert f"{price:.2f}"[-3:] in {".49", ".99"}, price


def test_generated_fields_marked(products: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    assert {"price", "rating", "rating_count", "in_stock", "description"} <= set(meta["generated_fields"])
    for product in products:
        assert product["attributes"]["price_generated"] == "true"
        assert product["attributes"]["rating_generated"] == "true"


def test_ratings_and_stock(products: list[dict[str, Any]]) -> None:
    ratings = [p["rating"] for p in products]
    assert all(1.0 <= r <= 5.0 and round(r, 1) == r for r in ratings)
    assert 3.8 <= sum(ratings) / len(ratings) <= 4.4
    assert all(isinstance(p["rating_count"], int) and p["rating_count"] >= 1 for p in products)
    in_stock = sum(p["in_stock"] is True for p in products) / len(products)
    assert 0.9 <= in_stock <= 0.99
    assert all(isinstance(p["in_stock"], bool) for p in products)


def test_attributes_lower_case(products: list[dict[str, Any]]) -> None:
    for product in products:
        attributes = product["attributes"]
        assert all(isinstance(v, str) for v in attributes.values())
        assert attributes["gender"] in GENDERS, product["id"]
        color = attributes.get("color")
        if color is not None:
            assert color == color.lower() and color.strip() == color, color
        for name in ("season", "usage", "year"):
            if name in attributes:
                assert attributes[name] == attributes[name].lower()


def test_meta_provenance(meta: dict[str, Any]) -> None:
    assert "Myntra" in meta["source"]
    assert "MIT" in meta["licence"]
    assert isinstance(meta["seed"], int)
    assert meta["inr_per_usd"] > 0
    assert (DEMO / "README.md").is_file()
