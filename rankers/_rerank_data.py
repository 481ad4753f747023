"""Training queries made from the catalog itself (data that may ship with the product).

Each query is a small set of *constraints* on catalog fields, written the way a
shopper types them: a product type alone or with a colour, brand, gender or
another short attribute ("navy blue puma backpack", "watches for women",
"casual shoes"), or a product title with a word or two dropped.  A product's gain
is ``2 × (share of the constraints it meets)`` when it has the asked type (or no
type was asked), else 0; a shortened title also gives gain 2 to every product whose
title holds all the remaining words.  So the exact matches come first, near misses
(same type, another colour) after them, and other types never count.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rankers._rerank import Reranker
from rankers._rerank_features import _analyse
from rankers._rerank_train import TrainingQuery, train_reranker
from retrieval import HybridIndex, Product

__all__ = ["generate_catalog_queries", "train_catalog_reranker"]

_GENDER_WORDS = {
    "men": ("men", "men's", "mens", "for men"),
    "women": ("women", "women's", "womens", "for women"),
    "boys": ("boys", "boys'", "for boys"),
    "girls": ("girls", "girls'", "for girls"),
}
_NUMERIC = re.compile(r"\d")
#: attributes that are catalog bookkeeping, not something a shopper asks for
_SKIP_ATTRIBUTES = ("year", "link", "gtin", "mpn", "availability", "list_price", "sku", "id")


def _plural(word_phrase: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return word_phrase
    if word_phrase.endswith(("ss", "sh", "ch", "x")):
        return word_phrase + "es"
    if word_phrase.endswith("s"):
        return word_phrase
    if word_phrase.endswith("y") and not word_phrase.endswith(("ay", "ey", "oy", "uy")):
        return word_phrase[:-1] + "ies"
    return word_phrase + "s"


def _fields(p: Product) -> dict[str, str]:
    """The constraint fields of one product (lower-case values)."""
    out: dict[str, str] = {}
    if p.product_type:
        out["product_type"] = p.product_type
    if p.brand:
        out["brand"] = p.brand.strip().lower()
    for name, value in p.attributes.items():
        if name in _SKIP_ATTRIBUTES or name.endswith("_generated") or name == "size":
            continue
        v = value.strip().lower()
        if (
            v
            and len(v) <= 30
            and len(v.split()) <= 3
            and not _NUMERIC.search(v)
            and v not in ("true", "false")
        ):
            out[name] = v
    return out


def _meets(fields: dict[str, str], name: str, value: str) -> bool:
    have = fields.get(name)
    if have is None:
        return False
    return have == value or (name == "gender" and have == "unisex" and value in ("men", "women"))


def _gains(
    constraints: dict[str, str], catalog: Sequence[tuple[Product, dict[str, str]]]
) -> dict[str, float]:
    out: dict[str, float] = {}
    want_type = constraints.get("product_type")
    for p, f in catalog:
        if want_type is not None and f.get("product_type") != want_type:
            continue
        met = sum(_meets(f, n, v) for n, v in constraints.items())
        if met:
            out[p.id] = round(2.0 * met / len(constraints), 3)
    return out


def _phrase(constraints: dict[str, str], rng: random.Random) -> str:
    """Words for a set of constraints, in a shopper's order (adjectives, brand, type, "for …")."""
    front: list[str] = []
    tail: list[str] = []
    gender = constraints.get("gender")
    if gender:
        forms = _GENDER_WORDS.get(gender, (gender,))
        form = rng.choice(forms)
        (tail if form.startswith("for ") else front).append(form)
    others = [v for n, v in constraints.items() if n not in ("gender", "brand", "product_type")]
    rng.shuffle(others)
    brand = constraints.get("brand")
    if brand and rng.random() < 0.5:
        front.insert(0, brand)
        front.extend(others)
    else:
        front.extend(others)
        if brand:
            front.append(brand)
    ptype = constraints.get("product_type")
    if ptype:
        front.append(_plural(ptype, rng))
    return " ".join(front + tail)


