"""Sequential recommender: learning a next-item rule, artifacts, full-ranking metrics, the CLI."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from api.cli import app
from rankers.sequential import (
    FORMAT_VERSION,
    SequentialConfig,
    SequentialRecommender,
    evaluate_full_ranking,
    metrics_from_ranks,
    read_sequences,
    target_ranks,
    train_sequential,
)

N_ITEMS = 20
JSON_KEYS = {"model", "n_users", "recall@10", "recall@20", "ndcg@10", "ndcg@20", "train_s"}
TINY = {"dim": 32, "layers": 1, "heads": 2, "dropout": 0.1, "epochs": 40, "lr": 5e-3, "batch_size": 64}


def successor(item: str) -> str:
    """The rule the data follows: p<i> is always followed by p<(i + 7) mod 20> (one 20-item cycle)."""
    return f"p{(int(item[1:]) + 7) % N_ITEMS}"


def pattern_sequences(n: int, seed: int = 0) -> list[list[str]]:
    rng = random.Random(seed)
    sequences = []
    for _ in range(n):
        sequence = [f"p{rng.randrange(N_ITEMS)}"]
        for _ in range(rng.randint(3, 8)):
            sequence.append(successor(sequence[-1]))
        sequences.append(sequence)
    return sequences


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    """Tiny models gain nothing from threads, and on a busy machine extra threads only contend."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module", params=["sasrec", "gru4rec", "sasrec-sampled"])
def trained(request: pytest.FixtureRequest) -> SequentialRecommender:
    """Full softmax over the 20 items, or 8 sampled negatives + each position's own history."""
    model, _, sampled = request.param.partition("-")
    config = SequentialConfig.for_model(model, **TINY, **({"negatives": 8} if sampled else {}))
    return train_sequential(pattern_sequences(300), config)


# ----------------------------------------------------------------------------- learning


def test_learns_which_item_follows(trained: SequentialRecommender) -> None:
    for i in range(N_ITEMS):
        item = f"p{i}"
        assert trained.recommend([item], k=1)[0][0] == successor(item)
    top = trained.recommend(["p4", "p11"], k=3)
    assert top[0][0] == successor("p11")
    assert len(top) == 3
    assert [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    probs = trained.score(["p5"])
    assert probs is not None and probs.shape == (N_ITEMS,)
    assert math.isclose(float(probs.sum()), 1.0, rel_tol=1e-4)
    assert trained.metrics["best_epoch"] >= 1
    assert trained.metrics["valid_recall@10"] > 0.9


def test_full_ranking_on_the_rule(trained: SequentialRecommender) -> None:
    sequences = pattern_sequences(50, seed=1)
    test = evaluate_full_ranking(trained, sequences, "test")
    assert test["n_users"] == 50
    assert test["recall@10"] == 1.0
    assert test["ndcg@10"] > 0.95
    assert set(test) == {"recall@10", "recall@20", "ndcg@10", "ndcg@20", "n_users"}
    valid = evaluate_full_ranking(trained, [["p1", "p2"], *sequences], "valid", exclude_history=False)
    assert valid["n_users"] == 50  # a two-item sequence has no validation target


def test_exclude_unknown_and_empty_histories(trained: SequentialRecommender) -> None:
    nxt = successor("p4")
    assert nxt not in [i for i, _ in trained.recommend(["p4"], k=5, exclude={nxt, "nope"})]
    assert trained.recommend(["p4"], k=3, exclude=trained.items) == []
    assert trained.recommend(["nope", "p4"], k=1) == trained.recommend(["p4"], k=1)
    assert trained.recommend([], k=5) == []
    assert trained.recommend(["nope", "neither"], k=5) == []
    assert trained.recommend(["p4"], k=0) == []
    assert len(trained.recommend(["p4"], k=100)) == N_ITEMS
    assert trained.score(["nope"]) is None
    assert trained.explain(["nope"], "p1") is None
    assert trained.explain(["p4"], "unknown-item") is None


def test_explain_names_the_supporting_item(trained: SequentialRecommender) -> None:
    # p9 is followed by p16 by the rule; p2 (before it) says nothing about p16
    assert successor("p9") == "p16"
    assert trained.explain(["p2", "p9"], "p16") == "p9"
    assert trained.explain(["p9"], "p16") == "p9"


def test_same_seed_same_model() -> None:
    config = SequentialConfig.for_model("sasrec", **{**TINY, "epochs": 4})
    a = train_sequential(pattern_sequences(100), config)
    b = train_sequential(pattern_sequences(100), config)
    np.testing.assert_array_equal(a.score(["p3", "p4"]), b.score(["p3", "p4"]))


def test_progress_callable_and_tqdm_like_bar() -> None:
    seen: list[tuple[int, int]] = []
    config = SequentialConfig.for_model("gru4rec", **{**TINY, "epochs": 3})
    train_sequential(pattern_sequences(100), config, progress=lambda d, t: seen.append((d, t)), valid=False)
    assert seen[0] == (0, 6) and seen[-1] == (6, 6)  # 100 sequences / batch 64 = 2 steps per epoch

    class Bar:
        total: Any = None
        n = 0

        def update(self, n: float | None = 1) -> None:
            self.n += int(n or 0)

    bar = Bar()
    train_sequential(pattern_sequences(100), config, progress=bar, valid=False)
    assert bar.n == bar.total == 6


def test_too_little_data_and_bad_config() -> None:
    with pytest.raises(ValueError, match="two items"):
        train_sequential([["a", "b"], ["c"]], SequentialConfig(epochs=1))
    with pytest.raises(ValueError, match="unknown model"):
        SequentialConfig(model="bert")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="multiple of heads"):
        SequentialConfig(dim=10, heads=3)


