"""Retrieval quality table: bm25 / dense / hybrid × full / judged pool, via `shopassist eval retrieval`.

Usage: python benchmarks/retrieval_table.py [--data ../shared/data/home-depot] [--out benchmarks/out]
Writes retrieval.json (one object per run) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("../shared/data/home-depot"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    ap.add_argument("--modes", default="bm25,dense,hybrid")
    args = ap.parse_args()
    if not (args.data / "products.tsv").is_file():
        print(f"skip: {args.data} not found", file=sys.stderr)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for pool in ("all", "judged"):
        for mode in args.modes.split(","):
            cmd = [
                sys.executable,
                "-m",
                "api",
                "eval",
                "retrieval",
                "--products",
                str(args.data / "products.tsv"),
                "--queries",
                str(args.data / "queries.tsv"),
                "--labels",
                str(args.data / "labels.tsv"),
                "--mode",
                mode,
                "--pool",
                pool,
            ]
            out = (
                subprocess.run(cmd, check=True, capture_output=True, text=True)
                .stdout.strip()
                .splitlines()[-1]
            )
            rows.append(json.loads(out))
            print(out, flush=True)
    (args.out / "retrieval.json").write_text(json.dumps(rows, indent=1))
    print("\n| mode | pool | queries | nDCG@10 | MRR@10 | Recall@100 | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['mode']} | {r['pool']} | {r['n_queries']} | {r['ndcg@10']:.4f} | {r['mrr@10']:.4f} "
            f"| {r['recall@100']:.4f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
