"""Mapping the shopper's words for types, brands, colours… onto the catalog's own values.

A slot value that names a catalog value (exactly, ignoring case, hyphens and a
plural ending, or as the only catalog value that contains it as a word: "navy" →
"navy blue") becomes a hard filter.  Anything else ("sneakers", a brand the
store does not carry) stays a soft constraint: its words join the search text,
so the hybrid search still finds the closest products instead of nothing.
"""

from __future__ import annotations

import re
from typing import Any

from retrieval import HybridIndex, normalize_text_value

__all__ = ["CatalogTerms", "TEXT_FACETS"]

#: slots whose values are matched against catalog facets
TEXT_FACETS = ("product_type", "brand", "color", "material", "size")

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _key(value: str) -> str:
    k = _NON_ALNUM.sub("", normalize_text_value(value))
    for suffix in ("es", "s"):
        if k.endswith(suffix) and len(k) > len(suffix) + 2:
            return k[: -len(suffix)]
    return k


class CatalogTerms:
    """Facet vocabularies of the live index, refreshed when the catalog version changes."""

    def __init__(self, index: HybridIndex) -> None:
        self._index = index
        self._version: str | None = None
        self._exact: dict[str, dict[str, str]] = {}
        self._words: dict[str, dict[str, list[str]]] = {}

    def _refresh(self) -> None:
        if self._version == self._index.version and self._exact:
            return
        self._version = self._index.version
        self._exact, self._words = {}, {}
        for facet in TEXT_FACETS:
            exact: dict[str, str] = {}
            words: dict[str, list[str]] = {}
            for value in self._index.facet_values(facet):
                exact.setdefault(_key(value), value)
                for w in normalize_text_value(value).split():
                    words.setdefault(_key(w), []).append(value)
            self._exact[facet], self._words[facet] = exact, words

    def match(self, facet: str, value: str) -> str | None:
        """The catalog value a slot value names, or None."""
        self._refresh()
        key = _key(value)
        if not key:
            return None
        hit = self._exact.get(facet, {}).get(key)
        if hit is not None:
            return hit
        if facet in ("color", "material") and " " not in value.strip():
            candidates = self._words.get(facet, {}).get(key, [])
            if len(candidates) == 1:
                return candidates[0]
        return None

    def split(self, filters: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Hard filters for the index (catalog values) and the soft words for the search text."""
        hard: dict[str, Any] = {}
        soft: list[str] = []
        for name, value in filters.items():
            if name in TEXT_FACETS and isinstance(value, str):
                mapped = self.match(name, value)
                if mapped is None:
                    soft.append(value)
                else:
                    hard[name] = mapped
            else:
                hard[name] = value
        return hard, soft

    def values(self, facet: str) -> list[str]:
        self._refresh()
        return list(self._index.facet_values(facet))
