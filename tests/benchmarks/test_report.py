"""`benchmarks/run_all.py`'s report: rendered from a small fake results dict, no benchmark is run."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load_run_all() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run_all", REPO / "benchmarks" / "run_all.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


run_all = _load_run_all()


def _stage(share_slowest: float, p95: float = 10.0) -> dict[str, Any]:
    return {
        "n": 100,
        "p50_ms": p95 / 3,
        "p95_ms": p95,
        "share": share_slowest,
        "share_slowest": share_slowest,
    }


def _load(**overrides: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "concurrency": 20,
        "turns": 600,
        "errors": 0,
        "throughput": 9.5,
        "p50_ms": 12.0,
        "p95_ms": 48.0,
        "p99_ms": 120.0,
        "rss_mb": 740.0,
        "requests": 2100,
        "requests_per_s": 33.0,
        "endpoints": {
            "POST /v1/chat": {"n": 600, "p50_ms": 12.0, "p95_ms": 48.0, "p99_ms": 120.0, "errors": 0},
            "POST /v1/events": {"n": 1500, "p50_ms": 3.0, "p95_ms": 9.0, "p99_ms": 20.0, "errors": 0},
        },
        "conversations": 80,
        "wall_s": 63.0,
        "error_kinds": [],
        "stages": {
            "n": 600,
            "turn_p95_ms": 48.0,
            "stages": {
                "NLU": _stage(0.1),
                "retrieval": _stage(0.55, 40.0),
                "policy": _stage(0.15),
                "HTTP, queueing, commit": _stage(0.2),
            },
            "dominant": "retrieval",
        },
        "saturation": [
            {"concurrency": 1, "throughput": 100.0, "p95_ms": 14.0, "errors": 0},
            {"concurrency": 2, "throughput": 110.0, "p95_ms": 28.0, "errors": 0},
            {"concurrency": 4, "throughput": 108.0, "p95_ms": 160.0, "errors": 0},
        ],
        "max_turns_per_s_within_budget": 110.0,
        "p95_budget_ms": 150,
    }
    line.update(overrides)
    return line


def _ok(key: str, command: str, *output: dict[str, Any]) -> dict[str, Any]:
    return {"key": key, "command": command, "status": "ok", "rc": 0, "seconds": 1.0, "output": list(output)}


def _results(load: dict[str, Any] | None = None) -> dict[str, Any]:
    chat_stages = {"turns": "stages", "n": 300, "stages": {"NLU": _stage(0.2), "policy": _stage(0.7, 30.0)}}
    return {
        "machine": {
            "cpu": "Test CPU 9000",
            "cores_usable": 2,
            "cores_total": 2,
            "ram_gib": 23.5,
            "os": "Linux",
            "python": "3.11.7",
            "torch": "2.13.0+cpu",
            "date": "2026-01-01 00:00 UTC",
        },
        "steps": {
            "nlu dev set": _ok(
                "nlu",
                "shopassist eval nlu tests/data/nlu_dev.jsonl",
                {"n": 261, "intent_accuracy": 0.977, "slot_f1": 0.967, "p50_ms": 2.2, "p95_ms": 2.9},
            ),
            "chat turn latency": _ok(
                "chat",
                "python benchmarks/chat_latency.py --turns 300",
                {"turns": "search", "n": 180, "p50_ms": 6.6, "p95_ms": 28.7, "max_ms": 60.0},
                {"turns": "all", "n": 300, "p50_ms": 5.0, "p95_ms": 25.0, "max_ms": 60.0},
                chat_stages,
            ),
            "load test, 20 shoppers": _ok(
                "load",
                "shopassist bench load --concurrency 20 --duration 60 --saturation",
                load if load is not None else _load(),
            ),
            "ingest vs raw encode": _ok(
                "ingest",
                "python benchmarks/ingest_throughput.py",
                {
                    "products": 2010,
                    "raw_encode_per_s": 490.0,
                    "ingest_per_s": 370.0,
                    "ratio": 0.755,
                    "ratio_per_encoded_text": 0.74,
                    "ingest_wall_s": 5.4,
                },
            ),  # fmt: skip
            "retrieval quality, Home Depot": _ok(
                "retrieval",
                "python benchmarks/retrieval_table.py",
                {
                    "mode": "bm25",
                    "pool": "all",
                    "n_queries": 9795,
                    "ndcg@10": 0.372,
                    "mrr@10": 0.47,
                    "recall@100": 0.71,
                },
                {
                    "mode": "hybrid",
                    "pool": "all",
                    "n_queries": 9795,
                    "ndcg@10": 0.3917,
                    "mrr@10": 0.5005,
                    "recall@100": 0.7489,
                },
            ),  # fmt: skip
            "price forecaster backtest, M5 CA_1": {
                "key": "pricing",
                "command": "shopassist eval pricing --history x.csv",
                "status": "failed",
                "rc": 1,
                "seconds": 3.0,
                "output": [],
                "reason": "error: boom",
            },
            "image matching, fashion-small 80/20": {
                "key": "vision",
                "command": "python benchmarks/vision_holdout.py",
                "status": "skipped",
                "reason": "../shared/data/fashion-small/catalog.csv is not here",
                "output": [],
            },
            "filtered search, 44k fashion products": _ok(
                "filtered",
                "python benchmarks/filtered_search.py",
                {"products": 44446, "worst_case_p95_ms": {}},
            ),
        },
    }


def test_the_target_met_says_so() -> None:
    line = run_all.verdict(_results())
    assert line.startswith("**Target met**")
    assert "20 shoppers, 0 errors, chat-turn p95 48.0 ms" in line


def test_a_missed_p95_names_the_dominant_stage_of_the_load_test() -> None:
    line = run_all.verdict(_results(_load(p95_ms=210.0)))
    assert line.startswith("**Target missed**")
    assert "p95 210.0 ms > 150 ms" in line
    assert "**retrieval**, 55 % of the slowest 5 %" in line
    assert "server-side timings" in line


def test_when_http_and_queueing_dominate_the_largest_server_stage_is_named_too() -> None:
    load = _load(p95_ms=400.0)
    load["stages"]["stages"]["HTTP, queueing, commit"] = _stage(0.7, 300.0)
    line = run_all.verdict(_results(load))
    assert "**HTTP, queueing, commit**, 70 %" in line
    assert "in the server, **retrieval**" in line


def test_without_a_load_breakdown_the_in_process_one_is_used() -> None:
    line = run_all.verdict(_results(_load(p95_ms=200.0, stages=None)))
    assert "**policy**, 70 %" in line and "in-process chat benchmark" in line


def test_errors_alone_miss_the_target_without_blaming_a_stage() -> None:
    line = run_all.verdict(_results(_load(errors=3, error_kinds=["POST /v1/chat: HTTP 500"])))
    assert line.startswith("**Target missed**")
    assert "3 errors (POST /v1/chat: HTTP 500)" in line
    assert "stage" not in line.lower()


def test_a_failed_or_smaller_load_test_is_not_a_verdict() -> None:
    results = _results()
    results["steps"]["load test, 20 shoppers"].update(
        status="failed", rc=1, output=[], reason="error: no data dir"
    )
    assert run_all.verdict(results).startswith("**Target not measured**: the load test was failed (exit 1)")
    assert "not 20 shoppers" in run_all.verdict(_results(_load(concurrency=4)))
    del results["steps"]["load test, 20 shoppers"]
    assert run_all.verdict(results) == "**Target not measured**: the load test was not run."


def test_the_report_has_every_section_and_shows_failures_and_skips() -> None:
    report = run_all.render_report(_results())
    assert "**Machine**: Test CPU 9000, 2 cores usable (of 2), 23.5 GiB RAM" in report
    assert "torch 2.13.0+cpu" in report
    for heading in (
        "## Load (20 shoppers)",
        "## Per-stage breakdown",
        "## Ingest vs raw encoder",
        "## Quality",
    ):
        assert heading in report
    assert "| `POST /v1/events` | 1,500 | 3.0 | 9.0 | 20.0 | 0 |" in report
    assert "| 2 | 110.00 | 28.0 | 0 | yes |" in report and "| 4 | 108.00 | 160.0 | 0 | no |" in report
    assert "**110.00 turns/s**" in report
    assert "| retrieval | 100 | 13.3 | 40.0 | 55 % | 55 % |" in report
    quality = report.split("## Quality", 1)[1].split("\n## ", 1)[0]
    rows = {line.split(" | ")[0].lstrip("| "): line for line in quality.splitlines() if line.startswith("| ")}
    assert "**0.3917** / 0.5005 / 0.7489 (bm25 0.3720)" in rows["retrieval"]
    assert "9,795 queries" in rows["retrieval"]
    assert (
        "**0.977** / **0.967**" in rows["NLU"]
        and "`shopassist eval nlu tests/data/nlu_dev.jsonl`" in rows["NLU"]
    )
    assert "failed (exit 1): error: boom" in rows["pricing"]
    assert "skipped: ../shared/data/fashion-small/catalog.csv is not here" in rows["vision"]
    assert "not run" in rows["recommender"] and "benchmarks/recommender_beauty.py" in rows["recommender"]
    assert "| demo catalog | 2,010 | 370.0 | 490.0 | **0.755** |" in report
    assert "### filtered search, 44k fashion products" in report  # steps without a section of their own


def test_report_only_rewrites_the_report_from_saved_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved, report = tmp_path / "results.json", tmp_path / "RESULTS.md"
    monkeypatch.setattr(run_all, "RESULTS_JSON", saved)
    monkeypatch.setattr(run_all, "REPORT", report)
    assert run_all.main(["--report-only"]) == 1  # nothing saved yet
    results = _results()
    old_layout = copy.deepcopy(results["steps"])  # the flat {name: step} layout of earlier runs
    for rec in old_layout.values():
        del rec["key"]
    saved.write_text(json.dumps(old_layout))
    assert run_all.main(["--report-only"]) == 0
    assert "**Target met**" in report.read_text()
    assert "**Machine**" not in report.read_text()  # the old layout did not record it


def test_only_selects_steps_by_key_or_full_name() -> None:
    all_steps = run_all.steps()
    assert [s.key for s in run_all.select(all_steps, "chat turn latency")] == ["chat"]
    assert [s.key for s in run_all.select(all_steps, "filtered search, 44k fashion products")] == ["filtered"]
    assert [s.key for s in run_all.select(all_steps, "load,nlu")] == ["nlu", "load"]  # run order
    assert run_all.select(all_steps, None) == all_steps
    with pytest.raises(SystemExit, match="unknown step 'nope'"):
        run_all.select(all_steps, "chat,nope")
    load = next(s for s in run_all.steps(load_duration=10) if s.key == "load")
    assert run_all.display(load.args) == "shopassist bench load --concurrency 20 --duration 10 --saturation"
