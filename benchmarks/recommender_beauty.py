"""Sequential recommenders on Amazon Beauty (leave-one-out, full ranking over all 12,101 items).

Usage: python benchmarks/recommender_beauty.py [--data ../shared/data/amazon-beauty/Beauty.txt]
       [--models sasrec,gru4rec] [--retrain]
Runs `shopassist eval recommender` per model (it trains and saves the model first when there is none,
or always with --retrain via `shopassist train recommender`) and prints one JSON line per model.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("../shared/data/amazon-beauty/Beauty.txt"))
    ap.add_argument("--models", default="sasrec,gru4rec")
    ap.add_argument("--retrain", action="store_true", help="train even when a saved model exists")
    args = ap.parse_args()
    if not args.data.is_file():
        print(f"skip: {args.data} not found", file=sys.stderr)
        return 0
    failed = 0
    for model in args.models.split(","):
        command = "train" if args.retrain else "eval"
        cmd = [sys.executable, "-m", "api", command, "recommender", "--data", str(args.data)]
        cmd += ["--model", model]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode or not lines:
            failed += 1
            print(f"{model}: exit {proc.returncode}", file=sys.stderr)
            continue
        print(json.dumps(json.loads(lines[-1])), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
