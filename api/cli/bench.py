"""``shopassist bench load``: simulated shoppers against a real uvicorn server this command starts.

Each shopper (``--concurrency`` of them at once) holds a 6–10-turn conversation drawn from the
scripted journeys (:mod:`assistant.journeys`: search, refine, compare, cart, checkout…) and pauses
1–3 s between turns (seeded), until ``--duration`` seconds have passed; conversations in flight
then finish their current turn; shoppers arrive spread over the first 3 s, after one untimed
warm-up conversation.  Like the web widget, after each turn a shopper also reports a
``view`` event per product card shown (``POST /v1/events``), fetches the price history when the
turn gave price advice (``GET /v1/products/{product_id}/price``) and polls its notices every 20 s
(``GET /v1/sessions/{session_id}/notices``); ``--chat-only`` leaves those out.  The server is
``shopassist serve`` on a free 127.0.0.1 port over the configured data dir (run ``shopassist
setup`` first), with the per-IP rate limit lifted: every shopper comes from 127.0.0.1 here, and the
limiter is not what is measured.

Prints one JSON line: ``{"concurrency", "turns", "errors", "throughput", "p50_ms", "p95_ms",
"p99_ms", "rss_mb", …}``.  ``turns``, ``throughput`` (turns/s) and the top-level percentiles are
chat turns only (``POST /v1/chat``, the client's latency over HTTP); ``errors`` counts failed
requests of every endpoint.  ``endpoints`` gives ``n``, ``p50_ms``, ``p95_ms``, ``p99_ms`` and
``errors`` per route template; ``stages`` the per-stage breakdown of the chat turns, from the
timings the server stored with each turn (see :func:`stage_breakdown`).  ``--no-pause`` runs the
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
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
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


CHAT = "POST /v1/chat"
#: how often a shopper polls its notices, as the widget does while it is open
NOTICE_POLL_S = 20.0
#: the turn stages the engine times (``TurnRow.latency_ms`` keys), in the order a turn runs them
STAGES: tuple[tuple[str, str], ...] = (
    ("session load", "session_ms"),
    ("NLU", "nlu_ms"),
    ("retrieval", "retrieval_ms"),
    ("re-rank", "rerank_ms"),
    ("image embed", "image_embed_ms"),
    ("pricing", "pricing_ms"),
    ("policy", "policy_ms"),
    ("persistence", "persist_ms"),
)
#: the part of the server's turn no stage covers (turns stored before ``session_ms`` existed: all of
#: the session's lookup, lock and load)
UNTIMED = "other"


def stage_breakdown(
    turns: Sequence[tuple[float, dict[str, Any], float]], *, outside: str = "persistence"
) -> dict[str, Any]:
    """Per-stage latency of chat turns: ``turns`` are ``(measured ms, TurnRow.latency_ms, TurnRow.total_ms)``.

    ``total_ms`` is taken before the turn row is added and committed, so ``measured − total`` goes to
    ``outside``: the commit in-process (``"persistence"``), or HTTP, queueing and the commit when
    measured by a client.  Per stage: ``n`` (turns that ran it), ``p50_ms`` / ``p95_ms`` over those,
    ``share`` of all measured turn time, and ``share_slowest``, its share in the slowest 5 % of turns
    (at or above the p95), which is what a p95 target is about.  ``dominant``: the stage with the
    largest ``share_slowest``.
    """
    labels = [label for label, _ in STAGES]
    for extra in (UNTIMED, outside):
        if extra not in labels:
            labels.append(extra)
    rows: list[tuple[float, dict[str, float]]] = []
    for measured, latency, total in turns:
        values = {label: float(latency[key]) for label, key in STAGES if key in latency}
        values[UNTIMED] = max(0.0, float(total) - sum(values.values()))
        values[outside] = values.get(outside, 0.0) + max(0.0, float(measured) - float(total))
        rows.append((float(measured), values))
    if not rows:
        return {"n": 0, "stages": {}, "dominant": None}
    cut = _percentile([m for m, _ in rows], 0.95)
    slow = [r for r in rows if r[0] >= cut]
    all_ms = sum(m for m, _ in rows) or 1.0
    slow_ms = sum(m for m, _ in slow) or 1.0
    stages: dict[str, dict[str, Any]] = {}
    for label in labels:
        seen = [v[label] for _, v in rows if label in v]
        if not seen:
            continue
        stages[label] = {
            "n": len(seen),
            "p50_ms": _percentile(seen, 0.50),
            "p95_ms": _percentile(seen, 0.95),
            "share": round(sum(seen) / all_ms, 3),
            "share_slowest": round(sum(v.get(label, 0.0) for _, v in slow) / slow_ms, 3),
        }
    dominant = max(stages, key=lambda k: stages[k]["share_slowest"]) if stages else None
    return {"n": len(rows), "turn_p95_ms": round(cut, 1), "stages": stages, "dominant": dominant}


def _start_server(timeout_s: float = 180) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = _free_port()
    env = {**os.environ, "SHOPASSIST_RATE_LIMIT_PER_IP": "1000000/minute", "SHOPASSIST_LOG_LEVEL": "warning"}
    # a file, not a pipe nobody reads: a pipe that fills up blocks the server (which keeps its own
    # handle on the file once started)
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                log.seek(0)
                last = log.read().decode(errors="replace").strip().splitlines()[-1:]
                raise RuntimeError(f"the server exited with {proc.returncode}: {last}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    return proc, base
            except httpx.HTTPError:
                time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the server did not become healthy in time")


def _summary(values: list[float], errors: int) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50_ms": _percentile(values, 0.50),
        "p95_ms": _percentile(values, 0.95),
        "p99_ms": _percentile(values, 0.99),
        "errors": errors,
    }


def run_load(
    base: str,
    *,
    concurrency: int,
    duration_s: float,
    seed: int,
    pause: tuple[float, float] | None,
    types: list[str],
    colours: list[str],
    widget: bool = True,
) -> dict[str, Any]:
    """Drive ``concurrency`` shoppers against ``base`` for ``duration_s``; latencies per request.

    Besides the summary, ``"_turns"`` holds ``(ms, turn_id)`` of every answered chat turn (for
    :func:`server_stages`) and ``"_sessions"`` the session ids the shoppers used (to be marked
    simulated); the caller drops both before printing.
    """
    import httpx

    from assistant.journeys import draw_conversation

    latencies: dict[str, list[float]] = defaultdict(list)
    failures: dict[str, list[str]] = defaultdict(list)
    answered: list[tuple[float, str]] = []
    sessions: set[str] = set()
    conversations = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + duration_s

    def call(
        client: httpx.Client, route: str, method: str, path: str, **kw: Any
    ) -> tuple[httpx.Response | None, float]:
        """One request, timed and counted under ``route``; the response (None when it failed) and ms."""
        t0 = time.perf_counter()
        try:
            got = client.request(method, path, **kw)
            r: httpx.Response | None = got
            ok, detail = got.status_code < 400, f"{route}: HTTP {got.status_code}"
        except httpx.HTTPError as exc:
            r, ok, detail = None, False, f"{route}: {type(exc).__name__}"
        took = (time.perf_counter() - t0) * 1000
        with lock:
            latencies[route].append(took)
            if not ok:
                failures[route].append(detail)
        return (r if ok else None), took

    def follow_up(client: httpx.Client, sid: str, body: dict[str, Any]) -> None:
        """What the widget requests after rendering a turn."""
        for p in body.get("products") or []:
            call(
                client,
                "POST /v1/events",
                "POST",
                "/v1/events",
                json={"session_id": sid, "type": "view", "product_id": p["id"]},
            )
        advice = body.get("price_advice") or {}
        if advice.get("product_id"):
            pid = str(advice["product_id"])
            call(client, "GET /v1/products/{product_id}/price", "GET", f"/v1/products/{pid}/price")

    def shopper(i: int) -> None:
        rng = random.Random(seed * 1_000_003 + i)
        if pause:  # shoppers arrive spread over one think time, not all in the same millisecond
            time.sleep(rng.uniform(0, pause[1]))
        last_poll = time.monotonic()
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.monotonic() < deadline:
                _, messages = draw_conversation(rng, types=types, colours=colours)
                sid = None
                for message in messages:
                    if time.monotonic() >= deadline:
                        break
                    r, took = call(
                        client, CHAT, "POST", "/v1/chat", json={"session_id": sid, "message": message}
                    )
                    if r is None:
                        break
                    body = r.json()
                    sid = body["session_id"]
                    with lock:
                        answered.append((took, str(body.get("turn_id", ""))))
                        sessions.add(sid)
                    if widget:
                        follow_up(client, sid, body)
                        if time.monotonic() - last_poll >= NOTICE_POLL_S:
                            last_poll = time.monotonic()
                            call(
                                client,
                                "GET /v1/sessions/{session_id}/notices",
                                "GET",
                                f"/v1/sessions/{sid}/notices",
                            )
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
    turns = latencies.get(CHAT, [])
    errors = [e for route in failures for e in failures[route]]
    n_requests = sum(len(v) for v in latencies.values())
    return {
        "concurrency": concurrency,
        "turns": len(turns),
        "errors": len(errors),
        "throughput": round(len(turns) / wall, 2) if wall else 0.0,
        "p50_ms": _percentile(turns, 0.50),
        "p95_ms": _percentile(turns, 0.95),
        "p99_ms": _percentile(turns, 0.99),
        "requests": n_requests,
        "requests_per_s": round(n_requests / wall, 2) if wall else 0.0,
        "endpoints": {
            route: _summary(latencies[route], len(failures.get(route, [])))
            for route in sorted(latencies, key=lambda k: (k != CHAT, k))
        },
        "conversations": conversations[0],
        "wall_s": round(wall, 1),
        "error_kinds": sorted(set(errors))[:5],
        "_turns": answered,
        "_sessions": sessions,
    }


def server_stages(turns: list[tuple[float, str]]) -> dict[str, Any] | None:
    """:func:`stage_breakdown` of answered chat turns, from the timings the server stored with them."""
    from sqlalchemy import select

    from assistant.db import Database
    from assistant.models import TurnRow

    measured = {tid: ms for ms, tid in turns if tid}
    if not measured:
        return None
    db = Database(settings().resolved_database_url, run_migrations=False)
    try:
        stored: list[tuple[float, dict[str, Any], float]] = []
        ids = sorted(measured)
        with db.session() as s:
            for start in range(0, len(ids), 500):
                q = select(TurnRow.id, TurnRow.latency_ms, TurnRow.total_ms).where(
                    TurnRow.id.in_(ids[start : start + 500])
                )
                stored += [(measured[tid], dict(lat or {}), float(total)) for tid, lat, total in s.execute(q)]
    finally:
        db.dispose()
    return stage_breakdown(stored, outside="HTTP, queueing, commit")


def warm_up(base: str, *, types: list[str], colours: list[str]) -> str | None:
    """One untimed conversation, so that one-off first-call costs (lazy model loads, connection
    pools, caches) are not charged to the first shoppers; returns its session id."""
    import httpx

    from assistant.journeys import draw_conversation

    _, messages = draw_conversation(random.Random(-1), types=types, colours=colours)
    sid = None
    with httpx.Client(base_url=base, timeout=60) as client:
        for message in messages:
            r = client.post("/v1/chat", json={"session_id": sid, "message": message})
            if r.status_code != 200:
                break
            sid = r.json()["session_id"]
    return sid


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
    chat_only: Annotated[
        bool,
        typer.Option(
            "--chat-only",
            help="only chat turns: no widget requests (product view events, price history, notice polls)",
        ),
    ] = False,
) -> None:
    """Simulated shoppers against a real server; prints one JSON line."""
    cfg = settings()
    if not Path(cfg.data_dir).is_dir():
        raise fail(f"no data dir {cfg.data_dir}; run `shopassist setup` first")
    try:
        proc, base = _start_server()
    except RuntimeError as exc:
        raise fail(str(exc)) from None
    driven: set[str] = set()  # every session the shoppers used: marked simulated afterwards
    try:
        types, colours = _catalog_words(base)
        if types == ["products"]:
            raise fail("the served catalog is empty; run `shopassist setup` first")
        driven.add(warm_up(base, types=types, colours=colours) or "")
        result = run_load(
            base,
            concurrency=concurrency,
            duration_s=duration,
            seed=seed,
            pause=None if no_pause else (1.0, 3.0),
            types=types,
            colours=colours,
            widget=not chat_only,
        )
        result["rss_mb"] = _rss_mb(proc.pid)
        driven |= result.pop("_sessions")
        answered = result.pop("_turns")
        try:
            result["stages"] = server_stages(answered)
        except Exception as exc:  # the breakdown is extra: a database it cannot read leaves it out
            result["stages"] = None
            typer.echo(f"warning: no per-stage breakdown ({type(exc).__name__}: {exc})", err=True)
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
                    widget=not chat_only,
                )
                driven |= step["_sessions"]
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
        driven.discard("")
        marked = _mark_simulated(driven)
    result["simulated_sessions"] = marked
    typer.echo(json.dumps(result))


def _mark_simulated(session_ids: set[str]) -> int:
    """Label the load test's sessions ``simulated`` (see :func:`assistant.behaviour.mark_simulated`);
    a database it cannot write is a warning, not a failed benchmark."""
    if not session_ids:
        return 0
    from assistant.behaviour.logs import mark_simulated
    from assistant.db import Database

    try:
        db = Database(settings().resolved_database_url, run_migrations=False)
        try:
            with db.session() as s:
                return mark_simulated(s, session_ids)
        finally:
            db.dispose()
    except Exception as exc:
        typer.echo(
            f"warning: {len(session_ids)} load-test sessions stay labelled web ({type(exc).__name__}: {exc})",
            err=True,
        )
        return 0
