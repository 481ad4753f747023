"""Sessions → prediction sequences, splits by session, and the evaluation of a model on them.

**What is predicted.**  After each turn of a session that comes before its first order (see
:func:`~assistant.behaviour.features.order_cut`), the risk that the session ends without an order.
A session contributes one *prediction* per such turn, all with the session's label (1 = no order).

**Metrics** (:func:`evaluate`) are over those predictions ("per turn prefix"): ROC AUC of the risk,
and precision / recall / F1 of ``risk >= threshold`` with the model's operating threshold (chosen
on the validation split, best F1).  The same is computed for the logistic-regression baseline with
its own threshold.  Sessions are split, never their turns: a session's predictions are all in the
training, the validation or the test part.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.behaviour.features import SessionLog, order_cut, turn_features
from assistant.behaviour.metrics import precision_recall_f1, roc_auc
from assistant.behaviour.model import AbandonmentModel

__all__ = ["Sequences", "build_sequences", "split_by_session", "evaluate"]


@dataclass
class Sequences:
    """Per session: its feature rows up to its first order, and its label."""

    ids: list[str]
    x: list[npt.NDArray[np.float32]]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, idx: Sequence[int]) -> Sequences:
        return Sequences([self.ids[i] for i in idx], [self.x[i] for i in idx], [self.labels[i] for i in idx])

    @property
    def n_predictions(self) -> int:
        return int(sum(len(x) for x in self.x))


def build_sequences(sessions: Sequence[SessionLog], *, max_turns: int | None = None) -> Sequences:
    """The sessions that have at least one turn before any order (the rest predict nothing), in the
    order they started (ties by id): the same log gives the same sequences, whatever its ids."""
    out = Sequences([], [], [])
    for s in sorted(sessions, key=lambda s: (min((t.at for t in s.turns), default=0.0), s.session_id)):
        turns = sorted(s.turns, key=lambda t: t.at)
        cut = order_cut(turns, s.events)
        if max_turns is not None:
            cut = min(cut, max_turns)
        if cut == 0:
            continue
        out.ids.append(s.session_id)
        out.x.append(turn_features(turns, s.events)[:cut])
        out.labels.append(int(s.abandoned))
    return out


def split_by_session(
    ids: Sequence[str], *, val_share: float, test_share: float, seed: int
) -> tuple[list[int], list[int], list[int]]:
    """Indices of the training, validation and test sessions: a seeded shuffle of the positions
    (``ids`` in :func:`build_sequences` order, so a split depends on the log, not on its random ids)."""
    order = list(range(len(ids)))
    random.Random(seed).shuffle(order)
    n_val = max(1, math.floor(len(ids) * val_share)) if val_share > 0 else 0
    n_test = max(1, math.floor(len(ids) * test_share)) if test_share > 0 else 0
    val, test = order[:n_val], order[n_val : n_val + n_test]
    train = order[n_val + n_test :]
    return sorted(train), sorted(val), sorted(test)


def evaluate(model: AbandonmentModel, data: Sequences) -> dict[str, Any]:
    """Per-prefix metrics of the model and its baseline on ``data`` (see the module docstring)."""
    labels: list[int] = []
    scores: list[float] = []
    base: list[float] = []
    for x, label in zip(data.x, data.labels, strict=True):
        labels += [label] * len(x)
        scores += model.risks(x).tolist()
        base += model.baseline_risks(x).tolist()
    p, r, f1 = precision_recall_f1(labels, scores, model.threshold)
    bp, br, bf1 = precision_recall_f1(labels, base, model.baseline_threshold)

    def num(v: float) -> float | None:
        return None if math.isnan(v) else round(v, 4)

    return {
        "n_sessions": len(data),
        "n_predictions": len(labels),
        "abandon_rate": round(sum(data.labels) / len(data), 4) if len(data) else None,
        "auc": num(roc_auc(labels, scores)),
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f1, 4),
        "threshold": round(model.threshold, 4),
        "baseline_auc": num(roc_auc(labels, base)),
        "baseline_precision": round(bp, 4),
        "baseline_recall": round(br, 4),
        "baseline_f1": round(bf1, 4),
        "baseline_threshold": round(model.baseline_threshold, 4),
    }
