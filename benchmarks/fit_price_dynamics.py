"""Fit the demo simulation's price dynamics to Walmart M5 (store CA_1) and write pricing/price_dynamics.json.

Only summary statistics leave the (eval-only) data: how often a regular price changes and by how much,
how often a temporary markdown starts, how deep it goes and how long it lasts, and a month-of-year
factor for markdown starts.  A markdown is a step down of ≥ 5 % that returns to at least 99 % of the
price before it within 8 weeks; every other change moves the regular price.

    python benchmarks/fit_price_dynamics.py [--prices FILE] [--calendar FILE] [--out FILE]

Prints the JSON it writes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "prices"
MAX_MARKDOWN_WEEKS = 8
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def fit(prices_path: Path, calendar_path: Path) -> dict[str, object]:
    sys.path.insert(0, str(REPO))
    from pricing.series import read_history

    history = read_history(prices_path, "m5", calendar_path)
    weeks = 0
    regular_sizes: list[float] = []
    starts_by_month: Counter[int] = Counter()
    weeks_by_month: Counter[int] = Counter()
    depths: list[float] = []
    durations: Counter[int] = Counter()
    for s in history.series:
        p = s.prices
        months = s.dates.astype("datetime64[M]").astype(np.int64) % 12
        i = 1
        while i < len(p):
            weeks += 1
            weeks_by_month[int(months[i])] += 1
            if p[i] == p[i - 1]:
                i += 1
                continue
            if p[i] <= 0.95 * p[i - 1]:
                back = next(
                    (
                        j
                        for j in range(i + 1, min(i + 1 + MAX_MARKDOWN_WEEKS, len(p)))
                        if p[j] >= 0.99 * p[i - 1]
                    ),
                    None,
                )
                if back is not None:
                    starts_by_month[int(months[i])] += 1
                    depths.append(float(1 - p[i:back].min() / p[i - 1]))
                    durations[back - i] += 1
                    weeks += back - i
                    i = back + 1
                    continue
            regular_sizes.append(float(np.log(p[i] / p[i - 1])))
            i += 1
    rates = np.array([starts_by_month[m] / max(weeks_by_month[m], 1) for m in range(12)])
    factors = rates / rates.mean() if rates.mean() > 0 else np.ones(12)
    n_md = sum(durations.values())
    return {
        "source": (
            "Summary statistics of Walmart M5 weekly shelf prices, store CA_1 (Kaggle M5 competition data, "
            f"{len(history.series)} items), fitted by benchmarks/fit_price_dynamics.py; no series is stored."
        ),
        "regular_change": {
            "weekly_probability": round(len(regular_sizes) / weeks, 5),
            "log_size_quantiles": {str(q): round(float(np.quantile(regular_sizes, q)), 4) for q in QUANTILES},
        },
        "markdown": {
            "weekly_start_probability": round(n_md / weeks, 5),
            "depth_quantiles": {str(q): round(float(np.quantile(depths, q)), 4) for q in QUANTILES},
            "duration_weeks": {str(k): round(durations[k] / n_md, 4) for k in sorted(durations)},
        },
        "markdown_month_factors": [round(float(f), 3) for f in factors],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prices", type=Path, default=SHARED / "m5_sell_prices_CA_1.csv")
    parser.add_argument("--calendar", type=Path, default=SHARED / "m5_calendar.csv")
    parser.add_argument("--out", type=Path, default=REPO / "pricing" / "price_dynamics.json")
    args = parser.parse_args()
    result = fit(args.prices, args.calendar)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
