"""Product schema shared by every capability.

A :class:`Product` is what the catalog readers produce, what the database stores
and what the search indexes return.  Field names follow ``DESIGN.md`` ("Catalog
files").  Values are normalised here, once: strings stripped, product types and
attribute names lower-cased, prices non-negative, ratings within 0..5.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "Product",
    "SearchFilters",
    "SORTS",
    "FILTER_FIELDS",
    "ATTRIBUTE_FILTERS",
    "normalize_text_value",
    "normalize_category",
    "category_matches",
]

#: sort options understood by every search entry point
SORTS = ("relevance", "price_asc", "price_desc", "rating_desc")

#: attributes that are also search filters (stored in ``Product.attributes``)
ATTRIBUTE_FILTERS = ("color", "material", "size", "gender")

#: every filter name, as in the search API
FILTER_FIELDS = (
    "product_type",
    "category",
    "brand",
    "color",
    "material",
    "size",
    "gender",
    "price_min",
    "price_max",
    "rating_min",
    "in_stock",
)

_WS = re.compile(r"\s+")
_ID_OK = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def normalize_text_value(value: str) -> str:
    """Lower-case, trim and collapse whitespace: the form filters compare on."""
    return _WS.sub(" ", value.strip().lower())


def normalize_category(value: str) -> str:
    """A category path with its levels trimmed and joined by ``" > "`` (case kept)."""
    return " > ".join(_WS.sub(" ", part.strip()) for part in value.split(">") if part.strip())


class Product(BaseModel):
    """One catalog product."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=128)
    title: str = Field(min_length=1, max_length=1000)
    description: str = Field(default="", max_length=20000)
    product_type: str = Field(default="", max_length=200)
    category: str = Field(default="", max_length=500)
    brand: str = Field(default="", max_length=200)
    price: float = Field(ge=0, le=10_000_000)
    currency: str = Field(default="USD", min_length=3, max_length=3)
    rating: float | None = Field(default=None, ge=0, le=5)
    rating_count: int = Field(default=0, ge=0)
    in_stock: bool = True
    attributes: dict[str, str] = Field(default_factory=dict)
    image_url: str | None = None
    image_path: str | None = None

    @field_validator("id")
    @classmethod
    def _check_id(cls, v: str) -> str:
        if not _ID_OK.match(v):
            raise ValueError("id may only hold letters, digits and . _ : - (at most 128)")
        return v

    @field_validator("title")
    @classmethod
    def _collapse_title(cls, v: str) -> str:
        return _WS.sub(" ", v)

    @field_validator("product_type")
    @classmethod
    def _norm_type(cls, v: str) -> str:
        return normalize_text_value(v)

    @field_validator("category")
    @classmethod
    def _norm_category(cls, v: str) -> str:
        return normalize_category(v)

    @field_validator("currency")
    @classmethod
    def _upper_currency(cls, v: str) -> str:
        if not v.isalpha():
            raise ValueError("currency must be a 3-letter ISO code")
        return v.upper()

    @field_validator("price")
    @classmethod
    def _finite_price(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("price must be a finite number")
        return round(float(v), 2)

    @field_validator("attributes", mode="before")
    @classmethod
    def _norm_attributes(cls, v: Any) -> dict[str, str]:
        if v is None:
            return {}
        if not isinstance(v, dict):
            raise ValueError("attributes must be an object of name → value")
        out: dict[str, str] = {}
        for key, value in v.items():
            name = normalize_text_value(str(key)).replace(" ", "_")
            if not name or value is None:
                continue
            text = value if isinstance(value, str) else str(value)
            text = _WS.sub(" ", text.strip())
            if text:
                out[name] = text
        return out

    @model_validator(mode="after")
    def _norm_filter_attributes(self) -> Product:
        # filterable attributes compare lower-case; keep the display form elsewhere
        for name in ATTRIBUTE_FILTERS:
            if name in self.attributes:
                self.attributes[name] = normalize_text_value(self.attributes[name])
        return self

    # ------------------------------------------------------------------ helpers
    def embedding_text(self) -> str:
        """Short text for the dense encoder: the title plus the key facets it does not already name."""
        parts = [self.title]
        low = self.title.lower()
        if self.brand and self.brand.lower() not in low:
            parts.append(self.brand)
        if self.product_type and self.product_type not in low:
            parts.append(self.product_type)
        for name in ("color", "material", "gender"):
            value = self.attributes.get(name)
            if value and value not in low:
                parts.append(value)
        return " ".join(parts)

    def search_text(self) -> str:
        """Text that the lexical index sees: title, facets, category path and the start of the description."""
        parts = [self.title]
        if self.brand and self.brand.lower() not in self.title.lower():
            parts.append(self.brand)
        if self.product_type and self.product_type not in self.title.lower():
            parts.append(self.product_type)
        for name in ("color", "material", "gender"):
            value = self.attributes.get(name)
            if value and value not in self.title.lower():
                parts.append(value)
        if self.category:
            parts.append(self.category.replace(" > ", " "))
        if self.description:
            parts.append(self.description[:300])
        return " . ".join(parts)

    def content_key(self) -> tuple[Any, ...]:
        """Everything except the price and stock: a change here means re-embedding."""
        return (
            self.title,
            self.description,
            self.product_type,
            self.category,
            self.brand,
            tuple(sorted(self.attributes.items())),
            self.image_url,
            self.image_path,
        )


class SearchFilters(BaseModel):
    """Metadata filters, applied inside every retriever (pre-filter)."""

    model_config = ConfigDict(extra="forbid")

    product_type: str | None = None
    category: str | None = None
    brand: str | None = None
    color: str | None = None
    material: str | None = None
    size: str | None = None
    gender: str | None = None
    price_min: float | None = Field(default=None, ge=0)
    price_max: float | None = Field(default=None, ge=0)
    rating_min: float | None = Field(default=None, ge=0, le=5)
    in_stock: bool | None = None

    @field_validator("product_type", "category", "brand", "color", "material", "size", "gender")
    @classmethod
    def _norm(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = normalize_text_value(normalize_category(v))
        return v or None

    def active(self) -> dict[str, Any]:
        """The filters that are set, as a plain dict (for responses and logs)."""
        return self.model_dump(exclude_none=True)

    def matches(self, product: Product) -> bool:
        """Reference implementation of the filter rules (the indexes vectorise it)."""
        if self.product_type and product.product_type != self.product_type:
            return False
        if self.category and not category_matches(product.category, self.category):
            return False
        if self.brand and normalize_text_value(product.brand) != self.brand:
            return False
        for name in ATTRIBUTE_FILTERS:
            want = getattr(self, name)
            if not want:
                continue
            have = product.attributes.get(name)
            if name == "gender" and have == "unisex":
                continue  # unisex products suit every gender
            if have != want:
                return False
        if self.price_min is not None and product.price < self.price_min:
            return False
        if self.price_max is not None and product.price > self.price_max:
            return False
        if self.rating_min is not None and (product.rating is None or product.rating < self.rating_min):
            return False
        return not (self.in_stock is not None and product.in_stock != self.in_stock)


def category_matches(path: str, wanted: str) -> bool:
    """A category filter matches the path itself or any of its ancestors ("apparel > topwear" ⊂ path)."""
    p = normalize_text_value(path)
    return p == wanted or p.startswith(wanted + " > ")
