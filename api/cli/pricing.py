"""``shopassist eval pricing`` and ``shopassist train pricing`` (pricing issue #7)."""

from __future__ import annotations

from api.cli._common import fail

__all__ = ["eval_pricing", "train_pricing"]


def eval_pricing() -> None:
    """Rolling-origin backtest of the price forecasters; one JSON line per model."""
    raise fail("not built yet")


def train_pricing() -> None:
    """Train the neural price forecaster into the data dir."""
    raise fail("not built yet")
