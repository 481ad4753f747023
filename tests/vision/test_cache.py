"""The feature cache: a second run over the same files never calls the backbone."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from tests.vision.conftest import write_shape_set
from vision import CnnEmbedder, FeatureCache, path_features


class CountingCnn(CnnEmbedder):
    """The real backbone, counting the images it is asked to run."""

    def __init__(self) -> None:
        super().__init__(resolution=64)
        self.calls = 0

    def features(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        self.calls += len(images)
        return super().features(images)


def test_second_run_reads_the_cache_instead_of_the_backbone(tmp_path: Path, backbone: object) -> None:
    rows = write_shape_set(tmp_path / "data", per_class=1)
    paths = [str(p) for *_, p in rows]
    emb = CountingCnn()
    first = path_features(emb, paths, FeatureCache(tmp_path / "cache"))
    assert emb.calls == len(paths)

    fresh = FeatureCache(tmp_path / "cache")  # a new process: only the files on disk remain
    again = path_features(emb, paths, fresh)
    assert emb.calls == len(paths)  # the backbone did not run again
    assert fresh.computed == 0
    np.testing.assert_array_equal(first, again)

    flipped = path_features(emb, paths, fresh, variant="flip")  # another view is another entry
    assert emb.calls == 2 * len(paths)
    assert not np.allclose(flipped, first)


def test_a_replaced_file_is_embedded_again(tmp_path: Path) -> None:
    from vision import HistogramEmbedder

    rows = write_shape_set(tmp_path / "data", per_class=1)
    paths = [str(p) for *_, p in rows]
    hist = HistogramEmbedder()
    cache = FeatureCache(tmp_path / "cache")
    before = path_features(hist, paths, cache)
    Image.new("RGB", (60, 80), (0, 0, 0)).save(paths[0], "JPEG")
    st = os.stat(paths[0])
    os.utime(paths[0], ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    fresh = FeatureCache(tmp_path / "cache")
    after = path_features(hist, paths, fresh)
    assert fresh.computed == 1
    assert not np.allclose(after[0], before[0])
    np.testing.assert_array_equal(after[1:], before[1:])


def test_memory_only_cache_and_shard_merging(tmp_path: Path) -> None:
    cache = FeatureCache(None)
    out = cache.get_or_compute("stage", ["a", "b"], lambda idx: np.ones((len(idx), 3), np.float32))
    assert out.shape == (2, 3) and cache.computed == 2
    disk = FeatureCache(tmp_path)
    for i in range(20):  # 20 runs → 20 shards, merged on the next load
        disk.get_or_compute("s", [f"k{i}"], lambda idx, i=i: np.full((len(idx), 2), i, np.float32))
    merged = FeatureCache(tmp_path)
    got = merged.get_or_compute("s", [f"k{i}" for i in range(20)], lambda idx: np.zeros((len(idx), 2)))
    assert merged.computed == 0
    np.testing.assert_array_equal(got[:, 0], np.arange(20))
    assert len(list(next(tmp_path.iterdir()).glob("*.npz"))) == 1
