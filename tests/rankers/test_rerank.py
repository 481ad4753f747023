"""The search re-ranker: features, generated training queries, training, artifact, CLI.

One small model is trained per module (on queries generated from a 300-product
slice of the demo catalog, hybrid index on the hashing encoder) and shared by the
tests that only read it.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from api.cli import app
from assistant.config import Settings
from rankers import (
    RERANK_FEATURES,
    BaseScores,
    CandidateScores,
    FieldVocabulary,
    Reranker,
    TrainingQuery,
    generate_catalog_queries,
    queries_from_feedback,
    train_reranker,
)
from rankers._rerank_features import candidate_features
from rankers._rerank_train import ndcg_at_10
from retrieval import HashingEncoder, HybridIndex, Product, open_chroma_client
from retrieval._index import Candidate

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo" / "catalog.jsonl"
runner = CliRunner()


def _slice(per_type: int) -> list[Product]:
    seen: dict[str, int] = {}
    out = []
    with DEMO.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            t = row["product_type"]
            if seen.get(t, 0) < per_type:
                seen[t] = seen.get(t, 0) + 1
                row.pop("image_path", None)
                out.append(Product.model_validate(row))
    return out


@pytest.fixture(scope="module")
def catalog() -> list[Product]:
    return _slice(10)


@pytest.fixture(scope="module")
def index(catalog: list[Product]) -> HybridIndex:
    idx = HybridIndex(
        encoder=HashingEncoder(), client=open_chroma_client(path=None), collection="rerank-test"
    )
    idx.upsert(catalog)
    idx.commit()
    return idx


@pytest.fixture(scope="module")
def trained(index: HybridIndex, catalog: list[Product], tmp_path_factory: pytest.TempPathFactory) -> Any:
    queries = generate_catalog_queries(catalog, seed=0, max_queries=300)
    out = tmp_path_factory.mktemp("reranker") / "model"
    model = train_reranker(index=index, queries=queries, out_dir=out, seed=0)
    return model, out


# ----------------------------------------------------------------------------- features


def test_features_tolerate_missing_rating_price_and_fields() -> None:
    bare = Product(id="hd1", title="Simpson Strong-Tie 12-Gauge 1/2 in. Angle", price=0.0)
    full = Product(
        id="p2",
        title="Puma Deck Navy Blue Backpack",
        brand="Puma",
        product_type="backpack",
        price=80.0,
        rating=4.0,
        rating_count=10,
        attributes={"color": "navy blue", "gender": "unisex"},
    )
    other = full.model_copy(
        update={"id": "p3", "brand": "Nike", "attributes": {"color": "red"}, "rating": None}
    )
    vocab = FieldVocabulary.from_products([full, other])
    base = [BaseScores(rank=i, fused=1.0 - i / 10, lexical=5.0 - i, dense=0.5) for i in range(3)]
    x = candidate_features("puma navy blue backpack 1/2", [bare, full, other], base, vocab)
    col = {name: x[:, i] for i, name in enumerate(RERANK_FEATURES)}
    assert x.shape == (3, len(RERANK_FEATURES)) and np.isfinite(x).all()
    assert (col["price_missing"].tolist(), col["rating_missing"].tolist()) == (
        [1.0, 0.0, 0.0],
        [1.0, 0.0, 1.0],
    )
    assert col["price_rel"][0] == 0.0 and col["rating"][0] == 0.0
    # the query names brand Puma and colour navy blue: a match for p2, a conflict for p3, nothing for hd1
    assert col["brand_match"].tolist() == [0.0, 1.0, 0.0]
    assert col["brand_conflict"].tolist() == [0.0, 0.0, 1.0]
    assert col["color_match"].tolist() == [0.0, 1.0, 0.0]
    assert col["color_conflict"].tolist() == [0.0, 0.0, 1.0]
    assert col["type_match"].tolist() == [0.0, 1.0, 1.0]
    assert col["number_frac"][0] == 1.0 and col["has_numbers"][0] == 1.0
    assert col["inv_rank"].tolist() == [1.0, 0.5, pytest.approx(1 / 3)]
    # no vocabulary (a title-only catalog): the field columns stay zero
    y = candidate_features("puma backpack", [bare, full], base[:2])
    assert not y[:, RERANK_FEATURES.index("brand_match")].any()


def test_retrieval_candidates_satisfy_the_scores_protocol(index: HybridIndex) -> None:
    found = index.candidates("navy blue backpack", k=5)
    assert [c.rank for c in found] == list(range(5))
    assert all(isinstance(c, CandidateScores) for c in found)
    assert [c.product.id for c in found] == [pid for pid, _ in index.rank("navy blue backpack", k=5)]
    assert found[0].fused >= found[-1].fused


# ----------------------------------------------------------------------------- training data


def test_generated_queries_are_deterministic_and_labelled_by_fields(catalog: list[Product]) -> None:
    a = generate_catalog_queries(catalog, seed=3, max_queries=200)
    b = generate_catalog_queries(catalog, seed=3, max_queries=200)
    assert [(q.text, dict(q.gains)) for q in a] == [(q.text, dict(q.gains)) for q in b]
    assert len({q.text for q in a}) == len(a) == 200
    by_id = {p.id: p for p in catalog}
    for q in a:
        assert q.source.startswith("generated:")
        assert max(q.gains.values()) == 2.0 and all(0 < g <= 2 for g in q.gains.values())
        if q.source == "generated:color+product_type":
            for pid, g in q.gains.items():
                p = by_id[pid]
                assert p.product_type in q.text or p.product_type + "s" in q.text or q.text.endswith("es")
                assert g == (2.0 if q.text.startswith(p.attributes.get("color", "?") + " ") else 1.0)


def test_feedback_triples_group_by_query() -> None:
    got = queries_from_feedback([("Red Shoes", "a", 1.0), ("red  shoes", "b", 2.0), ("red shoes", "a", 0.0)])
    assert len(got) == 1
    assert (got[0].text, dict(got[0].gains), got[0].source) == ("Red Shoes", {"a": 1.0, "b": 2.0}, "feedback")


def test_ndcg_at_10_by_hand() -> None:
    gains = {"a": 2.0, "b": 1.0}
    assert ndcg_at_10(["a", "b"], gains) == 1.0
    assert ndcg_at_10(["x", "b", "a"], gains) == pytest.approx(
        (1 / math.log2(3) + 2 / math.log2(4)) / (2 + 1 / math.log2(3))
    )


# ----------------------------------------------------------------------------- training


def test_training_beats_the_retrieval_order_on_held_out_generated_queries(trained: Any) -> None:
    model, out = trained
    m = model.metrics
    assert m["validation_queries"] == 30
    assert m["ndcg@10_reranked"] >= m["ndcg@10_retrieval"] + 0.02, m
    t = model.training
    assert t["sources"] == {"generated": 300} and t["train_queries"] == 270
    assert 1 <= t["best_epoch"] <= t["epochs"] <= 30 and len(m["ndcg@10_by_epoch"]) == t["epochs"]
    assert m["ndcg@10_reranked"] == max(m["ndcg@10_by_epoch"])  # the best epoch is kept
    assert 0.0 < t["final_loss"] < math.log(50)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["format_version"] == 1 and meta["features"] == list(RERANK_FEATURES)
    assert meta["metrics"] == m and meta["training"]["hidden"] == [64, 32]
    assert "backpack" in meta["vocabulary"]["product_type"]


def test_save_load_round_trip_gives_identical_scores(trained: Any, index: HybridIndex) -> None:
    model, out = trained
    found = index.candidates("black leather belt for men", k=20)
    products = [c.product for c in found]
    before = model.rerank("black leather belt for men", products, found)
    served = Reranker.load(out)
    q = served.rerank("black leather belt for men", products, found)
    assert q == before
    assert (served.version, served.vocabulary.values) == (model.version, model.vocabulary.values)
    ranked = served.rerank_candidates("black leather belt for men", found)
    assert sorted(c.rank for c, _ in ranked) == list(range(20))
    assert [s for _, s in ranked] == sorted(q, reverse=True)


def test_rerank_edge_cases(trained: Any, index: HybridIndex) -> None:
    model, _ = trained
    assert model.rerank("shoes", [], []) == []
    assert model.rerank_candidates("shoes", []) == []
    found = index.candidates("shoes", k=3)
    with pytest.raises(ValueError, match="3 products but 2 retrieval scores"):
        model.rerank("shoes", [c.product for c in found], found[:2])
    assert model.rerank("  ", [c.product for c in found], found) == [0.0, -1.0, -2.0]


def test_bad_artifacts_raise_value_error(trained: Any, tmp_path: Path) -> None:
    _, out = trained
    with pytest.raises(ValueError, match="no re-ranker at"):
        Reranker.load(tmp_path / "nothing")

    def broken(name: str, edit: Any) -> Path:
        d = tmp_path / name
        shutil.copytree(out, d)
        edit(d)
        return d

    def meta_edit(**changes: Any) -> Any:
        def edit(d: Path) -> None:
            meta = json.loads((d / "meta.json").read_text())
            meta.update(changes)
            (d / "meta.json").write_text(json.dumps(meta))

        return edit

    cases = {
        "not-json": (lambda d: (d / "meta.json").write_text("{oops"), "cannot read"),
        "list": (lambda d: (d / "meta.json").write_text("[1]"), "not a JSON object"),
        "format": (meta_edit(format_version=99), "format 99 is not supported"),
        "features": (meta_edit(features=["bm25", "dense"]), "features do not match"),
        "unknown-key": (meta_edit(colour="red"), "does not describe a re-ranker"),
        "weights": (lambda d: (d / "model.safetensors").write_bytes(b"\0" * 64), "cannot load the re-ranker"),
        "layers": (meta_edit(hidden=[16, 32]), "cannot load the re-ranker.*layer0.weight is"),
        "depth": (meta_edit(hidden=[64]), "weights do not fit the network.*unexpected"),
        "no-layers": (meta_edit(hidden=[0]), "hidden layer sizes must be positive"),
        "no-weights": (lambda d: (d / "model.safetensors").unlink(), "no re-ranker at"),
    }
    for name, (edit, message) in cases.items():
        with pytest.raises(ValueError, match=message):
            Reranker.load(broken(name, edit))


def test_train_needs_labelled_candidates(index: HybridIndex, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no training queries"):
        train_reranker(index=index, queries=[], out_dir=tmp_path / "m")
    with pytest.raises(ValueError, match="no training query has a labelled product"):
        train_reranker(index=index, queries=[TrainingQuery("shoes", {"nope": 2.0})], out_dir=tmp_path / "m")


# ----------------------------------------------------------------------------- CLI

TITLES = [
    "Black Leather Strap Watch",
    "Steel Chronograph Watch",
    "Gold Plated Dress Watch",
    "Digital Sports Watch",
    "Red Running Shoe",
    "White Canvas Sneaker",
    "Brown Leather Boot",
    "Blue Suede Loafer",
    "Cotton Crew Neck T-Shirt",
    "Linen Summer Shirt",
    "Wool Winter Sweater",
    "Denim Trucker Jacket",
]
QUERIES = [
    ("q01", "watch", [(1, 3), (2, 3), (3, 2), (4, 2)]),
    ("q02", "leather watch", [(1, 3), (7, 1)]),
    ("q03", "running shoe", [(5, 3), (6, 2)]),
    ("q04", "sneaker", [(6, 3), (5, 2)]),
    ("q05", "boot", [(7, 3), (8, 1)]),
    ("q06", "shirt", [(9, 3), (10, 3)]),
    ("q07", "winter sweater", [(11, 3), (12, 1)]),
    ("q08", "jacket", [(12, 3)]),
    ("q09", "gold watch", [(3, 3), (1, 1)]),
    ("q10", "summer shirt", [(10, 3), (9, 2)]),
]
RERANK_KEYS = {
    "mode",
    "pool",
    "n_queries",
    "ndcg@10",
    "mrr@10",
    "recall@100",
    "p50_ms",
    "p95_ms",
    "rerank_p50_ms",
    "rerank_p95_ms",
    "rerank_k",
    "model",
    "queries",
}


@pytest.fixture
def relevance_files(tmp_path: Path) -> dict[str, Path]:
    d = tmp_path / "rel"
    d.mkdir()
    files = {n: d / f"{n}.tsv" for n in ("products", "queries", "labels")}
    files["products"].write_text(
        "product_id\ttitle\n" + "".join(f"p{i:02d}\t{t}\n" for i, t in enumerate(TITLES, 1)), encoding="utf-8"
    )
    files["queries"].write_text(
        "query_id\tquery\n" + "".join(f"{q}\t{t}\n" for q, t, _ in QUERIES), encoding="utf-8"
    )
    files["labels"].write_text(
        "query_id\tproduct_id\trelevance\n"
        + "".join(f"{q}\tp{i:02d}\t{r}\n" for q, _, labels in QUERIES for i, r in labels),
        encoding="utf-8",
    )
    return files


def _json_line(stdout: str) -> dict[str, Any]:
    rows = [line for line in stdout.splitlines() if line.startswith("{")]
    assert len(rows) == 1 and stdout.strip().splitlines()[-1] == rows[0], stdout
    out: dict[str, Any] = json.loads(rows[0])
    return out


def test_cli_eval_rerank_trains_then_reports_the_held_out_queries(
    env_settings: Settings, relevance_files: dict[str, Path]
) -> None:
    args = ["eval", "retrieval", *(f"--{k}={v}" for k, v in relevance_files.items()), "--holdout", "0.3"]
    rows = {}
    for pool in ("all", "judged"):
        result = runner.invoke(app, [*args, "--mode", "rerank", "--pool", pool])
        assert result.exit_code == 0, result.output
        rows[pool] = _json_line(result.stdout)
    models = list((env_settings.data_dir / "models").glob("reranker-hd-*"))
    assert len(models) == 1 and (models[0] / "meta.json").is_file()  # trained once, reused
    for pool, row in rows.items():
        assert set(row) == RERANK_KEYS
        assert (row["mode"], row["pool"], row["queries"], row["n_queries"], row["rerank_k"]) == (
            "rerank",
            pool,
            "held-out",
            3,
            50,
        )
        assert 0.0 <= row["ndcg@10"] <= 1.0 and row["recall@100"] == 1.0
        assert 0.0 <= row["rerank_p50_ms"] <= row["rerank_p95_ms"] and row["p50_ms"] <= row["p95_ms"]
    meta = json.loads((models[0] / "meta.json").read_text())
    assert meta["training"]["split"] == {"holdout": 0.3, "seed": 0, "held_out_queries": 3}
    assert meta["training"]["queries"] == 7
    # the hybrid baseline on the same held-out queries
    result = runner.invoke(app, [*args, "--mode", "hybrid", "--holdout-only"])
    assert result.exit_code == 0, result.output
    row = _json_line(result.stdout)
    assert (row["queries"], row["n_queries"]) == ("held-out", 3) and "rerank_p95_ms" not in row
    result = runner.invoke(app, [*args, "--mode", "sideways"])
    assert (result.exit_code, result.stderr) == (
        1,
        "error: unknown mode 'sideways'; choose bm25, dense, hybrid or rerank\n",
    )


def test_cli_train_reranker_from_a_catalog(env_settings: Settings, small_catalog: Path) -> None:
    result = runner.invoke(
        app,
        ["train", "reranker", "--from-catalog", str(small_catalog), "--max-queries", "40"],
    )
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    path = env_settings.data_dir / "models" / "reranker"
    assert last.startswith("re-ranker trained in ") and last.endswith(f"→ {path}")
    assert "validation nDCG@10" in last
    model = Reranker.load(path)
    assert model.training["source"].startswith("queries generated") and model.training["queries"] == 40
    result = runner.invoke(app, ["train", "reranker", "--from-catalog", str(small_catalog), "--queries", "x"])
    assert (result.exit_code, result.stderr) == (
        1,
        "error: a relevance set needs all of --products, --queries and --labels\n",
    )


def test_candidate_dataclass_is_what_rerank_reads(trained: Any) -> None:
    model, _ = trained
    p = Product(id="z1", title="Plain Thing", price=0.0)
    c = Candidate(product=p, rank=0, fused=0.5, lexical=0.0, dense=0.2)
    (score,) = model.rerank("thing", [p], [c])
    assert math.isfinite(score)
