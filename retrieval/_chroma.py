"""Chroma: the store of record for product vectors and their metadata.

We always hand Chroma our own vectors; the collection still carries a registered
embedding function (so reopening it never reaches for Chroma's default model,
which would try to download ONNX weights).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from retrieval._encoder import Encoder, make_encoder
from retrieval._schema import ATTRIBUTE_FILTERS, Product, SearchFilters, normalize_text_value

__all__ = [
    "ShopAssistEmbeddingFunction",
    "open_chroma_client",
    "product_metadata",
    "product_from_metadata",
    "chroma_where",
    "CATEGORY_LEVELS",
]

CATEGORY_LEVELS = 8


@register_embedding_function
class ShopAssistEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma-side view of our encoder (used only if someone queries Chroma by text)."""

    def __init__(self, encoder: str = "minilm", dim: int = 384, _instance: Encoder | None = None):
        self._kind = encoder
        self._dim = dim
        self._encoder = _instance

    def __call__(self, input: Documents) -> Embeddings:
        if self._encoder is None:
            kwargs: dict[str, Any] = {"dim": self._dim} if self._kind == "hashing" else {}
            self._encoder = make_encoder(self._kind, **kwargs)
        return list(self._encoder.encode(list(input)))

    @staticmethod
    def name() -> str:
        return "shopassist"

    def get_config(self) -> dict[str, Any]:
        return {"encoder": self._kind, "dim": self._dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ShopAssistEmbeddingFunction:
        return ShopAssistEmbeddingFunction(encoder=str(config["encoder"]), dim=int(config["dim"]))

    def default_space(self) -> Any:
        return "cosine"


def open_chroma_client(*, path: Path | None = None, url: str | None = None) -> Any:
    """A Chroma HttpClient when ``url`` is given (``http://host:port``), else a PersistentClient."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False, allow_reset=True)
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"Chroma URL must look like http://host:port, got {url!r}")
        return chromadb.HttpClient(
            host=parsed.hostname,
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=settings,
        )
    if path is None:
        return chromadb.EphemeralClient(settings=settings)
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def product_metadata(product: Product, *, active: bool) -> dict[str, str | int | float | bool]:
    """Flat metadata Chroma can filter on, plus the whole product as JSON."""
    meta: dict[str, str | int | float | bool] = {
        "price": float(product.price),
        "rating": float(product.rating) if product.rating is not None else -1.0,
        "in_stock": bool(product.in_stock),
        "active": bool(active),
        "product": product.model_dump_json(),
    }
    if product.product_type:
        meta["product_type"] = product.product_type
    if product.brand:
        meta["brand"] = normalize_text_value(product.brand)
    for name in ATTRIBUTE_FILTERS:
        if product.attributes.get(name):
            meta[name] = product.attributes[name]
    parts = [normalize_text_value(x) for x in product.category.split(">") if x.strip()]
    for level in range(min(len(parts), CATEGORY_LEVELS)):
        meta[f"cat{level + 1}"] = " > ".join(parts[: level + 1])
    return meta


def product_from_metadata(meta: dict[str, Any]) -> Product:
    return Product.model_validate(json.loads(str(meta["product"])))


def chroma_where(filters: SearchFilters) -> dict[str, Any]:
    """The same filter rules as :class:`retrieval._columns.FilterColumns`, as a Chroma ``where``."""
    clauses: list[dict[str, Any]] = [{"active": True}]
    for name in ("product_type", "brand", "color", "material", "size"):
        value = getattr(filters, name)
        if value:
            clauses.append({name: value})
    if filters.gender:
        clauses.append({"gender": {"$in": sorted({filters.gender, "unisex"})}})
    if filters.category:
        depth = len([x for x in filters.category.split(">") if x.strip()])
        if depth > CATEGORY_LEVELS:
            clauses.append({"cat1": "\x00never"})
        else:
            clauses.append({f"cat{depth}": filters.category})
    if filters.price_min is not None:
        clauses.append({"price": {"$gte": float(filters.price_min)}})
    if filters.price_max is not None:
        clauses.append({"price": {"$lte": float(filters.price_max)}})
    if filters.rating_min is not None:
        clauses.append({"rating": {"$gte": float(filters.rating_min)}})
    if filters.in_stock is not None:
        clauses.append({"in_stock": bool(filters.in_stock)})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
