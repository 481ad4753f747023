"""Columnar, in-memory copy of the filterable metadata: a filter becomes one boolean mask.

Categorical columns are integer codes (``-1`` = no value), so ``brand == "nike"``
is a single vectorised comparison over every product; a category filter also
matches the category's descendants ("apparel > topwear" matches
"apparel > topwear > shirts"); ``gender`` matches the wanted value or unisex.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from retrieval._schema import (
    ATTRIBUTE_FILTERS,
    Product,
    SearchFilters,
    category_matches,
    normalize_text_value,
)

__all__ = ["FilterColumns", "CATEGORICAL"]

CATEGORICAL = ("product_type", "category", "brand", *ATTRIBUTE_FILTERS)

Mask = npt.NDArray[np.bool_]


@dataclass
class _Codes:
    """Grows with the catalog: value → code, and the per-row code array."""

    codes: dict[str, int] = field(default_factory=dict)
    values: list[str] = field(default_factory=list)

    def code(self, value: str) -> int:
        if not value:
            return -1
        c = self.codes.get(value)
        if c is None:
            c = len(self.values)
            self.codes[value] = c
            self.values.append(value)
        return c


def _row_values(p: Product) -> dict[str, str]:
    values = {
        "product_type": p.product_type,
        "category": normalize_text_value(p.category),
        "brand": normalize_text_value(p.brand),
    }
    for name in ATTRIBUTE_FILTERS:
        values[name] = p.attributes.get(name, "")
    return values


class FilterColumns:
    """Filterable metadata of ``n`` rows (row i = the i-th product of the index)."""

    def __init__(self) -> None:
        self._dicts = {name: _Codes() for name in CATEGORICAL}
        self._cols: dict[str, npt.NDArray[np.int32]] = {
            name: np.zeros(0, dtype=np.int32) for name in CATEGORICAL
        }
        self.price = np.zeros(0, dtype=np.float64)
        self.rating = np.zeros(0, dtype=np.float64)  # NaN = not rated
        self.rating_count = np.zeros(0, dtype=np.int64)
        self.in_stock = np.zeros(0, dtype=np.bool_)
        self.active = np.zeros(0, dtype=np.bool_)

    def __len__(self) -> int:
        return int(self.price.shape[0])

    def resize(self, n: int) -> None:
        """Grow every column to ``n`` rows (new rows inactive until set)."""
        old = len(self)
        if n <= old:
            return
        extra = n - old
        for name in CATEGORICAL:
            self._cols[name] = np.concatenate([self._cols[name], np.full(extra, -1, dtype=np.int32)])
        self.price = np.concatenate([self.price, np.zeros(extra)])
        self.rating = np.concatenate([self.rating, np.full(extra, np.nan)])
        self.rating_count = np.concatenate([self.rating_count, np.zeros(extra, dtype=np.int64)])
        self.in_stock = np.concatenate([self.in_stock, np.zeros(extra, dtype=np.bool_)])
        self.active = np.concatenate([self.active, np.zeros(extra, dtype=np.bool_)])

    def set_row(self, row: int, product: Product, *, active: bool = True) -> None:
        for name, value in _row_values(product).items():
            self._cols[name][row] = self._dicts[name].code(value)
        self.price[row] = product.price
        self.rating[row] = np.nan if product.rating is None else product.rating
        self.rating_count[row] = product.rating_count
        self.in_stock[row] = product.in_stock
        self.active[row] = active

    # ------------------------------------------------------------------ masks
    def _eq(self, name: str, value: str) -> Mask:
        code = self._dicts[name].codes.get(value)
        if code is None:
            return np.zeros(len(self), dtype=np.bool_)
        out: Mask = self._cols[name] == code
        return out

    def _in(self, name: str, values: list[str]) -> Mask:
        codes = [self._dicts[name].codes[v] for v in values if v in self._dicts[name].codes]
        if not codes:
            return np.zeros(len(self), dtype=np.bool_)
        out: Mask = np.isin(self._cols[name], np.asarray(codes, dtype=np.int32))
        return out

    def mask(self, filters: SearchFilters, *, include_inactive: bool = False) -> Mask:
        """Rows that satisfy every set filter (and are active)."""
        m: Mask = np.ones(len(self), dtype=np.bool_) if include_inactive else self.active.copy()
        if filters.product_type:
            m &= self._eq("product_type", filters.product_type)
        if filters.category:
            wanted = filters.category
            matching = [v for v in self._dicts["category"].values if category_matches(v, wanted)]
            m &= self._in("category", matching)
        if filters.brand:
            m &= self._eq("brand", filters.brand)
        if filters.color:
            m &= self._eq("color", filters.color)
        if filters.material:
            m &= self._eq("material", filters.material)
        if filters.size:
            m &= self._eq("size", filters.size)
        if filters.gender:
            m &= self._in("gender", sorted({filters.gender, "unisex"}))
        if filters.price_min is not None:
            m &= self.price >= filters.price_min
        if filters.price_max is not None:
            m &= self.price <= filters.price_max
        if filters.rating_min is not None:
            with np.errstate(invalid="ignore"):
                m &= np.nan_to_num(self.rating, nan=-1.0) >= filters.rating_min
        if filters.in_stock is not None:
            m &= self.in_stock == filters.in_stock
        return m

    def values(self, name: str) -> list[str]:
        """Distinct values of a categorical column seen so far."""
        return list(self._dicts[name].values)

    def column(self, name: str) -> npt.NDArray[np.int32]:
        return self._cols[name]
