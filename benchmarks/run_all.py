"""`make bench`: run every benchmark in this folder and collect their JSON lines.

Writes benchmarks/out/results.json and benchmarks/RESULTS.md (each section names the command
that produced it).  Benchmarks that need ../shared/data skip themselves when it is absent.
The chat benchmark needs `shopassist setup` (run here first).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PY = sys.executable

SHARED = REPO.parent / "shared" / "data"
M5 = SHARED / "prices"

STEPS: list[tuple[str, list[str]]] = [
    ("setup", [PY, "-m", "api", "setup"]),
    ("nlu dev set", [PY, "-m", "api", "eval", "nlu", "tests/data/nlu_dev.jsonl"]),
    ("chat turn latency", [PY, "benchmarks/chat_latency.py", "--turns", "300"]),
    ("ingest vs raw encode", [PY, "benchmarks/ingest_throughput.py"]),
    ("filtered search, 44k fashion products", [PY, "benchmarks/filtered_search.py"]),
    ("retrieval quality, Home Depot", [PY, "benchmarks/retrieval_table.py"]),
    ("fusion tuning, Home Depot", [PY, "benchmarks/fusion_tuning.py"]),
    (
        "ingest vs raw encode, 44k fashion products",
        [
            PY,
            "benchmarks/ingest_throughput.py",
            "--fashion",
            str(SHARED / "fashion-small" / "styles_all.csv"),
        ],
    ),
    (
        "price forecaster backtest, M5 CA_1",
        [
            PY,
            "-m",
            "api",
            "eval",
            "pricing",
            "--history",
            str(M5 / "m5_sell_prices_CA_1.csv"),
            "--format",
            "m5",
            "--calendar",
            str(M5 / "m5_calendar.csv"),
        ],
    ),  # fmt: skip
    ("image matching, fashion-small 80/20", [PY, "benchmarks/vision_holdout.py"]),
]
#: steps that read ../shared/data, skipped (and said so) when it is not there
NEEDS_SHARED = {
    "ingest vs raw encode, 44k fashion products",
    "price forecaster backtest, M5 CA_1",
    "image matching, fashion-small 80/20",
}


def main() -> int:
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    results: dict[str, object] = {}
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, "
        f"{len(os.sched_getaffinity(0))} cores; produced by `make bench` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
    ]
    failed = 0
    for name, cmd in STEPS:
        if name in NEEDS_SHARED and not SHARED.is_dir():
            lines += [f"## {name}", "", f"skipped: {SHARED} is not here", ""]
            print(f"{name}: skipped (no {SHARED})", flush=True)
            continue
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
        took = time.perf_counter() - t0
        json_lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        results[name] = {"command": " ".join(cmd[1:]), "rc": proc.returncode, "seconds": round(took, 1),
                         "output": [json.loads(ln) for ln in json_lines]}  # fmt: skip
        lines += [
            f"## {name}",
            "",
            f"`{' '.join(['python', *cmd[1:]])}` — exit {proc.returncode}, {took:.0f} s",
            "",
        ]
        lines += ["```", *(json_lines or proc.stderr.strip().splitlines()[-3:]), "```", ""]
        print(f"{name}: exit {proc.returncode} in {took:.0f} s", flush=True)
        failed += proc.returncode != 0
    (out / "results.json").write_text(json.dumps(results, indent=1))
    (HERE / "RESULTS.md").write_text("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
