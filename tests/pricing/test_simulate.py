"""The demo price simulation: deterministic, ends at the catalog price, moves like the fitted dynamics."""

from __future__ import annotations

from datetime import date

import numpy as np

from pricing import default_dynamics, simulate_history

END = date(2025, 6, 1)
PRODUCTS = [(f"p{i}", float(10 + 7 * i) + 0.99) for i in range(200)]


def test_same_seed_same_history_and_last_price_is_the_catalog_price() -> None:
    a = simulate_history(PRODUCTS, end=END, seed=3)
    b = simulate_history(list(reversed(PRODUCTS)), end=END, seed=3)
    assert a == b  # order-independent and deterministic
    for pid, price in PRODUCTS:
        assert a[pid][-1] == (END, price)
        assert len(a[pid]) == 104
        assert all(p > 0 for _, p in a[pid])
    assert simulate_history(PRODUCTS, end=END, seed=4) != a


def test_histories_move_like_shelf_prices() -> None:
    hist = simulate_history(PRODUCTS, end=END, seed=0)
    changes = [np.count_nonzero(np.diff([p for _, p in obs])) for obs in hist.values()]
    weekly_rate = sum(changes) / (len(changes) * 103)
    assert 0.001 < weekly_rate < 0.1  # prices mostly hold, but some move
    assert sum(c == 0 for c in changes) < len(changes)


def test_dynamics_file_names_its_source_and_only_holds_statistics() -> None:
    d = default_dynamics()
    assert "M5" in d["source"]
    assert len(d["markdown_month_factors"]) == 12
    assert 0 < d["regular_change"]["weekly_probability"] < 1
    d["markdown"]["weekly_start_probability"] = 0.5  # a copy: changing it does not leak
    assert default_dynamics()["markdown"]["weekly_start_probability"] < 0.5


def test_params_change_the_dynamics() -> None:
    busy = default_dynamics()
    busy["markdown"]["weekly_start_probability"] = 0.2
    hist = simulate_history(PRODUCTS[:50], end=END, params=busy)
    quiet = simulate_history(PRODUCTS[:50], end=END)
    n_busy = sum(np.count_nonzero(np.diff([p for _, p in o])) for o in hist.values())
    n_quiet = sum(np.count_nonzero(np.diff([p for _, p in o])) for o in quiet.values())
    assert n_busy > 3 * n_quiet
