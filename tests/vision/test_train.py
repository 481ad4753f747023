"""Training the head: it learns the product type that raw features blur, on features and on photos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.vision.conftest import write_csv, write_shape_set
from vision import (
    CnnEmbedder,
    FeatureCache,
    HistogramEmbedder,
    TrainConfig,
    exclusion_mask,
    l2_normalize,
    path_features,
    read_labelled_catalog,
    retrieval_scores,
    train_head,
    train_head_on_features,
)

TINY = TrainConfig(epochs=30, batch_size=64, hidden_dim=64, out_dim=32, lr=5e-3, variants=("orig", "flip"))


def test_head_recovers_a_type_signal_that_raw_cosine_misses() -> None:
    # 3 types live in 2 weak dimensions; 30 strong nuisance dimensions dominate the raw cosine
    rng = np.random.default_rng(0)
    types = np.repeat(["a", "b", "c"], 60)
    centres = {"a": (3.0, 0.0), "b": (0.0, 3.0), "c": (-3.0, -3.0)}
    signal = np.array([centres[t] for t in types]) + rng.normal(scale=0.5, size=(180, 2))
    feats = np.concatenate([signal, rng.normal(scale=4.0, size=(180, 30))], axis=1).astype(np.float32)
    train, test = np.arange(180) % 3 != 0, np.arange(180) % 3 == 0
    cfg = TrainConfig(epochs=40, batch_size=32, hidden_dim=32, out_dim=16, lr=1e-2, colour_weight=0.0)
    head = train_head_on_features([feats[train]], types[train].tolist(), ["x"] * int(train.sum()), cfg)

    def p5(emb: np.ndarray) -> float:
        excl = np.eye(180, dtype=bool)[test]
        return retrieval_scores(emb[test], types[test], ["x"] * 60, emb, types, ["x"] * 180, excl).p_at_5

    raw, learned = p5(l2_normalize(feats)), p5(head(feats))
    assert raw < 0.6
    assert learned > 0.9


def test_training_is_deterministic_and_checks_its_input() -> None:
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(40, 8)).astype(np.float32)
    types = ["a", "b"] * 20
    cfg = TrainConfig(epochs=2, batch_size=16, hidden_dim=8, out_dim=4)
    h1 = train_head_on_features([feats], types, ["x"] * 40, cfg)
    h2 = train_head_on_features([feats], types, ["x"] * 40, cfg)
    assert h1.digest == h2.digest
    with pytest.raises(ValueError, match="two product types"):
        train_head_on_features([feats], ["a"] * 40, ["x"] * 40, cfg)
    with pytest.raises(ValueError, match="one feature row"):
        train_head_on_features([feats[:10]], types, ["x"] * 40, cfg)


def test_head_on_coloured_shapes_beats_both_baselines(tmp_path: Path, backbone: object) -> None:
    """Photos of 4 shapes × 3 colours: same-shape retrieval of unseen photos improves with the head."""
    train_rows = write_shape_set(tmp_path / "train", per_class=6, seed=0)
    test_rows = write_shape_set(tmp_path / "test", per_class=3, seed=1)
    train_items = read_labelled_catalog(write_csv(tmp_path / "train", train_rows))
    test_items = read_labelled_catalog(write_csv(tmp_path / "test", test_rows))
    cache = FeatureCache(tmp_path / "cache")
    cfg = TrainConfig(**{**TINY.__dict__, "resolution": 96})
    finetuned = train_head(train_items, cfg, cache=cache)
    assert finetuned.head.config.info["n_images"] == 72

    gallery = train_items + test_items
    excl = exclusion_mask(test_items, gallery)
    paths = [str(it.path) for it in gallery]

    def p5(emb: np.ndarray) -> float:
        n = len(train_items)
        t = [it.type for it in gallery]
        c = [it.colour for it in gallery]
        return retrieval_scores(emb[n:], t[n:], c[n:], emb, t, c, excl).p_at_5

    imagenet = CnnEmbedder(resolution=96)
    cnn_feats = path_features(imagenet, paths, cache)
    scores = {
        "finetuned": p5(finetuned.finish(cnn_feats)),
        "imagenet": p5(imagenet.finish(cnn_feats)),
        "histogram": p5(path_features(HistogramEmbedder(), paths, cache)),
    }
    assert scores["finetuned"] >= 0.8, scores
    assert scores["finetuned"] > scores["imagenet"], scores
    assert scores["finetuned"] > scores["histogram"], scores


def test_read_catalog_layouts(tmp_path: Path) -> None:
    rows = write_shape_set(tmp_path, per_class=1)
    csv_items = read_labelled_catalog(write_csv(tmp_path, rows))
    assert len(csv_items) == 12 and csv_items[0].type == "circle" and csv_items[0].path.is_file()
    jsonl = tmp_path / "catalog.jsonl"
    jsonl.write_text(
        "\n".join(
            json.dumps(
                {
                    "id": i,
                    "product_type": "Casual Shoe",
                    "attributes": {"color": "Navy  Blue"},
                    "image_path": str(p.relative_to(tmp_path)),
                }
            )
            for i, *_, p in rows
        )
        + "\n"
        + json.dumps({"id": "no-photo", "product_type": "sofa"})
        + "\n",
        encoding="utf-8",
    )
    items = read_labelled_catalog(jsonl)
    assert len(items) == 12  # the product without a photo is skipped
    assert (items[0].type, items[0].colour) == ("casual shoe", "navy blue")


def test_read_catalog_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,title\n1,shirt\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing column") as info:
        read_labelled_catalog(bad)
    assert "\n" not in str(info.value)
    missing = tmp_path / "missing.csv"
    missing.write_text("id,articleType,baseColour,image\n1,shirt,red,images/nope.jpg\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not found"):
        read_labelled_catalog(missing)
    with pytest.raises(ValueError, match="no such file"):
        read_labelled_catalog(tmp_path / "absent.csv")
