"""The joint model end to end on a tiny model trained once per session (2 layers, a few hundred steps).

The tiny model is trained through the real command (``shopassist train nlu``) and read back
through ``NLUModel.load``; its accuracy is only checked where a few hundred steps suffice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.nlu import INTENTS, NLUModel, NLUModelError, evaluate_nlu
from assistant.nlu._text import MAX_WORDS

REPO = Path(__file__).resolve().parents[2]
DEV_SET = REPO / "tests" / "data" / "nlu_dev.jsonl"
DEMO_CATALOG = REPO / "data" / "demo" / "catalog.jsonl"


@pytest.fixture(scope="session")
def _tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from api.cli import app

    out = tmp_path_factory.mktemp("nlu") / "model"
    args = [
        "train",
        "nlu",
        "--out",
        str(out),
        "--layers",
        "2",
        "--epochs",
        "1",
        "--max-examples",
        "4000",
        "--no-bitext",
        "--quiet",
        "--seed",
        "1",
    ]
    if DEMO_CATALOG.is_file():
        args += ["--catalog", str(DEMO_CATALOG)]
    started = time.perf_counter()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - started < 300  # ~60 s on an idle 2-core machine
    yield out


@pytest.fixture(scope="session")
def tiny(_tiny_model_dir: Path) -> NLUModel:
    return NLUModel.load(_tiny_model_dir, threads=1)


def test_artifact_is_config_safetensors_and_tokenizer(_tiny_model_dir: Path) -> None:
    names = {p.name for p in _tiny_model_dir.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= names
    assert not any(n.endswith((".pkl", ".pt", ".bin", ".pickle")) for n in names)
    config = json.loads((_tiny_model_dir / "config.json").read_text())
    assert config["format_version"] == 1
    assert config["version"].startswith("nlu-")
    assert config["intents"] == list(INTENTS)
    assert config["encoder_config"]["num_hidden_layers"] == 2
    assert 0.05 < config["temperature"] < 20
    assert 0 < config["threshold"] < 1
    training = config["training"]
    assert training["examples"] == 4000 and training["layers"] == 2
    assert training["sources"]["generated"] > 0 and "bitext" not in training["sources"]
    for split in ("calibration_split", "heldout_vocabulary"):
        m = config["metrics"][split]
        assert 0 <= m["intent_accuracy"] <= 1 and 0 <= m["slot_f1"] <= 1
    assert config["metrics"]["final_train_loss"] < 2.0  # from ~6 at the start


def test_save_load_round_trip_gives_identical_parses(_tiny_model_dir: Path, tmp_path: Path) -> None:
    texts = [
        "show me red dresses under 50 dollars",
        "add the second one to my cart",
        "hi",
        "where is order K7M2Q9XD",
    ]
    a = NLUModel.load(_tiny_model_dir, quantize=False, trace=False)
    a.save(tmp_path / "copy")
    b = NLUModel.load(tmp_path / "copy", quantize=False, trace=False)
    for t in texts:
        ra, rb = a.parse(t), b.parse(t)
        assert (ra.intent, ra.confidence, ra.slots, ra.tags) == (rb.intent, rb.confidence, rb.slots, rb.tags)
    qa, qb = NLUModel.load(_tiny_model_dir), NLUModel.load(tmp_path / "copy")
    for t in texts:
        assert qa.parse(t).tags == qb.parse(t).tags


def test_quantised_model_cannot_be_saved(tiny: NLUModel, tmp_path: Path) -> None:
    with pytest.raises(NLUModelError):
        tiny.save(tmp_path / "q")


def test_known_utterances(tiny: NLUModel) -> None:
    r = tiny.parse("show me red dresses under 50 dollars")
    assert r.intent == "search"
    assert r.slots.get("price_max") == 50.0
    assert r.tokens == ["show", "me", "red", "dresses", "under", "50", "dollars"]
    assert len(r.tags) == len(r.tokens)
    assert tiny.parse("add the second one to my cart").intent == "add_to_cart"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\n\t",
        "x" * 10_000,
        "a " * 5_000,
        "😀🎉🔥",
        "🛋️ 💰",
        "我想买一双红色的鞋子",
        "Где мой заказ?",
        "¿Dónde está mi pedido?",
        "<script>alert(1)</script>",
        "\x00\x01",
    ],
)
def test_odd_input_gets_a_clear_result(tiny: NLUModel, text: str) -> None:
    r = tiny.parse(text)
    assert r.intent in INTENTS
    assert 0.0 <= r.confidence <= 1.0
    assert isinstance(r.slots, dict)
    assert len(r.tokens) <= MAX_WORDS
    if not any(c.isalnum() for c in text) or text in {"我想买一双红色的鞋子", "Где мой заказ?"}:
        assert (r.intent, r.unclear, r.slots) == ("out_of_scope", True, {})


def test_low_confidence_is_unclear(tiny: NLUModel) -> None:
    for text in ["show me sofas", "hmm", "blue", "what"]:
        r = tiny.parse(text)
        assert r.unclear == (r.confidence < tiny.threshold)


def test_parse_latency(tiny: NLUModel) -> None:
    texts = ["show me grey sofas under 800", "compare 1 and 3", "where is my order BX2290"] * 10
    for t in texts[:3]:
        tiny.parse(t)
    times = sorted(tiny.parse(t).latency_ms for t in texts)
    assert times[len(times) // 2] < 50  # 2 layers: a few ms on an idle machine


def test_evaluate_on_the_dev_set(tiny: NLUModel) -> None:
    got = evaluate_nlu(tiny, DEV_SET)
    assert got["n"] >= 200
    assert set(got) == {"n", "intent_accuracy", "slot_f1", "p50_ms", "p95_ms"}
    assert got["intent_accuracy"] > 0.3 and got["slot_f1"] > 0.3  # a tiny model; the real one is reported


# ------------------------------------------------------------------------------ the commands
def test_cli_eval_prints_one_json_line(_tiny_model_dir: Path, tmp_path: Path) -> None:
    from api.cli import app

    path = tmp_path / "few.jsonl"
    path.write_text(
        '{"text": "hi", "intent": "greet", "slots": {}}\n'
        '{"text": "add two of those", "intent": "add_to_cart", "slots": {"quantity": 2}}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["eval", "nlu", str(path), "--model", str(_tiny_model_dir)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert set(json.loads(lines[0])) == {"n", "intent_accuracy", "slot_f1", "p50_ms", "p95_ms"}


def test_cli_parse(_tiny_model_dir: Path) -> None:
    from api.cli import app

    result = CliRunner().invoke(
        app, ["nlu", "parse", "show me grey sofas under 800", "--model", str(_tiny_model_dir)]
    )
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.stdout)
    assert {"intent", "confidence", "unclear", "slots"} <= set(parsed)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "nlu", "{dev}", "--model", "{missing}"], "no NLU model"),
        (["eval", "nlu", "{missing}/x.jsonl"], "no such file"),
        (["eval", "nlu", "{bad}", "--model", "{missing}"], "not JSON"),
        (["nlu", "parse", "hi", "--model", "{missing}"], "no NLU model"),
        (["train", "nlu", "--catalog", "{missing}/c.jsonl", "--out", "{missing}"], "no such file"),
        (["train", "nlu", "--extra", "{missing}/l.jsonl", "--out", "{missing}"], "no such file"),
    ],
)
def test_cli_errors_are_one_line_and_exit_1(tmp_path: Path, args: list[str], message: str) -> None:
    from api.cli import app

    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n", encoding="utf-8")
    fill = {"dev": str(DEV_SET), "missing": str(tmp_path / "none"), "bad": str(bad)}
    result = CliRunner().invoke(app, [a.format(**fill) for a in args])
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
