"""Filtered-search latency on all 44,446 fashion products: numpy pre-filter scan vs Chroma `where`.

Usage: python benchmarks/filtered_search.py [--styles ../shared/data/fashion-small/styles_all.csv]
Prints one JSON line per (strategy, filter case) and a summary line; builds the index once into
var/bench/fashion-all (reused after).  Search = encode + BM25 + dense + fusion + ordering.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._fashion import load_fashion_catalog  # noqa: E402
from retrieval import HybridIndex, SearchFilters, make_encoder, open_chroma_client  # noqa: E402

CASES: list[tuple[str, str, dict[str, object]]] = [
    ("none", "black watch", {}),
    ("broad: gender", "casual shirt", {"gender": "men"}),
    ("broad: price range", "blue jeans", {"price_min": 10, "price_max": 100}),
    ("broad: in stock + rating", "summer dress", {"in_stock": True, "rating_min": 3.5}),
    ("type", "black", {"product_type": "watches"}),
    ("type + colour", "leather strap", {"product_type": "watches", "color": "black"}),
    (
        "type + colour + gender + price",
        "sports",
        {
            "product_type": "sports shoes",
            "color": "white",
            "gender": "men",
            "price_min": 20,
            "price_max": 120,
        },
    ),
    ("narrow: brand + type", "watch", {"brand": "titan", "product_type": "watches"}),
    (
        "narrow: colour + type + price",
        "kurta",
        {"product_type": "kurtas", "color": "yellow", "price_max": 40},
    ),
    ("category prefix", "white", {"category": "footwear"}),
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--styles", type=Path, default=Path("../shared/data/fashion-small/styles_all.csv"))
    ap.add_argument("--dir", type=Path, default=Path("var/bench/fashion-all"))
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--encoder", default="minilm")
    args = ap.parse_args()
    if not args.styles.is_file():
        print(f"skip: {args.styles} not found", file=sys.stderr)
        return 0
    encoder = make_encoder(args.encoder)
    index = HybridIndex(
        encoder=encoder,
        client=open_chroma_client(path=args.dir / "chroma"),
        collection="fashion",
        index_dir=args.dir / "index",
    )
    products = load_fashion_catalog(args.styles)
    if index.n_products != len(products):
        t0 = time.perf_counter()
        for s in range(0, len(products), 1024):
            index.upsert(products[s : s + 1024])
            print(f"indexed {min(s + 1024, len(products))}/{len(products)}", file=sys.stderr, flush=True)
        index.commit()
        print(f"built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    n = index.n_active
    index.search("warm up", SearchFilters())
    summary: dict[str, float] = {}
    for strategy in ("numpy", "chroma"):
        index.dense_strategy = strategy  # type: ignore[assignment]
        worst = 0.0
        for name, query, flt in CASES:
            filters = SearchFilters.model_validate(flt)
            matching = int(index._cols.mask(filters).sum())
            lat = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                res = index.search(query, filters, limit=10)
                lat.append((time.perf_counter() - t0) * 1000)
            assert all(filters.matches(h.product) for h in res.hits)
            p50, p95 = float(np.percentile(lat, 50)), float(np.percentile(lat, 95))
            worst = max(worst, p95)
            print(
                json.dumps(
                    {
                        "strategy": strategy,
                        "case": name,
                        "matching": matching,
                        "selectivity": round(matching / n, 4),
                        "hits": len(res.hits),
                        "total": res.total,
                        "p50_ms": round(p50, 2),
                        "p95_ms": round(p95, 2),
                    }
                ),
                flush=True,
            )
        summary[strategy] = round(worst, 2)
    print(json.dumps({"products": n, "worst_case_p95_ms": summary}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