# ----------------------------------------------------------------------------- artifacts


def test_save_load_round_trip(trained: SequentialRecommender, tmp_path: Path) -> None:
    trained.save(tmp_path / "m")
    loaded = SequentialRecommender.load(tmp_path / "m")
    assert loaded.items == trained.items and loaded.config == trained.config
    assert loaded.metrics == trained.metrics and loaded.created_at == trained.created_at
    for history in (["p1"], ["p3", "p10", "p0"]):
        np.testing.assert_array_equal(loaded.score(history), trained.score(history))
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION
    assert {"items", "config", "metrics", "created_at"} <= set(meta)


def test_bad_artifacts_raise_value_error(trained: SequentialRecommender, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="missing"):
        SequentialRecommender.load(tmp_path / "nothing")
    good = trained.save(tmp_path / "good")
    meta = json.loads((good / "meta.json").read_text())

    def broken(name: str, meta_text: str | None = None, weights: bytes | None = None) -> Path:
        path = tmp_path / name
        path.mkdir()
        (path / "meta.json").write_text(meta_text if meta_text is not None else json.dumps(meta))
        (path / "model.pt").write_bytes(weights if weights is not None else (good / "model.pt").read_bytes())
        return path

    with pytest.raises(ValueError, match="not valid JSON"):
        SequentialRecommender.load(broken("garbled", meta_text="{not json"))
    with pytest.raises(ValueError, match="format version"):
        SequentialRecommender.load(broken("future", json.dumps({**meta, "format_version": 99})))
    with pytest.raises(ValueError, match="not a sequential recommender"):
        SequentialRecommender.load(broken("foreign", json.dumps({"format": "other"})))
    with pytest.raises(ValueError, match="do not match"):
        SequentialRecommender.load(broken("weights", weights=b"not a torch file"))
    with pytest.raises(ValueError, match="do not match"):
        SequentialRecommender.load(broken("vocab", json.dumps({**meta, "items": [*meta["items"], "extra"]})))
    with pytest.raises(ValueError, match="bad config"):
        SequentialRecommender.load(broken("config", json.dumps({**meta, "config": {"model": "x"}})))


# ----------------------------------------------------------------------------- metrics by hand


