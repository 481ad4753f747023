"""The full Myntra label file (44,446 products) as a catalog, for speed benchmarks only (never shipped)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from retrieval import Product

# price ranges (USD) as in the demo catalog; other types get a generic range
_RANGES = {
    "watches": (20, 400),
    "socks": (5, 15),
    "tshirts": (5, 45),
    "shirts": (15, 90),
    "jeans": (20, 120),
    "sarees": (25, 250),
    "handbags": (20, 250),
    "sunglasses": (15, 200),
    "perfume and body mist": (20, 120),
}


def _unit(key: str) -> float:
    return int(hashlib.blake2b(key.encode(), digest_size=8).hexdigest(), 16) / 2**64


def load_fashion_catalog(styles_csv: Path) -> list[Product]:
    out: list[Product] = []
    with styles_csv.open(encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            parts = line.rstrip("\n").split(",", 9)
            if len(parts) < 10 or not parts[9].strip():
                continue
            pid, gender, master, sub, article, colour, season, year, usage, name = parts
            lo, hi = _RANGES.get(article.lower(), (8, 150))
            price = round(lo * (hi / lo) ** _unit(pid), 2)
            attrs = {"gender": gender.lower(), "season": season.lower(), "usage": usage.lower()}
            if colour:
                attrs["color"] = colour.lower()
            out.append(
                Product(
                    id=pid,
                    title=name.strip(),
                    product_type=article.lower(),
                    category=f"{master} > {sub} > {article}",
                    brand=name.split()[0],
                    price=price,
                    rating=round(3.0 + 2.0 * _unit(pid + "r"), 1),
                    rating_count=int(500 * _unit(pid + "c")),
                    in_stock=_unit(pid + "s") > 0.05,
                    attributes=attrs,
                )
            )
    return out
