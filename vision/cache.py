"""On-disk cache of per-image features, so a repeated evaluation or training run skips the backbone.

The backbone is by far the slow part (tens of images per second on two cores); a trained head on
top of it costs microseconds.  So the cache stores the *stage below any trained head*: the pooled
EfficientNet features (or the histogram descriptor), under a stage key that names the backbone,
its resolution, padding, normalisation and augmentation variant.  A retrained head therefore never
reads stale embeddings, and ``cnn-imagenet`` and ``cnn-finetuned`` share one set of features.

Entries are keyed by the resolved file path, its size and its modification time in nanoseconds: a
replaced photo gets a new key.  Each run that computes something appends one ``.npz`` shard
(written to a temporary name, then renamed, so a killed run leaves no half file); many shards are
merged into one on the next load.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vision.embed import ImageEmbedder, Variant, augment
from vision.preprocess import ImageRejected, load_image

__all__ = ["FeatureCache", "file_key", "path_features"]

_MAX_SHARDS = 16


def file_key(path: str | os.PathLike[str]) -> str:
    """``resolved path|size|mtime_ns``: changes whenever the file is replaced or edited."""
    p = Path(path).resolve()
    st = p.stat()
    return f"{p}|{st.st_size}|{st.st_mtime_ns}"


def _stage_dir_name(stage: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", stage)[:80]
    return f"{safe}-{hashlib.sha256(stage.encode()).hexdigest()[:10]}"


class FeatureCache:
    """Feature rows by (stage key, file key); ``root=None`` keeps them in memory only.

    Not safe for two processes writing the same stage at once beyond "both shards survive": each
    writes its own uniquely named shard, so the worst case is computing a row twice.
    """

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._stages: dict[str, dict[str, NDArray[np.float32]]] = {}
        #: rows computed by this process (what the tests read to prove a rerun skipped the backbone)
        self.computed = 0

    def _load_stage(self, stage: str) -> dict[str, NDArray[np.float32]]:
        if stage in self._stages:
            return self._stages[stage]
        rows: dict[str, NDArray[np.float32]] = {}
        if self.root is not None:
            folder = self.root / _stage_dir_name(stage)
            shards = sorted(folder.glob("*.npz")) if folder.is_dir() else []
            for shard in shards:
                try:
                    with np.load(shard, allow_pickle=False) as data:
                        keys, feats = data["keys"], data["features"]
                except (OSError, ValueError, KeyError):
                    continue  # a damaged shard only costs recomputation
                for k, row in zip(keys.tolist(), feats, strict=True):
                    rows[str(k)] = np.asarray(row, dtype=np.float32)
            if len(shards) > _MAX_SHARDS and rows:
                self._write(stage, list(rows), np.stack(list(rows.values())))
                for shard in shards:
                    shard.unlink(missing_ok=True)
        self._stages[stage] = rows
        return rows

    def _write(self, stage: str, keys: Sequence[str], feats: NDArray[np.float32]) -> None:
        if self.root is None:
            return
        folder = self.root / _stage_dir_name(stage)
        folder.mkdir(parents=True, exist_ok=True)
        name = uuid.uuid4().hex
        tmp = folder / f".{name}.tmp.npz"
        np.savez(tmp, keys=np.array(list(keys), dtype=str), features=feats.astype(np.float32))
        os.replace(tmp, folder / f"{name}.npz")

    def get_or_compute(
        self,
        stage: str,
        keys: Sequence[str],
        compute: Callable[[list[int]], NDArray[np.float32]],
        *,
        chunk: int = 256,
        progress: Callable[[int, int], None] | None = None,
    ) -> NDArray[np.float32]:
        """Rows for ``keys`` in order; ``compute(indices)`` runs only for the missing ones.

        Missing rows are computed and saved ``chunk`` at a time, so an interrupted run keeps what
        it finished.
        """
        rows = self._load_stage(stage)
        missing = [i for i, k in enumerate(keys) if k not in rows]
        done = len(keys) - len(missing)
        if progress is not None:
            progress(done, len(keys))
        for start in range(0, len(missing), chunk):
            part = missing[start : start + chunk]
            feats = np.asarray(compute(part), dtype=np.float32)
            if feats.shape[0] != len(part):
                raise ValueError(f"compute returned {feats.shape[0]} rows for {len(part)} images")
            part_keys = [keys[i] for i in part]
            for k, row in zip(part_keys, feats, strict=True):
                rows[k] = row
            self._write(stage, part_keys, feats)
            self.computed += len(part)
            done += len(part)
            if progress is not None:
                progress(done, len(keys))
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([rows[k] for k in keys]).astype(np.float32, copy=False)


def path_features(
    embedder: ImageEmbedder,
    paths: Sequence[str | os.PathLike[str]],
    cache: FeatureCache,
    *,
    variant: Variant = "orig",
    progress: Callable[[int, int], None] | None = None,
) -> NDArray[np.float32]:
    """The embedder's cacheable stage (``features``) for image files, computing only what is missing.

    Files go through :func:`vision.load_image`, the same checks as uploads; a bad catalog photo
    raises :class:`vision.ImageRejected` naming the file.
    """
    keys = [f"{file_key(p)}|{variant}" for p in paths]

    def compute(indices: list[int]) -> NDArray[np.float32]:
        images = []
        for i in indices:
            try:
                images.append(augment(load_image(paths[i]), variant))
            except ImageRejected as exc:
                raise ImageRejected(exc.code, f"{paths[i]}: {exc.message}") from None
        return embedder.features(images)

    return cache.get_or_compute(embedder.feature_key, keys, compute, progress=progress)