def generate_catalog_queries(
    products: Sequence[Product], *, seed: int = 0, max_queries: int = 1500
) -> list[TrainingQuery]:
    """Up to ``max_queries`` distinct labelled queries from the products' types, fields and titles."""
    rng = random.Random(seed)
    catalog = [(p, _fields(p)) for p in products]
    if not catalog:
        return []
    out: dict[str, TrainingQuery] = {}

    def add(text: str, gains: dict[str, float], template: str) -> None:
        key = " ".join(text.lower().split())
        if key and key not in out and any(g > 0 for g in gains.values()):
            out[key] = TrainingQuery(key, gains, f"generated:{template}")

    def from_fields(names: tuple[str, ...]) -> Callable[[Product, dict[str, str]], None]:
        def make(p: Product, f: dict[str, str]) -> None:
            if all(n in f for n in names):
                cons = {n: f[n] for n in names}
                add(_phrase(cons, rng), _gains(cons, catalog), "+".join(names))

        return make

    def extra_attribute(p: Product, f: dict[str, str]) -> None:
        names = [n for n in f if n not in ("product_type", "brand", "color", "gender")]
        if "product_type" in f and names:
            n = rng.choice(names)
            cons = {n: f[n], "product_type": f["product_type"]}
            add(_phrase(cons, rng), _gains(cons, catalog), "attribute+type")

    def short_title(p: Product, f: dict[str, str]) -> None:
        words = p.title.split()
        if len(words) < 3:
            return
        drop = rng.sample(range(len(words)), k=min(len(words) - 2, rng.choice((1, 1, 2))))
        kept = [w for i, w in enumerate(words) if i not in drop]
        text = " ".join(kept).lower()
        need = set(_analyse(text)[1])
        if not need:
            return
        gains: dict[str, float] = {}
        for q, qf in catalog:
            if need <= set(_analyse(q.title)[1]):
                gains[q.id] = 2.0
            elif "product_type" in f and qf.get("product_type") == f["product_type"]:
                gains[q.id] = 0.5
        gains[p.id] = 2.0
        add(text, gains, "title")

    templates: list[tuple[float, Callable[[Product, dict[str, str]], None]]] = [
        (1.0, from_fields(("product_type",))),
        (3.0, from_fields(("color", "product_type"))),
        (2.5, from_fields(("brand", "product_type"))),
        (2.0, from_fields(("gender", "product_type"))),
        (1.5, from_fields(("color", "brand", "product_type"))),
        (1.5, from_fields(("color", "gender", "product_type"))),
        (1.0, from_fields(("brand",))),
        (1.0, from_fields(("material", "product_type"))),
        (1.5, extra_attribute),
        (3.0, short_title),
    ]
    weights = [w for w, _ in templates]
    attempts = 0
    while len(out) < max_queries and attempts < max_queries * 8:
        attempts += 1
        p, f = catalog[rng.randrange(len(catalog))]
        _, make = rng.choices(templates, weights=weights)[0]
        make(p, f)
    return list(out.values())


def train_catalog_reranker(
    *,
    index: HybridIndex,
    out_dir: Path,
    products: Sequence[Product] | None = None,
    extra: Iterable[tuple[str, str, float]] = (),
    seed: int = 0,
    max_queries: int = 2000,
    epochs: int = 30,
    description: Mapping[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Reranker:
    """The live catalog's re-ranker: generated queries (+ shoppers' ``(query, product_id, label)``).

    ``products``: what to generate queries from (default: the index's active products).
    """
    items = list(index.products() if products is None else products)
    queries = generate_catalog_queries(items, seed=seed, max_queries=max_queries)
    return train_reranker(
        index=index,
        queries=queries,
        out_dir=out_dir,
        extra=extra,
        vocabulary_products=items,
        training={
            "source": "queries generated from the catalog's titles and fields"
            + (" + shopper feedback" if extra else ""),
            **dict(description or {}),
        },
        epochs=epochs,
        seed=seed,
        progress=progress,
    )
