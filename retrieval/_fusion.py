"""Fusing the lexical and dense rankings of the same candidate set.

Both functions take per-candidate score arrays (aligned: element i is the same
product in both) and return one fused score per candidate, higher is better.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["rrf", "blend", "FUSIONS"]

Scores = npt.NDArray[np.float64]
FUSIONS = ("rrf", "blend")


def _ranks(scores: npt.NDArray[np.floating]) -> npt.NDArray[np.int64]:
    """0-based rank of each element when sorted by descending score (ties by position)."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(len(scores))
    return ranks


def rrf(lexical: npt.NDArray[np.floating], dense: npt.NDArray[np.floating], *, k: int = 60) -> Scores:
    """Reciprocal-rank fusion; a candidate with no lexical match gets no lexical share."""
    lex_part = np.where(lexical > 0, 1.0 / (k + 1 + _ranks(lexical)), 0.0)
    dense_part = 1.0 / (k + 1 + _ranks(dense))
    out: Scores = lex_part + dense_part
    return out


def blend(
    lexical: npt.NDArray[np.floating], dense: npt.NDArray[np.floating], *, alpha: float = 0.5
) -> Scores:
    """``alpha`` × dense + (1 − alpha) × lexical, each scaled to [0, 1] over the candidates.

    BM25 is divided by its maximum (0 stays 0: "no term matched"); cosine is
    min-max scaled.  Both scalings are monotone, so each side's order is kept.
    """
    lex = lexical.astype(np.float64)
    top = float(lex.max()) if lex.size else 0.0
    lex_n = lex / top if top > 0 else np.zeros_like(lex)
    den = dense.astype(np.float64)
    lo, hi = (float(den.min()), float(den.max())) if den.size else (0.0, 0.0)
    den_n = (den - lo) / (hi - lo) if hi > lo else np.zeros_like(den)
    out: Scores = alpha * den_n + (1.0 - alpha) * lex_n
    return out
