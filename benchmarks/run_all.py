"""`make bench`: run every benchmark in this folder, keep their JSON lines, write a readable report.

    python benchmarks/run_all.py                      # every step (~35-50 min on the idle 2 cores)
    python benchmarks/run_all.py --only load,chat     # some steps (keys or full names), merged into
                                                      # the saved results
    python benchmarks/run_all.py --report-only        # RESULTS.md again from the saved results

Raw results: benchmarks/out/results.json (per step: command, exit status, seconds, when, the load
average when it started, and the JSON lines it printed).  Report: benchmarks/RESULTS.md (the
machine, then Load, Per-stage breakdown, Ingest vs raw encoder, Quality and the other steps;
every table names the command that produced it).  Steps that need ../shared/data are skipped
(and the report says so) when their data is absent; a step that fails is reported, and the
others still run.  The chat and load steps need `shopassist setup` (the first step).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PY = sys.executable
OUT = HERE / "out"
RESULTS_JSON = OUT / "results.json"
REPORT = HERE / "RESULTS.md"

SHARED = REPO.parent / "shared" / "data"
#: the must-show target of the load test (issue #10)
TARGET_SHOPPERS = 20
TARGET_P95_MS = 150.0


def _rel(path: Path) -> str:
    """A path as the commands show it: relative to the repository (the steps run there)."""
    return os.path.relpath(path, REPO)


def _q(path: Path) -> str:
    return shlex.quote(_rel(path))


def _a(command: str) -> tuple[str, ...]:
    """A command line's words (after the interpreter)."""
    return tuple(shlex.split(command))


@dataclass(frozen=True)
class Step:
    key: str
    name: str
    args: tuple[str, ...]  # after the interpreter
    #: a file or folder under ../shared/data the step reads; absent → the step is skipped
    needs: Path | None = None


def steps(*, chat_turns: int = 300, load_duration: int = 60) -> list[Step]:
    hd, m5, fashion = SHARED / "home-depot", SHARED / "prices", SHARED / "fashion-small"
    styles, beauty = fashion / "styles_all.csv", SHARED / "amazon-beauty" / "Beauty.txt"
    m5_args = (
        f"--history {_q(m5 / 'm5_sell_prices_CA_1.csv')} --format m5 --calendar {_q(m5 / 'm5_calendar.csv')}"
    )
    load_args = f"--concurrency {TARGET_SHOPPERS} --duration {load_duration} --saturation"
    return [
        Step("setup", "setup", _a("-m api setup")),
        Step("nlu", "nlu dev set", _a("-m api eval nlu tests/data/nlu_dev.jsonl")),
        Step("chat", "chat turn latency", _a(f"benchmarks/chat_latency.py --turns {chat_turns}")),
        Step("load", f"load test, {TARGET_SHOPPERS} shoppers", _a(f"-m api bench load {load_args}")),
        Step("ingest", "ingest vs raw encode", _a("benchmarks/ingest_throughput.py")),
        Step(
            "filtered",
            "filtered search, 44k fashion products",
            _a(f"benchmarks/filtered_search.py --styles {_q(styles)}"),
            styles,
        ),
        Step(
            "retrieval",
            "retrieval quality, Home Depot",
            _a("benchmarks/retrieval_table.py"),
            hd / "products.tsv",
        ),
        Step("fusion", "fusion tuning, Home Depot", _a("benchmarks/fusion_tuning.py"), hd / "products.tsv"),
        Step(
            "ingest-fashion",
            "ingest vs raw encode, 44k fashion products",
            _a(f"benchmarks/ingest_throughput.py --fashion {_q(styles)}"),
            styles,
        ),
        Step(
            "pricing",
            "price forecaster backtest, M5 CA_1",
            _a(f"-m api eval pricing {m5_args}"),
            m5 / "m5_sell_prices_CA_1.csv",
        ),
        Step(
            "vision",
            "image matching, fashion-small 80/20",
            _a("benchmarks/vision_holdout.py"),
            fashion / "catalog.csv",
        ),
        Step("abandonment", "abandonment model vs baseline, simulated", _a("benchmarks/abandonment.py")),
        Step(
            "recommender",
            "sequential recommender, Amazon Beauty",
            _a("benchmarks/recommender_beauty.py"),
            beauty,
        ),
    ]


