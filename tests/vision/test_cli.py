"""``shopassist eval vision`` / ``train vision`` through Typer's CliRunner on a tiny synthetic set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from api.cli import app
from assistant.config import Settings
from tests.vision.conftest import write_csv, write_shape_set

runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_eval_prints_one_json_line_per_embedder(
    tmp_path: Path, env_settings: Settings, backbone: object
) -> None:
    rows = write_shape_set(tmp_path / "set", per_class=2)
    csv = write_csv(tmp_path / "set", rows)
    result = invoke("eval", "vision", "--queries", str(csv), "--latency-samples", "3", "--quiet")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [r["embedder"] for r in lines] == ["cnn-finetuned", "cnn-imagenet", "histogram"]
    for r in lines:
        assert {"p@1", "p@5", "p@5_type_colour", "map", "p50_ms", "p95_ms"} <= r.keys()
        assert 0 <= r["p@5"] <= 1 and r["p95_ms"] >= r["p50_ms"] > 0
        assert r["n_queries"] == r["n_gallery"] == 24
    assert "optimistic" in lines[0]["head"]  # leave-one-out head saw the query labels: said so
    cache = env_settings.data_dir / "cache" / "vision"
    assert any(cache.iterdir())

    again = invoke(
        "eval", "vision", "--queries", str(csv), "--latency-samples", "3", "--quiet", "--limit", "5"
    )
    assert again.exit_code == 0, again.output
    assert all(json.loads(line)["n_queries"] == 5 for line in again.stdout.strip().splitlines())


def test_eval_with_a_gallery_and_a_head(tmp_path: Path, env_settings: Settings, backbone: object) -> None:
    g_rows = write_shape_set(tmp_path / "g", per_class=2, seed=0)
    q_rows = write_shape_set(tmp_path / "q", per_class=1, seed=3)
    gallery, queries = write_csv(tmp_path / "g", g_rows), write_csv(tmp_path / "q", q_rows)
    head_dir = tmp_path / "head"
    trained = invoke(
        "train", "vision", "--catalog", str(gallery), "--out", str(head_dir), "--epochs", "3", "--quiet"
    )
    assert trained.exit_code == 0, trained.output
    report = json.loads(trained.stdout.strip().splitlines()[-1])
    assert report["n_images"] == 24 and report["out"] == str(head_dir)
    assert (head_dir / "head.safetensors").is_file() and (head_dir / "config.json").is_file()
    result = invoke(
        "eval", "vision", "--queries", str(queries), "--gallery", str(gallery), "--head", str(head_dir),
        "--embedders", "cnn-finetuned,histogram", "--latency-samples", "2", "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [r["embedder"] for r in lines] == ["cnn-finetuned", "histogram"]
    assert lines[0]["head"] == str(head_dir) and lines[0]["n_gallery"] == 24


def test_bad_csv_is_one_line_error(tmp_path: Path, env_settings: Settings) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name\n1,x\n", encoding="utf-8")
    result = invoke("eval", "vision", "--queries", str(bad))
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert result.output.startswith("error: queries:") and "missing column" in result.output
    unknown = invoke("eval", "vision", "--queries", str(bad), "--embedders", "resnet")
    assert unknown.exit_code == 1 and "unknown embedder resnet" in unknown.output
    missing = invoke("train", "vision", "--catalog", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_gallery_head_never_trains_on_the_queries(
    tmp_path: Path, env_settings: Settings, backbone: object
) -> None:
    rows = write_shape_set(tmp_path / "g", per_class=2, seed=0)
    gallery = write_csv(tmp_path / "g", rows)
    queries = write_csv(tmp_path / "g", rows[::4], name="queries.csv")  # 6 of the 24 gallery photos
    result = invoke(
        "eval", "vision", "--queries", str(queries), "--gallery", str(gallery),
        "--embedders", "cnn-finetuned", "--latency-samples", "2", "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout.strip())
    assert "trained on the 18 gallery photos that are not queries" in line["head"]
    assert line["n_queries"] == 6 and line["n_gallery"] == 24
