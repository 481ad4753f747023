"""``shopassist bench load``: simulated shoppers against a real uvicorn server this command starts.

Each shopper (``--concurrency`` of them at once) holds a 6–10-turn conversation drawn from the
scripted journeys (:mod:`assistant.journeys`: search, refine, compare, cart, checkout…) and pauses
1–3 s between turns (seeded), until ``--duration`` seconds have passed; conversations in flight
then finish their current turn.  The server is ``shopassist serve`` on a free 127.0.0.1 port over
the configured data dir (run ``shopassist setup`` first), with the per-IP rate limit lifted: every
shopper comes from 127.0.0.1 here, and the limiter is not what is measured.

Prints one JSON line: ``{"concurrency", "turns", "errors", "throughput", "p50_ms", "p95_ms",
"p99_ms", "rss_mb", …}`` (latency is the client's, per turn, over HTTP).  ``--no-pause`` runs the
shoppers back to back; ``--saturation`` then also runs 1, 2, 4 … shoppers without pauses and adds the
highest turn rate whose p95 stays within the budget (150 ms by default).
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli._common import fail, settings

app = typer.Typer(no_args_is_help=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def _start_server(timeout_s: float = 180) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = _free_port()
    env = {**os.environ, "SHOPASSIST_RATE_LIMIT_PER_IP": "1000000/minute", "SHOPASSIST_LOG_LEVEL": "warning"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"the server exited with {proc.returncode}: {err.strip().splitlines()[-1:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the server did not become healthy in time")


def run_load(
    base: str,
    *,
    concurrency: int,
    duration_s: float,
    seed: int,
    pause: tuple[float, float] | None,
    types: list[str],
    colours: list[str],
) -> dict[str, Any]:
    """Drive ``concurrency`` shoppers against ``base`` for ``duration_s``; latencies per turn."""
    import httpx

    from assistant.journeys import draw_conversation

    latencies: list[float] = []
    errors: list[str] = []
    conversations = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + duration_s

    def shopper(i: int) -> None:
        rng = random.Random(seed * 1_000_003 + i)
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.monotonic() < deadline:
                _, messages = draw_conversation(rng, types=types, colours=colours)
                sid = None
                for message in messages:
                    if time.monotonic() >= deadline:
                        break
                    t0 = time.perf_counter()
                    try:
                        r = client.post("/v1/chat", json={"session_id": sid, "message": message})
                        ok = r.status_code == 200
                        detail = f"HTTP {r.status_code}"
                    except httpx.HTTPError as exc:
                        ok, detail = False, type(exc).__name__
                    took = (time.perf_counter() - t0) * 1000
                    with lock:
                        latencies.append(took)
                        if not ok:
                            errors.append(detail)
                    if not ok:
                        break
                    sid = r.json()["session_id"]
                    if pause:
                        time.sleep(rng.uniform(*pause))
                with lock:
                    conversations[0] += 1

    t_start = time.perf_counter()
    threads = [threading.Thread(target=shopper, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t_start
    return {
        "concurrency": concurrency,
        "turns": len(latencies),
        "errors": len(errors),
        "throughput": round(len(latencies) / wall, 2) if wall else 0.0,
        "p50_ms": _percentile(latencies, 0.50),
        "p95_ms": _percentile(latencies, 0.95),
        "p99_ms": _percentile(latencies, 0.99),
        "conversations": conversations[0],
        "wall_s": round(wall, 1),
        "error_kinds": sorted(set(errors))[:5],
    }


def _catalog_words(base: str) -> tuple[list[str], list[str]]:
    """Product types and colours the served catalog has (facets of an empty search)."""
    import httpx

    from assistant.dialogue._text import plural

    r = httpx.get(f"{base}/v1/products/search", params={"q": "", "limit": 100}, timeout=30)
    products = r.json().get("products", [])
    types = sorted({plural(p["product_type"]) for p in products if p.get("product_type")})
    colours = sorted({p["attributes"]["color"] for p in products if p.get("attributes", {}).get("color")})
    return types or ["products"], colours or ["black"]


@app.command("load")
def bench_load(
    concurrency: Annotated[int, typer.Option(min=1, max=500, help="shoppers at once")] = 20,
    duration: Annotated[float, typer.Option(min=1, max=3600, help="seconds of load")] = 60,
    seed: Annotated[int, typer.Option(help="journeys, turns and pauses are drawn from this")] = 0,
    no_pause: Annotated[bool, typer.Option("--no-pause", help="no 1–3 s think time (saturation)")] = False,
    saturation: Annotated[
        bool,
        typer.Option(
            "--saturation",
            help="then shoppers without pauses at 1, 2, 4 … up to --concurrency, --duration each: the "
            "highest turn rate whose p95 stays within --p95-budget-ms",
        ),
    ] = False,
    p95_budget_ms: Annotated[float, typer.Option(min=1, help="latency budget of --saturation")] = 150,
) -> None:
    """Simulated shoppers against a real server; prints one JSON line."""
    cfg = settings()
    if not Path(cfg.data_dir).is_dir():
        raise fail(f"no data dir {cfg.data_dir}; run `shopassist setup` first")
    try:
        proc, base = _start_server()
    except RuntimeError as exc:
        raise fail(str(exc)) from None
    try:
        types, colours = _catalog_words(base)
        if types == ["products"]:
            raise fail("the served catalog is empty; run `shopassist setup` first")
        result = run_load(
            base,
            concurrency=concurrency,
            duration_s=duration,
            seed=seed,
            pause=None if no_pause else (1.0, 3.0),
            types=types,
            colours=colours,
        )
        result["rss_mb"] = _rss_mb(proc.pid)
        if saturation:
            levels, level = [], 1
            while level <= concurrency:
                step = run_load(
                    base,
                    concurrency=level,
                    duration_s=duration,
                    seed=seed + level,
                    pause=None,
                    types=types,
                    colours=colours,
                )
                levels.append({k: step[k] for k in ("concurrency", "throughput", "p95_ms", "errors")})
                level *= 2
            within = [x for x in levels if x["p95_ms"] <= p95_budget_ms and not x["errors"]]
            result["saturation"] = levels
            result["max_turns_per_s_within_budget"] = max((x["throughput"] for x in within), default=0.0)
            result["p95_budget_ms"] = p95_budget_ms
            result["rss_mb"] = max(result["rss_mb"], _rss_mb(proc.pid))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    typer.echo(json.dumps(result))
