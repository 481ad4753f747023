"""Hand-made features of a (query, product) pair for the search re-ranker.

Each candidate of one hybrid search gets one row of :data:`FEATURES`: the
retrievers' own signals (BM25, cosine, fused score and rank, also relative to the
best candidate of the same list), how the query's words meet the title and the
rest of the product text, whether the query names the product's brand, type,
colour, gender or another attribute (or a *different* one: a conflict), and the
product's rating, popularity and price.  Every catalog field may be missing — a
title-only catalog (price 0, no rating, no brand) gets zeros there and a
``*_missing`` flag, never an error.

Words are lower-cased, split on anything but letters and digits (``1/2`` and
``2.5`` stay whole), stripped of a few stop words and Snowball-stemmed, the
way the BM25 index sees them.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from retrieval import Product

__all__ = [
    "FEATURES",
    "FIELDS",
    "CandidateScores",
    "BaseScores",
    "FieldVocabulary",
    "candidate_features",
]

#: catalog fields whose values the vocabulary recognises in a query
FIELDS = ("brand", "product_type", "color", "gender", "material", "size")

#: the feature columns, in order (stored in each artifact's meta.json and checked on load)
FEATURES = (
    # retrieval signals
    "bm25",
    "bm25_rel",
    "bm25_zero",
    "dense",
    "dense_gap",
    "fused",
    "fused_gap",
    "inv_rank",
    "log_rank",
    "bm25_list_rank",
    "dense_list_rank",
    # query words in the product's text
    "title_term_frac",
    "title_all_terms",
    "rare_term_frac",
    "trigram_frac",
    "phrase_in_title",
    "head_term_in_title",
    "first_term_in_title",
    "number_frac",
    "has_numbers",
    "text_term_frac",
    "title_extra_frac",
    "log_title_len",
    "log_query_len",
    # catalog fields the query names
    "brand_match",
    "brand_conflict",
    "type_match",
    "type_conflict",
    "color_match",
    "color_conflict",
    "gender_match",
    "gender_conflict",
    "attr_match",
    "attr_conflict",
    # product signals (absent in title-only catalogs)
    "rating",
    "rating_missing",
    "log_rating_count",
    "price_rel",
    "price_missing",
    "out_of_stock",
)

_TOKEN = re.compile(r"[a-z0-9]+(?:[./][0-9]+)*")
_STOP = frozenset(
    ("a", "an", "the", "of", "for", "and", "or", "in", "on", "with", "to", "by", "at", "from")
    + ("is", "are", "be", "this", "that", "it", "its", "my", "me", "i")
    + ("some", "any", "show", "find", "want", "need", "looking")
)
_STEM_LOCK = threading.Lock()


@runtime_checkable
class CandidateScores(Protocol):
    """What the hybrid retrieval knows of one candidate (``retrieval.Candidate`` has these)."""

    @property
    def rank(self) -> int: ...

    @property
    def fused(self) -> float: ...

    @property
    def lexical(self) -> float: ...

    @property
    def dense(self) -> float: ...


@dataclass(frozen=True)
class BaseScores:
    """A plain :class:`CandidateScores` (e.g. built from a ``retrieval.Hit`` and its position)."""

    rank: int
    fused: float
    lexical: float
    dense: float


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def _analyse(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(words, stems) of a text, stop words dropped."""
    words = tuple(w for w in _TOKEN.findall(text.lower()) if w not in _STOP)
    with _STEM_LOCK:  # PyStemmer objects are not thread-safe
        stems = tuple(_stemmer().stemWords(list(words)))
    return words, stems