def test_target_ranks_and_metrics_by_hand() -> None:
    scores = np.array(
        [
            [0.1, 0.9, 0.3, 0.2],  # target 1 is best -> rank 0
            [0.5, 0.4, 0.3, 0.2],  # target 2 is third -> rank 2; with item 0 excluded -> rank 1
            [0.0, 0.1, 0.2, 0.3],  # target 0 is last -> rank 3
            [0.0, 0.1, 0.2, 0.3],  # target unknown to the model -> a miss (rank 4)
        ]
    )
    targets = np.array([1, 2, 0, -1])
    np.testing.assert_array_equal(target_ranks(scores, targets), [0, 2, 3, 4])
    ranks = target_ranks(scores, targets, exclude=[[], [0], [], []])
    np.testing.assert_array_equal(ranks, [0, 1, 3, 4])
    np.testing.assert_array_equal(target_ranks(scores[:1], targets[:1], exclude=[[1]]), [4])  # excluded
    metrics = metrics_from_ranks(ranks, ks=(1, 2, 4))
    assert metrics["recall@1"] == pytest.approx(1 / 4)
    assert metrics["recall@2"] == pytest.approx(2 / 4)
    assert metrics["recall@4"] == pytest.approx(3 / 4)
    assert metrics["ndcg@1"] == pytest.approx(1 / 4)
    assert metrics["ndcg@2"] == pytest.approx((1 + 1 / math.log2(3)) / 4)
    assert metrics["ndcg@4"] == pytest.approx((1 + 1 / math.log2(3) + 1 / math.log2(5)) / 4)


def test_model_ranks_agree_with_brute_force(trained: SequentialRecommender) -> None:
    sequences = pattern_sequences(30, seed=2)
    for exclude in (True, False):
        got = evaluate_full_ranking(trained, sequences, "test", exclude_history=exclude)
        scores = np.stack([trained.score(s[:-1]) for s in sequences])  # type: ignore[misc]
        targets = np.array([trained.items.index(s[-1]) for s in sequences])
        history = [[trained.items.index(i) for i in s[:-1]] for s in sequences] if exclude else None
        want = metrics_from_ranks(target_ranks(scores, targets, exclude=history))
        for key, value in want.items():
            assert got[key] == pytest.approx(value, abs=1e-9), key


# ----------------------------------------------------------------------------- reading and the CLI


def test_read_sequences(tmp_path: Path) -> None:
    path = tmp_path / "seq.txt"
    path.write_text("1 10 11 12\n\n2 11 13\n", encoding="utf-8")
    assert read_sequences(path) == [["10", "11", "12"], ["11", "13"]]
    path.write_text("1 10 11\n2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"seq\.txt:2: expected"):
        read_sequences(path)
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match="not a UTF-8 text file"):
        read_sequences(path)
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no sequences"):
        read_sequences(path)


runner = CliRunner()


@pytest.fixture
def beauty_like(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SHOPASSIST_DATA_DIR", str(tmp_path / "var"))
    path = tmp_path / "tiny.txt"
    lines = [
        f"{u} " + " ".join(str(int(i[1:]) + 1) for i in s) for u, s in enumerate(pattern_sequences(80), 1)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cli_train_then_eval(beauty_like: Path, tmp_path: Path) -> None:
    trained = runner.invoke(
        app, ["train", "recommender", "--data", str(beauty_like), "--model", "gru4rec", "--epochs", "4"]
    )
    assert trained.exit_code == 0, trained.output
    line = json.loads(trained.stdout.strip().splitlines()[-1])
    assert set(line) >= JSON_KEYS
    assert line["model"] == "gru4rec" and line["n_users"] == 80
    assert 0.0 <= line["ndcg@10"] <= line["recall@10"] <= line["recall@20"] <= 1.0
    saved = list((tmp_path / "var" / "models" / "recommender").iterdir())
    assert [p.name.split("-")[0] for p in saved] == ["tiny"] and saved[0].name.endswith("-gru4rec")

    evaluated = runner.invoke(app, ["eval", "recommender", "--data", str(beauty_like), "--model", "gru4rec"])
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.stdout.strip().splitlines()[-1]) == line  # the saved model, not a new one


def test_cli_eval_trains_when_there_is_no_model(beauty_like: Path) -> None:
    result = runner.invoke(app, ["eval", "recommender", "--data", str(beauty_like), "--quiet"])
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["model"] == "sasrec" and set(line) >= JSON_KEYS
    assert line["recall@10"] > 0.9  # the rule is learnt


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["train", "recommender", "--data", str(tmp_path / "nope.txt")])
    assert missing.exit_code != 0
    assert missing.output.strip().splitlines() == [f"error: {tmp_path / 'nope.txt'}: no such file"]
    garbled = tmp_path / "garbled.txt"
    garbled.write_text("1 2 3\n4\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", "recommender", "--data", str(garbled)])
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1 and "garbled.txt:2" in result.output
    bad_model = runner.invoke(app, ["train", "recommender", "--data", str(garbled), "--model", "bert"])
    assert bad_model.exit_code != 0 and "unknown model" in bad_model.output
