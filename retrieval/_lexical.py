"""BM25 over product texts (``bm25s``, English stop words, Snowball stemming)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["LexicalIndex"]

Scores = npt.NDArray[np.float32]


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


class LexicalIndex:
    """A bm25s index whose document i is row i of the hybrid index."""

    def __init__(self, *, k1: float = 1.2, b: float = 0.75) -> None:
        import bm25s

        self._bm25s = bm25s
        self._stem = _stemmer()
        self._k1 = k1
        self._b = b
        self._retriever: Any = None
        self._vocab: dict[str, int] = {}
        self.n_docs = 0

    def _tokenize(self, texts: list[str]) -> Any:
        return self._bm25s.tokenize(texts, stopwords="en", stemmer=self._stem, show_progress=False)

    def build(self, texts: Sequence[str]) -> None:
        retriever = self._bm25s.BM25(k1=self._k1, b=self._b)
        if texts:
            retriever.index(self._tokenize(list(texts)), show_progress=False)
        self._retriever = retriever if texts else None
        self._vocab = dict(retriever.vocab_dict) if texts else {}
        self.n_docs = len(texts)

    def query_terms(self, query: str) -> tuple[list[str], int]:
        """The known stemmed terms, and how many distinct terms the query has in all."""
        if self._retriever is None:
            return [], 0
        toks = self._bm25s.tokenize(
            [query], stopwords="en", stemmer=self._stem, return_ids=False, show_progress=False
        )[0]
        known: list[str] = []
        for t in toks:
            if t in self._vocab and t not in known:
                known.append(t)
        return known, len(set(toks))

    def scores(self, tokens: list[str]) -> Scores:
        """BM25 score of every document for the query terms (zeros when none match)."""
        if self._retriever is None or not tokens:
            return np.zeros(self.n_docs, dtype=np.float32)
        out: Scores = np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)
        return out

    def coverage(self, tokens: list[str]) -> npt.NDArray[np.int16]:
        """How many of the query terms each document contains."""
        cov = np.zeros(self.n_docs, dtype=np.int16)
        for t in tokens:
            cov += self.scores([t]) > 0
        return cov

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self._retriever is not None:
            self._retriever.save(str(path), show_progress=False)
        (path / "n_docs").write_text(str(self.n_docs))

    def load(self, path: Path) -> None:
        self.n_docs = int((path / "n_docs").read_text())
        if self.n_docs == 0:
            self._retriever, self._vocab = None, {}
            return
        bm25s_logger = logging.getLogger("bm25s")
        level = bm25s_logger.level
        bm25s_logger.setLevel(logging.ERROR)
        try:
            self._retriever = self._bm25s.BM25.load(str(path), show_progress=False)
        finally:
            bm25s_logger.setLevel(level)
        self._vocab = dict(self._retriever.vocab_dict)
