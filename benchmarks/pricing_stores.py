"""The pricing backtest on an M5 file with several stores, made by copying one store's prices.

M5 price files of several stores repeat most items' prices store by store (Walmart prices are set
per region).  Only CA_1 is here, so this writes CA_1's rows once per store name given and runs
``shopassist eval pricing`` on the result: the MLP should score as it does on CA_1 alone (each
copy is the same evidence), not overfit because every item now appears three times.

    python benchmarks/pricing_stores.py [--stores CA_1,CA_2,TX_1] [--history FILE] [--calendar FILE]

Prints the backtest's JSON lines (one per model, then the run's size and time on stderr).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "prices"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stores", default="CA_1,CA_2,TX_1", help="store ids to copy the rows into")
    ap.add_argument("--history", type=Path, default=SHARED / "m5_sell_prices_CA_1.csv")
    ap.add_argument("--calendar", type=Path, default=SHARED / "m5_calendar.csv")
    args = ap.parse_args()
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    if not args.history.is_file() or not args.calendar.is_file():
        print(f"error: need {args.history} and {args.calendar} (../shared/data/prices)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        copied = Path(tmp) / "m5_sell_prices_stores.csv"
        with args.history.open(newline="") as src, copied.open("w", newline="") as dst:
            rows = csv.reader(src)
            out = csv.writer(dst)
            header = next(rows)
            out.writerow(header)
            store_col = header.index("store_id")
            body = list(rows)
            for store in stores:
                for row in body:
                    out.writerow([*row[:store_col], store, *row[store_col + 1 :]])
        print(f"{len(body) * len(stores)} rows: {', '.join(stores)}", file=sys.stderr)
        cmd = [sys.executable, "-m", "api", "eval", "pricing", "--history", str(copied), "--format", "m5"]
        return subprocess.call([*cmd, "--calendar", str(args.calendar), "--quiet"])


if __name__ == "__main__":
    raise SystemExit(main())
