"""Image matching on photos the head never saw: an 80/20 split of fashion-small, stratified by type.

Usage: python benchmarks/vision_holdout.py [--data ../shared/data/fashion-small] [--seed 0]

Writes the two halves as CSVs (absolute image paths) to a temp folder and runs
``shopassist eval vision --queries <20 %> --gallery <all 7,500>``: the head is trained on the
gallery photos that are not queries (as a shop trains it on its own catalog), every query is
ranked against all 7,500 minus itself.  Prints the three JSON lines of the eval.
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("../shared/data/fashion-small"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--test-share", type=float, default=0.2)
    args = ap.parse_args()
    src = args.data / "catalog.csv"
    if not src.is_file():
        print(f"error: {src} not found", file=sys.stderr)
        return 1
    with src.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["image"] = str((args.data / r["image"]).resolve())
    by_type: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        by_type[r["articleType"]].append(r)
    rng = random.Random(args.seed)
    test: list[dict[str, str]] = []
    for t in sorted(by_type):
        group = sorted(by_type[t], key=lambda r: r["id"])
        rng.shuffle(group)
        test.extend(group[: round(len(group) * args.test_share)])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for name, part in (("all.csv", rows), (f"test{args.seed}.csv", test)):
            with (out / name).open("w", encoding="utf-8", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(part)
        cmd = [
            sys.executable, "-m", "api", "eval", "vision",
            "--queries", str(out / f"test{args.seed}.csv"), "--gallery", str(out / "all.csv"),
        ]  # fmt: skip
        return subprocess.run(cmd, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