# ---------------------------------------------------------------------------------------- machine
def machine() -> dict[str, Any]:
    """What the report's header says about the machine (read at run time)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    try:
        torch = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch = None
    return {
        "cpu": cpu,
        "cores_usable": len(os.sched_getaffinity(0)),
        "cores_total": os.cpu_count(),
        "ram_gib": ram_gib,
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "torch": torch,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


# ---------------------------------------------------------------------------------------- running
def display(args: Sequence[str]) -> str:
    """The command as a reader runs it: ``shopassist …`` for the CLI, ``python …`` for scripts."""
    if list(args[:2]) == ["-m", "api"]:
        return " ".join(["shopassist", *map(shlex.quote, args[2:])])
    return " ".join(["python", *map(shlex.quote, args)])


def run_step(step: Step) -> dict[str, Any]:
    record: dict[str, Any] = {
        "key": step.key,
        "command": display(step.args),
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    if step.needs is not None and not step.needs.exists():
        return {**record, "status": "skipped", "reason": f"{_rel(step.needs)} is not here", "output": []}
    t0 = time.perf_counter()
    proc = subprocess.run([PY, *step.args], cwd=REPO, capture_output=True, text=True)
    took = time.perf_counter() - t0
    output: list[Any] = []
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            with contextlib.suppress(json.JSONDecodeError):
                output.append(json.loads(line))
    err_tail = proc.stderr.strip().splitlines()[-5:]
    if proc.returncode != 0:
        status = "failed"
    elif not output and any(ln.startswith("skip") for ln in err_tail):
        status = "skipped"
    else:
        status = "ok"
    record.update(status=status, rc=proc.returncode, seconds=round(took, 1), output=output)
    if status != "ok":
        record["reason"] = err_tail[-1] if err_tail else f"exit {proc.returncode}"
        record["stderr_tail"] = err_tail
    return record


def load_results(path: Path | None = None) -> dict[str, Any]:
    """The saved results (``benchmarks/out/results.json``); the older flat layout ({name: step}) is
    read as steps."""
    path = path or RESULTS_JSON
    if not path.is_file():
        return {"machine": None, "steps": {}}
    data: dict[str, Any] = json.loads(path.read_text())
    if "steps" not in data:
        data = {"machine": None, "steps": data}
    keys = {s.name: s.key for s in steps()}
    for name, rec in data["steps"].items():
        rec.setdefault("key", keys.get(name, name))
    return data


# ---------------------------------------------------------------------------------------- report
def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out + [""]


def _step(results: dict[str, Any], key: str) -> dict[str, Any] | None:
    for name, rec in results.get("steps", {}).items():
        if rec.get("key") == key or name == key:
            return dict(rec, name=name)
    return None


def _command(results: dict[str, Any], key: str) -> str:
    """The step's command as it ran, or as `make bench` would run it."""
    rec = _step(results, key)
    if rec is not None and rec.get("command"):
        return f"`{rec['command']}`"
    step = next((s for s in steps() if s.key == key), None)
    return f"`{display(step.args)}`" if step else "–"


def _state(rec: dict[str, Any] | None) -> str | None:
    """None when the step ran fine, else a short phrase saying why there is nothing to show."""
    if rec is None:
        return "not run"
    if rec.get("status") == "skipped":
        return f"skipped: {rec.get('reason', '')}".strip(": ")
    if rec.get("status") == "failed" or rec.get("rc"):
        return f"failed (exit {rec.get('rc')}): {rec.get('reason', '')}".strip(": ")
    if not rec.get("output"):
        return "no output"
    return None


def _line(rec: dict[str, Any] | None, **match: Any) -> dict[str, Any] | None:
    """The last JSON line of a step whose keys have the given values (any line when none given)."""
    if rec is None:
        return None
    for row in reversed(rec.get("output") or []):
        if isinstance(row, dict) and all(row.get(k) == v for k, v in match.items()):
            return row
    return None


def _load_line(results: dict[str, Any]) -> dict[str, Any] | None:
    rec = _step(results, "load")
    return None if _state(rec) else _line(rec)


