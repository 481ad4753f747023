"""Binary classification metrics over risk scores: ROC AUC, precision / recall / F1, best threshold.

All take ``labels`` (1 = the session ended without an order) and ``scores`` (the predicted risk),
one per prediction.  A prediction is *positive* when ``score >= threshold``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["roc_auc", "precision_recall_f1", "best_f1_threshold"]

Array = npt.NDArray[np.floating]


def _average_ranks(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """1-based ranks, ties sharing their average rank."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), np.float64)
    sorted_values = values[order]
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and sorted_values[j + 1] == sorted_values[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def roc_auc(labels: Array | list[int], scores: Array | list[float]) -> float:
    """The probability that a random positive scores above a random negative (ties count half);
    ``nan`` without both classes."""
    y = np.asarray(labels, np.float64)
    s = np.asarray(scores, np.float64)
    n_pos = float(y.sum())
    n_neg = float(len(y) - n_pos)
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _average_ranks(s)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def precision_recall_f1(
    labels: Array | list[int], scores: Array | list[float], threshold: float
) -> tuple[float, float, float]:
    """Precision, recall and F1 of ``score >= threshold`` (0 where undefined)."""
    y = np.asarray(labels, np.int64)
    predicted = np.asarray(scores, np.float64) >= threshold
    tp = float(np.sum(predicted & (y == 1)))
    fp = float(np.sum(predicted & (y == 0)))
    fn = float(np.sum(~predicted & (y == 1)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def best_f1_threshold(labels: Array | list[int], scores: Array | list[float]) -> tuple[float, float]:
    """The threshold (one of the scores) with the highest F1, and that F1; ties go to the higher
    threshold (fewer alarms)."""
    y = np.asarray(labels, np.int64)
    s = np.asarray(scores, np.float64)
    n_pos = int(y.sum())
    if len(s) == 0 or n_pos == 0:
        return 0.5, 0.0
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    tp = np.cumsum(y_sorted)
    fp = np.cumsum(1 - y_sorted)
    # a threshold sits at the last of a run of equal scores
    last = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    precision = tp / np.maximum(tp + fp, 1)
    recall = tp / n_pos
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0)
    f1 = np.where(last, f1, -1.0)
    best = int(np.flatnonzero(f1 == f1.max())[0])  # the first (highest score) of the best
    return float(s_sorted[best]), float(f1[best])
