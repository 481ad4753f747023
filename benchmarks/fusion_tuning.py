"""How the fusion default was chosen: RRF vs blend on a 30 % tuning split, checked on the other 70 %.

Usage: python benchmarks/fusion_tuning.py [--data ../shared/data/home-depot]
Prints one JSON line per (split, method) with nDCG@10 on the full pool.  Reuses the index that
`shopassist eval retrieval` builds for the same products file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.cli._common import quiet_libraries  # noqa: E402
from api.cli.evaluate import open_eval_index  # noqa: E402
from retrieval import SearchFilters, blend, rrf  # noqa: E402
from retrieval._evaluate import RelevanceSet, load_relevance_set, ndcg_at_k  # noqa: E402


def _scores(index: Any, rel: RelevanceSet) -> dict[str, tuple[Any, Any]]:
    qids = sorted(rel.queries)
    vecs = index.encoder.encode([rel.queries[q] for q in qids], batch_size=128)
    out = {}
    for q, v in zip(qids, vecs, strict=True):
        rows, _, lex, den, *_ = index._score(
            rel.queries[q], SearchFilters(), "hybrid", None, {}, need_coverage=False, query_vector=v
        )
        out[q] = (lex.astype(np.float32), den.astype(np.float32))
    return out


def _ndcg(index: Any, rel: RelevanceSet, scores: dict[str, tuple[Any, Any]], fuse: Any) -> float:
    ids = index._ids
    vals = []
    for q, (lex, den) in scores.items():
        s = fuse(lex, den)
        top = np.argpartition(-s, 10)[:10]
        top = top[np.argsort(-s[top])]
        vals.append(ndcg_at_k([ids[i] for i in top], rel.gains[q], 10))
    return round(float(np.mean(vals)), 4)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("../shared/data/home-depot"))
    args = ap.parse_args()
    if not (args.data / "products.tsv").is_file():
        print(f"skip: {args.data} not found", file=sys.stderr)
        return 0
    quiet_libraries()
    rel = load_relevance_set(args.data / "queries.tsv", args.data / "labels.tsv")
    tune, held = rel.split(0.3, seed=1)
    index = open_eval_index(args.data / "products.tsv", None)
    methods: dict[str, Any] = {
        "bm25": lambda lex, den: lex.astype(np.float64),
        "dense": lambda lex, den: den.astype(np.float64),
    }
    for k in (10, 30, 60):
        methods[f"rrf k={k}"] = lambda lex, den, k=k: rrf(lex, den, k=k)
    for a in (0.3, 0.4, 0.5, 0.6, 0.7):
        methods[f"blend alpha={a}"] = lambda lex, den, a=a: blend(lex, den, alpha=a)
    for name, split in (("tune 30%", tune), ("held-out 70%", held)):
        scores = _scores(index, split)
        for method, fuse in methods.items():
            row = {"split": name, "queries": len(split.queries), "method": method}
            print(json.dumps({**row, "ndcg@10": _ndcg(index, split, scores, fuse)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