def _top_stage(stages: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The stage with the largest share of the slowest 5 % of turns."""
    if not stages:
        return None
    name = max(stages, key=lambda k: stages[k].get("share_slowest", 0.0))
    return name, stages[name]


def verdict(results: dict[str, Any]) -> str:
    """The must-show line: 20 shoppers, 0 errors and chat-turn p95 ≤ 150 ms, met or missed and why."""
    rec = _step(results, "load")
    why_not = _state(rec)
    load = _load_line(results)
    if why_not or load is None:
        return f"**Target not measured**: the load test was {why_not or 'without a result line'}."
    shoppers, errors, p95 = load.get("concurrency"), load.get("errors", 0), float(load.get("p95_ms", 0.0))
    facts = f"{shoppers} shoppers, {errors} errors, chat-turn p95 {p95:.1f} ms"
    if shoppers != TARGET_SHOPPERS:
        return f"**Target not measured**: the load test ran {facts}, not {TARGET_SHOPPERS} shoppers."
    if errors == 0 and p95 <= TARGET_P95_MS:
        return f"**Target met**: {facts} (≤ {TARGET_P95_MS:.0f} ms)."
    reasons = []
    if errors:
        kinds = ", ".join(load.get("error_kinds") or []) or "see error_kinds"
        reasons.append(f"{errors} errors ({kinds})")
    if p95 > TARGET_P95_MS:
        reasons.append(f"p95 {p95:.1f} ms > {TARGET_P95_MS:.0f} ms")
    line = f"**Target missed**: {facts}: {'; '.join(reasons)}."
    if p95 > TARGET_P95_MS:
        source, breakdown = "server-side timings of the load test's turns", load.get("stages") or {}
        if not breakdown.get("stages"):
            source = "in-process chat benchmark"
            breakdown = _line(_step(results, "chat"), turns="stages") or {}
        top = _top_stage(breakdown.get("stages") or {})
        if top is None:
            line += " No per-stage breakdown was recorded."
        else:
            name, st = top
            line += (
                f" Dominant stage: **{name}**, {100 * st['share_slowest']:.0f} % of the slowest 5 % of turns"
                f" (p95 {_f(st.get('p95_ms'))} ms; {source})"
            )
            inside = {k: v for k, v in breakdown["stages"].items() if k != "HTTP, queueing, commit"}
            if name == "HTTP, queueing, commit" and (nxt := _top_stage(inside)) is not None:
                line += f"; in the server, **{nxt[0]}** ({100 * nxt[1]['share_slowest']:.0f} %)"
            line += "."
    return line


def _cells(row: dict[str, Any], *keys: str | tuple[str, int]) -> list[str]:
    """Table cells of ``row``'s values: a key, or (key, digits)."""
    return [_f(row.get(k)) if isinstance(k, str) else _f(row.get(k[0]), k[1]) for k in keys]


def _pct(value: Any) -> str:
    return f"{100 * float(value or 0):.0f} %"


def _stage_rows(stages: dict[str, Any]) -> list[list[str]]:
    return [
        [name, *_cells(st, "n", "p50_ms", "p95_ms"), _pct(st.get("share")), _pct(st.get("share_slowest"))]
        for name, st in stages.items()
        if name != "other" or float(st.get("p95_ms") or 0) >= 0.1
    ]


STAGE_HEADERS = ["stage", "turns", "p50 ms", "p95 ms", "share of turn time", "share in slowest 5 %"]


def _section_load(results: dict[str, Any]) -> list[str]:
    rec = _step(results, "load")
    out = [f"## Load ({TARGET_SHOPPERS} shoppers)", "", verdict(results), ""]
    if rec is not None:
        started = f"{rec.get('started', '')}, load average {_f(rec.get('load_avg_1m'), 2)} at the start"
        out += [f"`{rec['command']}` — {started}.", ""]
    load = _load_line(results)
    if load is None:
        return out
    out += [
        "Simulated shoppers (seeded journeys from `assistant/journeys.py`, 1–3 s pauses, plus the requests "
        "the widget makes after each turn) against a real `shopassist serve` on the same cores; latency is "
        "the client's over HTTP. Turn figures are chat turns (`POST /v1/chat`); errors count every request.",
        "",
    ]
    head = "shoppers|seconds|conversations|chat turns|turns/s|requests/s|errors|chat p50 ms|chat p95 ms|"
    head += "chat p99 ms|server RSS MB"
    cells = _cells(load, "concurrency", "wall_s", "conversations", "turns", ("throughput", 2))
    cells += _cells(load, ("requests_per_s", 2), "errors", "p50_ms")
    cells += [f"**{_f(load.get('p95_ms'))}**", *_cells(load, "p99_ms", "rss_mb")]
    out += _table(head.split("|"), [cells])
    endpoints = load.get("endpoints") or {}
    if endpoints:
        out += ["Per endpoint:", ""]
        out += _table(
            ["endpoint", "requests", "p50 ms", "p95 ms", "p99 ms", "errors"],
            [
                [f"`{route}`", *_cells(e, "n", "p50_ms", "p95_ms", "p99_ms", "errors")]
                for route, e in endpoints.items()
            ],
        )
    if load.get("error_kinds"):
        out += ["Errors: " + ", ".join(f"`{k}`" for k in load["error_kinds"]), ""]
    levels = load.get("saturation") or []
    if levels:
        budget = float(load.get("p95_budget_ms", TARGET_P95_MS))
        out += ["Saturation (shoppers without pauses, each level as long as the run above):", ""]
        out += _table(
            ["shoppers", "turns/s", "chat p95 ms", "errors", f"p95 ≤ {budget:.0f} ms"],
            [
                [*_cells(x, "concurrency", ("throughput", 2), "p95_ms", "errors"),
                 "yes" if float(x.get("p95_ms", 0)) <= budget and not x.get("errors") else "no"]
                for x in levels
            ],
        )  # fmt: skip
        best = _f(load.get("max_turns_per_s_within_budget"), 2)
        out += [f"Highest turn rate with p95 ≤ {budget:.0f} ms and no errors: **{best} turns/s**.", ""]
    stages = (load.get("stages") or {}).get("stages") or {}
    if stages:
        out += [
            "Where the load test's chat turns spent their time (the timings the server stored with each "
            "turn; `HTTP, queueing, commit` = the client's latency minus the server's turn time):",
            "",
        ]
        out += _table(STAGE_HEADERS, _stage_rows(stages))
    return out


def _section_stages(results: dict[str, Any]) -> list[str]:
    rec = _step(results, "chat")
    out = ["## Per-stage breakdown", ""]
    if (why := _state(rec)) is not None or rec is None:
        return out + [f"Chat turn latency: {why}.", ""]
    out += [
        f"`{rec['command']}` — in-process turns (no HTTP) on the demo catalog with the real MiniLM index, "
        "NLU model, re-ranker and price models, one at a time; each simulated shopper searches, refines "
        f"twice, asks about a price and adds to the cart. {rec.get('started', '')}, load average "
        f"{_f(rec.get('load_avg_1m'), 2)} at the start.",
        "",
    ]
    kinds = [r for r in rec["output"] if r.get("turns") not in (None, "stages")]
    out += _table(
        ["turns", "n", "p50 ms", "p95 ms", "max ms"],
        [[r["turns"], *_cells(r, "n", "p50_ms", "p95_ms", "max_ms")] for r in kinds],
    )
    breakdown = _line(rec, turns="stages") or {}
    if breakdown.get("stages"):
        out += [
            "Stages (p50/p95 over the turns that ran the stage; shares of all turn time, and of the slowest "
            "5 % of turns; persistence includes the commit):",
            "",
        ]
        out += _table(STAGE_HEADERS, _stage_rows(breakdown["stages"]))
    return out


def _section_ingest(results: dict[str, Any]) -> list[str]:
    out = ["## Ingest vs raw encoder", ""]
    out += [
        "Ingest (read, validate, SQLite, price history, Chroma, BM25, snapshot) against the raw MiniLM "
        "encode rate of the same texts, measured in the same run (before and after the ingest).",
        "",
    ]
    rows = []
    for key, data in (("ingest", "demo catalog"), ("ingest-fashion", "44k fashion products")):
        rec = _step(results, key)
        line = _line(rec)
        command = _command(results, key)
        if (why := _state(rec)) is not None or line is None:
            rows.append([data, why or "no output", "", "", "", "", "", command])
            continue
        cells = _cells(line, "products", "ingest_per_s", "raw_encode_per_s")
        cells += [
            f"**{_f(line.get('ratio'), 3)}**",
            *_cells(line, ("ratio_per_encoded_text", 3), "ingest_wall_s"),
        ]
        rows.append([data, *cells, command])
    head = (
        "catalog|products|ingest products/s|raw encode texts/s|ratio|ratio per encoded text|ingest s|command"
    )
    return out + _table(head.split("|"), rows)


def _quality_rows(results: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []

    def add(
        capability: str,
        key: str,
        metrics: str,
        build: Any,
        data: str,
        *,
        size: str = "",
        match: dict[str, Any] | None = None,
    ) -> None:
        """One row; ``size`` is appended to ``data`` with the result line's values ({n_queries}…)."""
        rec = _step(results, key)
        why = _state(rec)
        line = None if why else _line(rec, **(match or {}))
        command = _command(results, key)
        if rec is None or why or line is None:
            rows.append([capability, metrics, why or "no matching output", data, command])
            return
        with contextlib.suppress(KeyError, ValueError):
            data += size.format_map({k: _f(v) for k, v in line.items()})
        rows.append([capability, metrics, build(line, rec), data, command])

    def retrieval(line: dict[str, Any], rec: dict[str, Any]) -> str:
        value = f"**{line['ndcg@10']:.4f}** / {line['mrr@10']:.4f} / {line['recall@100']:.4f}"
        others = [r for r in rec["output"] if r.get("pool") == "all" and r.get("mode") != "hybrid"]
        if others:
            value += " (" + ", ".join(f"{r['mode']} {r['ndcg@10']:.4f}" for r in others) + ")"
        return value

    add(
        "retrieval",
        "retrieval",
        "nDCG@10 / MRR@10 / Recall@100, hybrid, full pool (others: nDCG@10)",
        retrieval,
        "Home Depot (`../shared/data/home-depot`), 54,667 products",
        size=", {n_queries} queries",
        match={"mode": "hybrid", "pool": "all"},
    )
    add(
        "NLU",
        "nlu",
        "intent accuracy / slot F1 / p95 ms",
        lambda r, _: f"**{r['intent_accuracy']:.3f}** / **{r['slot_f1']:.3f}** / {_f(r.get('p95_ms'))}",
        "`tests/data/nlu_dev.jsonl` (hand-written dev set)",
        size=", {n} messages",
    )

    def recommender(line: dict[str, Any], rec: dict[str, Any]) -> str:
        parts = [
            f"{r['model']} {r['recall@10']:.4f} / {r['ndcg@10']:.4f}" for r in rec["output"] if "model" in r
        ]
        return " · ".join(parts) if parts else "no output"

    add(
        "recommender",
        "recommender",
        "Recall@10 / NDCG@10, full ranking, leave-one-out",
        recommender,
        "Amazon Beauty (`../shared/data/amazon-beauty`), 12,101 items",
        size=", {n_users} users",
    )

    def pricing(line: dict[str, Any], rec: dict[str, Any]) -> str:
        value = (
            f"{line['model']} (chosen): MAE@4 {_f(line.get('mae@4'), 4)} / coverage@4 "
            f"{_f(line.get('coverage@4'), 3)} (randomised at today's price; closed interval "
            f"{_f(line.get('coverage_closed@4'), 3)}) / drop AUC **{_f(line.get('drop_auc'), 3)}**"
        )
        naive = next((r for r in rec["output"] if r.get("model") == "naive" and not r.get("chosen")), None)
        if naive:
            value += f" (naive: drop AUC {_f(naive.get('drop_auc'), 3)})"
        return value

    add(
        "pricing",
        "pricing",
        "forecast MAE@4 weeks / 80 % interval coverage / ≥ 5 % drop AUC",
        pricing,
        "Walmart M5 shelf prices, store CA_1, rolling-origin backtest",
        match={"chosen": True},
    )

    def vision(line: dict[str, Any], rec: dict[str, Any]) -> str:
        value = f"**{line['p@1']:.3f}** / **{line['p@5']:.3f}** / {line['map']:.3f}"
        others = [r for r in rec["output"] if r.get("embedder") not in (None, line["embedder"])]
        if others:
            value += (
                " (" + ", ".join(f"{r['embedder']} {r['p@1']:.3f} / {r['p@5']:.3f}" for r in others) + ")"
            )
        return value

    add(
        "vision",
        "vision",
        "P@1 / P@5 (article type) / mAP, cnn-finetuned (others: P@1 / P@5)",
        vision,
        "fashion-small (`../shared/data/fashion-small`), 80/20 split by article type",
        size=": {n_queries} held-out photos ranked against {n_gallery}",
        match={"embedder": "cnn-finetuned"},
    )
    return rows


def _section_quality(results: dict[str, Any]) -> list[str]:
    out = ["## Quality", ""]
    out += _table(("capability", "metric(s)", "value", "data", "reproduce"), _quality_rows(results))
    return out


#: steps whose output the sections above already show
SHOWN = {"load", "chat", "ingest", "ingest-fashion", "retrieval", "nlu", "recommender", "pricing", "vision"}


def _section_other(results: dict[str, Any]) -> list[str]:
    others = {name: rec for name, rec in results.get("steps", {}).items() if rec.get("key") not in SHOWN}
    if not others:
        return []
    out = ["## Other steps", ""]
    for name, rec in others.items():
        out += [f"### {name}", "", f"`{rec.get('command', '')}`", ""]
        why = _state(rec)
        if why:
            out += [why, ""]
        elif rec.get("output"):
            out += ["```", *(json.dumps(r) for r in rec["output"]), "```", ""]
    return out


def _section_steps(results: dict[str, Any]) -> list[str]:
    rows = []
    for name, rec in results.get("steps", {}).items():
        status = rec.get("status", "ok" if not rec.get("rc") else "failed")
        if status != "ok" and rec.get("reason"):
            status += f": {rec['reason']}"
        rows.append(
            [
                name,
                status,
                _f(rec.get("seconds")),
                rec.get("started", "–"),
                _f(rec.get("load_avg_1m"), 2),
                f"`{rec.get('command', '')}`",
            ]
        )
    return ["## Steps", "", *_table(("step", "status", "seconds", "started", "load avg", "command"), rows)]


def render_report(results: dict[str, Any]) -> str:
    m = results.get("machine") or {}
    header = [
        "# Benchmark results",
        "",
        "Produced by `make bench` (`python benchmarks/run_all.py`); raw results in "
        "`benchmarks/out/results.json`; `python benchmarks/run_all.py --report-only` rewrites this file "
        "from them.",
        "",
    ]
    if m:
        header += [
            f"**Machine**: {m.get('cpu')}, {m.get('cores_usable')} cores usable (of {m.get('cores_total')}), "
            f"{_f(m.get('ram_gib'))} GiB RAM, no GPU used; {m.get('os')}; Python {m.get('python')}, "
            f"torch {m.get('torch') or '–'}. Last run {m.get('date')}. The cores may be shared with other "
            "jobs: each step records the load average when it started.",
            "",
        ]
    sections = (
        _section_load,
        _section_stages,
        _section_ingest,
        _section_quality,
        _section_other,
        _section_steps,
    )
    lines = header
    for section in sections:
        lines += section(results)
    return "\n".join(lines).rstrip() + "\n"


def write_report(results: dict[str, Any]) -> None:
    REPORT.write_text(render_report(results), encoding="utf-8")


# ---------------------------------------------------------------------------------------- main
def select(all_steps: list[Step], only: str | None) -> list[Step]:
    """The steps ``--only`` names: keys or full names, comma-separated (a full name may hold commas)."""
    if not only:
        return all_steps
    by_name = {s.name: s for s in all_steps} | {s.key: s for s in all_steps}
    if only in by_name:
        return [by_name[only]]
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in by_name]
    if unknown:
        keys = ", ".join(s.key for s in all_steps)
        raise SystemExit(f"unknown step {', '.join(map(repr, unknown))}; steps: {keys} (or their full names)")
    chosen = {by_name[w].key for w in wanted}
    return [s for s in all_steps if s.key in chosen]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="run only these steps (keys or names, comma-separated); keeps the rest")
    ap.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md from results.json")
    ap.add_argument("--chat-turns", type=int, default=300, help="turns of the chat latency step")
    ap.add_argument("--load-duration", type=int, default=60, help="seconds of each load test level")
    args = ap.parse_args(argv)
    results = load_results()
    if args.report_only:
        if not results["steps"]:
            print(f"no results in {RESULTS_JSON}; run the benchmarks first", file=sys.stderr)
            return 1
        write_report(results)
        print(f"wrote {REPORT}")
        return 0
    chosen = select(steps(chat_turns=args.chat_turns, load_duration=args.load_duration), args.only)
    if not args.only:
        results = {"machine": None, "steps": {}}
    results["machine"] = machine()
    OUT.mkdir(exist_ok=True)
    failed = 0
    for step in chosen:
        print(f"{step.name}: running `{display(step.args)}`", flush=True)
        rec = run_step(step)
        results["steps"][step.name] = rec
        # keep the steps in their run order, whatever was merged before
        order = [s.name for s in steps()]
        results["steps"] = dict(
            sorted(
                results["steps"].items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)
            )
        )
        RESULTS_JSON.write_text(json.dumps(results, indent=1))
        write_report(results)
        print(f"{step.name}: {rec['status']} in {rec.get('seconds', 0):.0f} s", flush=True)
        failed += rec["status"] == "failed"
    print(f"wrote {_rel(RESULTS_JSON)} and {_rel(REPORT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
