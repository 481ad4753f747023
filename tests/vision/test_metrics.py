"""Retrieval metrics against values worked out by hand, and the own-photo exclusion."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vision import LabelledImage, exclusion_mask, retrieval_scores


def test_scores_match_a_hand_worked_ranking() -> None:
    # one query; gallery ranked by similarity: g0 (shirt, red), g1 (shoe), g2 (shirt, blue), g3 (shoe)
    q = np.array([[1.0, 0.0]], dtype=np.float32)
    angles = np.array([0.1, 0.2, 0.3, 0.4])
    g = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    s = retrieval_scores(
        q,
        ["shirt"],
        ["red"],
        g,
        ["shirt", "shoe", "shirt", "shoe"],
        ["red", "red", "blue", "red"],
        np.zeros((1, 4), bool),
    )
    assert s.p_at_1 == 1.0
    assert s.p_at_5 == 2 / 5  # top 5 of a 4-item gallery: 2 shirts out of 5 slots
    assert s.p_at_5_type_colour == 1 / 5
    assert abs(s.map - (1 / 1 + 2 / 3) / 2) < 1e-9


def test_excluded_items_neither_rank_nor_count() -> None:
    q = np.array([[1.0, 0.0]], dtype=np.float32)
    g = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
    exclude = np.array([[True, False, False]])
    s = retrieval_scores(q, ["a"], ["x"], g, ["a", "b", "a"], ["x", "x", "x"], exclude)
    assert s.p_at_1 == 1.0  # g2 (the other "a"), not the query's own photo g0
    assert s.map == 1.0


def test_map_equals_brute_force_on_random_data() -> None:
    rng = np.random.default_rng(1)
    q = rng.normal(size=(7, 4)).astype(np.float32)
    g = rng.normal(size=(30, 4)).astype(np.float32)
    qt = rng.choice(["a", "b", "c"], size=7).tolist()
    gt = rng.choice(["a", "b", "c"], size=30).tolist()
    s = retrieval_scores(q, qt, ["x"] * 7, g, gt, ["x"] * 30, np.zeros((7, 30), bool), chunk=3)
    aps = []
    for i in range(7):
        order = np.argsort(-(g @ q[i]))
        rel = [gt[j] == qt[i] for j in order]
        hits, precs = 0, []
        for rank, r in enumerate(rel, 1):
            if r:
                hits += 1
                precs.append(hits / rank)
        aps.append(np.mean(precs) if precs else 0.0)
    assert abs(s.map - float(np.mean(aps))) < 1e-6


def test_exclusion_by_file_and_by_product_id(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    queries = [LabelledImage("1", a, "t", "c")]
    gallery = [
        LabelledImage("9", tmp_path / "." / "a.jpg", "t", "c"),  # same file, other id
        LabelledImage("1", b, "t", "c"),  # same product, other photo
        LabelledImage("2", b, "t", "c"),
    ]
    assert exclusion_mask(queries, gallery).tolist() == [[True, True, False]]
