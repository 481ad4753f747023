"""``shopassist eval vision`` and ``shopassist train vision`` (vision issue #8)."""

from __future__ import annotations

from api.cli._common import fail

__all__ = ["eval_vision", "train_vision"]


def eval_vision() -> None:
    """Image retrieval quality and speed per embedder; one JSON line per embedder."""
    raise fail("not built yet")


def train_vision() -> None:
    """Fine-tune the image embedder's projection head into the data dir."""
    raise fail("not built yet")