@lru_cache(maxsize=200_000)
def _trigrams(text: str) -> frozenset[str]:
    """Character trigrams of the lower-cased text with spaces collapsed (robust to spelling)."""
    padded = " " + " ".join(text.lower().split()) + " "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def _list_ranks(values: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = np.arange(len(values))
    return ranks


def _has_digit(word: str) -> bool:
    return any(ch.isdigit() for ch in word)


class FieldVocabulary:
    """The values of each catalog field (brands, types, colours…), found in queries as stem runs."""

    def __init__(self, values: Mapping[str, Iterable[str]] | None = None) -> None:
        self.values: dict[str, list[str]] = {
            f: sorted({v.strip().lower() for v in (values or {}).get(f, ()) if v.strip()}) for f in FIELDS
        }
        # first stem → [(stems, field, value)], longest first
        self._by_first: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
        for name, vals in self.values.items():
            for v in vals:
                stems = _analyse(v)[1]
                if stems:
                    self._by_first.setdefault(stems[0], []).append((stems, name, v))
        for entries in self._by_first.values():
            entries.sort(key=lambda e: -len(e[0]))

    @classmethod
    def from_products(cls, products: Iterable[Product]) -> FieldVocabulary:
        values: dict[str, set[str]] = {f: set() for f in FIELDS}
        for p in products:
            if p.brand:
                values["brand"].add(p.brand)
            if p.product_type:
                values["product_type"].add(p.product_type)
            for name in ("color", "gender", "material", "size"):
                v = p.attributes.get(name)
                if v:
                    values[name].add(v)
        return cls(values)

    def to_json(self) -> dict[str, list[str]]:
        return {f: list(v) for f, v in self.values.items() if v}

    def __bool__(self) -> bool:
        return bool(self._by_first)

    def mentions(self, stems: Sequence[str]) -> dict[str, set[str]]:
        """Field → the values the query names (longest match first, no overlaps)."""
        out: dict[str, set[str]] = {}
        i = 0
        while i < len(stems):
            step = 1
            for cand, name, value in self._by_first.get(stems[i], ()):
                if tuple(stems[i : i + len(cand)]) == cand:
                    out.setdefault(name, set()).add(value)
                    step = len(cand)
                    break
            i += step
        return out


def _field_value(product: Product, name: str) -> str:
    if name == "brand":
        return product.brand.strip().lower()
    if name == "product_type":
        return product.product_type
    return product.attributes.get(name, "").lower()


def _match_conflict(product: Product, name: str, wanted: set[str] | None) -> tuple[float, float]:
    """(1, 0) when the product has a value the query names, (0, 1) when it has another one."""
    if not wanted:
        return 0.0, 0.0
    have = _field_value(product, name)
    if not have:
        return 0.0, 0.0
    if have in wanted or (name == "gender" and have == "unisex"):
        return 1.0, 0.0
    return 0.0, 1.0


def _product_text(product: Product) -> str:
    attrs = " ".join(v for k, v in product.attributes.items() if not k.endswith("_generated"))
    return " ".join((product.search_text(), attrs))


def candidate_features(
    query: str,
    products: Sequence[Product],
    base: Sequence[CandidateScores],
    vocabulary: FieldVocabulary | None = None,
) -> npt.NDArray[np.float32]:
    """One row of :data:`FEATURES` per candidate (``products[i]`` with retrieval scores ``base[i]``)."""
    n = len(products)
    if len(base) != n:
        raise ValueError(f"{n} products but {len(base)} retrieval scores")
    out = np.zeros((n, len(FEATURES)), dtype=np.float32)
    if n == 0:
        return out
    qwords, qstems = _analyse(query)
    qset = set(qstems)
    qnum = {w for w in qwords if _has_digit(w)}
    qphrase = " ".join(qwords)
    head, first = (qstems[-1], qstems[0]) if qstems else ("", "")
    named = vocabulary.mentions(qstems) if vocabulary else {}
    lex = np.asarray([b.lexical for b in base], dtype=np.float64)
    den = np.asarray([b.dense for b in base], dtype=np.float64)
    fus = np.asarray([b.fused for b in base], dtype=np.float64)
    lex_max = float(lex.max())
    lex_rank, den_rank = _list_ranks(lex), _list_ranks(den)
    prices = [math.log(p.price) for p in products if p.price > 0]
    mid_price = float(np.median(prices)) if prices else 0.0
    titles = [_analyse(p.title) for p in products]
    title_sets = [set(stems) for _, stems in titles]
    # a query term most candidates share says little; one few of them have says much
    rarity = {t: 1.0 - sum(t in ts for ts in title_sets) / n for t in qset}
    rare_total = sum(rarity.values())
    qtri = _trigrams(query)
    for i, (p, b) in enumerate(zip(products, base, strict=True)):
        twords, tstems = titles[i]
        tset = title_sets[i]
        found = len(qset & tset) / len(qset) if qset else 0.0
        rare = sum(rarity[t] for t in qset & tset) / rare_total if rare_total > 0 else 0.0
        tri = len(qtri & _trigrams(p.title)) / len(qtri) if qtri else 0.0
        text_found = found
        if qset and found < 1.0 and (p.description or p.brand or p.product_type or p.attributes):
            text_found = len(qset & set(_analyse(_product_text(p))[1])) / len(qset)
        brand = _match_conflict(p, "brand", named.get("brand"))
        ptype = _match_conflict(p, "product_type", named.get("product_type"))
        color = _match_conflict(p, "color", named.get("color"))
        gender = _match_conflict(p, "gender", named.get("gender"))
        other = [_match_conflict(p, f, named.get(f)) for f in ("material", "size")]
        rating = p.rating
        out[i] = (
            b.lexical / 10.0,
            b.lexical / lex_max if lex_max > 0 else 0.0,
            float(b.lexical <= 0),
            b.dense,
            b.dense - float(den.max()),
            b.fused,
            b.fused - float(fus.max()),
            1.0 / (b.rank + 1),
            math.log1p(b.rank),
            math.log1p(int(lex_rank[i])),
            math.log1p(int(den_rank[i])),
            found,
            float(bool(qset) and found == 1.0),
            rare,
            tri,
            float(bool(qphrase) and qphrase in " ".join(twords)),
            float(head in tset) if head else 0.0,
            float(first in tset) if first else 0.0,
            len(qnum & set(twords)) / len(qnum) if qnum else 0.0,
            float(bool(qnum)),
            text_found,
            len(tset - qset) / len(tset) if tset else 0.0,
            math.log1p(len(twords)),
            math.log1p(len(qwords)),
            *brand,
            *ptype,
            *color,
            *gender,
            max(o[0] for o in other),
            max(o[1] for o in other),
            (rating / 5.0) if rating is not None else 0.0,
            float(rating is None),
            math.log1p(p.rating_count) / 5.0,
            (math.log(p.price) - mid_price) if p.price > 0 else 0.0,
            float(p.price <= 0),
            float(not p.in_stock),
        )
    return out
