"""Latency of chat turns on the demo catalog: whole turn and per stage.

Usage: python benchmarks/chat_latency.py [--turns 200]
Runs against the data dir of `make run` (SHOPASSIST_DATA_DIR, default var/; run `shopassist setup`
first): real MiniLM, real NLU model, SQLite, Chroma.  Each simulated shopper runs a seeded
search → refine → refine → "is the first one a good price?" → "add it to my cart" journey, so that
every stage a turn can have runs; every turn goes through `Assistant.turn()` in-process (no HTTP).
Prints one JSON line each for search, free-text search, price-advice, add-to-cart and all turns,
then one ``{"turns": "stages", …}`` line: per stage (session load, NLU, retrieval, re-rank,
pricing, policy, persistence incl. the commit) p50/p95 over the turns that ran it and its share of
all turn time and of the slowest 5 % (`api.cli.bench.stage_breakdown`).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.cli._common import quiet_libraries  # noqa: E402
from api.cli.bench import stage_breakdown  # noqa: E402
from assistant.config import get_settings  # noqa: E402
from assistant.runtime import Runtime  # noqa: E402

TYPES = ["watches", "t-shirts", "jeans", "handbags", "sports shoes", "sunglasses", "kurtas", "backpacks",
         "wallets", "dresses", "heels", "belts", "shirts", "perfume", "socks"]  # fmt: skip
COLOURS = ["black", "blue", "white", "red", "brown", "grey", "green", "pink"]
OPENERS = [
    "show me {c} {t}",
    "i need {t} under {p} dollars",
    "{c} {t} for men",
    "looking for {t}",
    "any {c} {t}?",
]
#: free text that names no catalog value: these take the encoder + hybrid search path
FREE_TEXT = [
    "something elegant for a wedding",
    "running sneakers",
    "a gift for my dad",
    "comfy summer wear",
    "waterproof hiking gear",
    "party outfit ideas",
]
REFINES = ["actually under {p}", "what about {c}", "cheapest first", "show me more", "only for women"]
#: after the search: a price question (the pricing stage) and a cart add, about a product on the page
PRICE_QUESTIONS = [
    "is the {n} one a good price?",
    "will the {n} one get cheaper?",
    "should i buy the {n} one now?",
]
CART_ADDS = ["add the {n} one to my cart", "add it to my cart", "put the {n} one in my cart"]
ORDINALS = ["first", "second", "third"]
#: turns per simulated conversation: opener, two refinements, price question, cart add
CONVERSATION = 5


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    quiet_libraries()
    settings = get_settings()
    rt = Runtime(settings)
    if rt.index.n_active == 0 or not (rt.nlu_path / "config.json").is_file():
        print("error: run `shopassist setup` (or `make run`) first", file=sys.stderr)
        return 1
    assistant = rt.assistant
    rng = random.Random(args.seed)
    for text in ("hello", "show me watches"):  # warm-up: first calls pay one-off costs
        assistant.turn(session_id=None, message=text)
    search_ms: list[float] = []
    all_ms: list[float] = []
    free_ms: list[float] = []
    price_ms: list[float] = []
    cart_ms: list[float] = []
    stages: dict[str, list[float]] = {}
    measured: list[tuple[float, dict[str, float], float]] = []
    sid = None
    n = 0
    while n < args.turns:
        free = False
        step = n % CONVERSATION
        if step == 0:
            sid = None
            free = rng.random() < 0.5
            opener = rng.choice(FREE_TEXT if free else OPENERS)
            text = opener.format(t=rng.choice(TYPES), c=rng.choice(COLOURS), p=rng.choice([30, 60, 150]))
        elif step in (1, 2):
            text = rng.choice(REFINES).format(c=rng.choice(COLOURS), p=rng.choice([20, 40, 80]))
        elif step == 3:
            text = rng.choice(PRICE_QUESTIONS).format(n=rng.choice(ORDINALS))
        else:
            text = rng.choice(CART_ADDS).format(n=rng.choice(ORDINALS))
        t0 = time.perf_counter()
        resp = assistant.turn(session_id=sid, message=text)
        ms = (time.perf_counter() - t0) * 1000
        sid = resp.session_id
        all_ms.append(ms)
        if resp.action in ("show_products", "ask_clarification") and resp.intent.name in ("search", "refine"):
            search_ms.append(ms)
        if free:
            free_ms.append(ms)
        if resp.action == "price_advice":
            price_ms.append(ms)
        if resp.intent.name == "add_to_cart":
            cart_ms.append(ms)
        with rt.db.session() as s:
            from sqlalchemy import select

            from assistant.models import TurnRow

            lat, total = s.execute(
                select(TurnRow.latency_ms, TurnRow.total_ms).where(TurnRow.id == resp.turn_id)
            ).one()
        for k, v in lat.items():
            stages.setdefault(k, []).append(float(v))
        measured.append((ms, dict(lat), float(total)))
        n += 1

    def summary(values: list[float]) -> dict[str, float]:
        if not values:
            return {"p50_ms": 0.0, "p95_ms": 0.0, "max_ms": 0.0}
        return {
            "p50_ms": round(float(np.percentile(values, 50)), 1),
            "p95_ms": round(float(np.percentile(values, 95)), 1),
            "max_ms": round(max(values), 1),
        }

    stage_p95 = {k: round(float(np.percentile(v, 95)), 1) for k, v in sorted(stages.items())}
    print(
        json.dumps({"turns": "search", "n": len(search_ms), **summary(search_ms), "stage_p95_ms": stage_p95})
    )
    print(json.dumps({"turns": "free-text search", "n": len(free_ms), **summary(free_ms)}))
    print(json.dumps({"turns": "price advice", "n": len(price_ms), **summary(price_ms)}))
    print(json.dumps({"turns": "add to cart", "n": len(cart_ms), **summary(cart_ms)}))
    print(json.dumps({"turns": "all", "n": len(all_ms), **summary(all_ms)}))
    print(json.dumps({"turns": "stages", **stage_breakdown(measured, outside="persistence")}))
    rt.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
