"""The abandonment model (GRU) against its logistic-regression baseline on held-out simulated sessions.

Usage: python benchmarks/abandonment.py [--train 3000] [--held-out 1000]
Works on its own data dir (benchmarks/out/abandonment-data; the store's own logs are not touched):
demo catalog, the NLU model of `shopassist setup` (var/models/nlu), simulated shoppers through the
real API, `shopassist train abandonment --source simulated`, then `shopassist eval abandonment`,
which simulates fresh sessions with another seed.  Prints the eval's JSON line.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=3000, help="simulated training sessions")
    ap.add_argument("--held-out", type=int, default=1000, help="fresh simulated sessions to evaluate on")
    args = ap.parse_args()
    nlu = Path(os.environ.get("SHOPASSIST_DATA_DIR", REPO / "var")) / "models" / "nlu"
    if not (nlu / "config.json").is_file():
        print("error: run `shopassist setup` first (the NLU model is needed)", file=sys.stderr)
        return 1
    data = REPO / "benchmarks" / "out" / "abandonment-data"
    shutil.rmtree(data, ignore_errors=True)
    (data / "models").mkdir(parents=True)
    shutil.copytree(nlu, data / "models" / "nlu")
    env = {**os.environ, "SHOPASSIST_DATA_DIR": str(data), "SHOPASSIST_IMAGE_EMBEDDER": "histogram"}
    py = [sys.executable, "-m", "api"]
    for cmd in (
        [*py, "ingest", "data/demo/catalog.jsonl", "--no-images"],
        [*py, "train", "abandonment", "--simulate", str(args.train), "--source", "simulated"],
    ):
        done = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL)
        if done.returncode:
            print(f"error: {' '.join(cmd[2:])} exited {done.returncode}", file=sys.stderr)
            return 1
    return subprocess.run(
        [*py, "eval", "abandonment", "--sessions", str(args.held_out)], cwd=REPO, env=env
    ).returncode


if __name__ == "__main__":
    raise SystemExit(main())
