"""Spelling correction against a vocabulary ("blak" -> "black"), SymSpell style.

Every vocabulary entry is indexed by the strings left after deleting up to ``max_distance``
characters; a query looks up its own deletes and verifies the few candidates with the
optimal-string-alignment (Damerau) distance.  Lookup is a few dictionary hits, so it is cheap
enough to run on every parse.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations

__all__ = ["SpellIndex", "osa_distance", "allowed_distance"]


def osa_distance(a: str, b: str, limit: int = 3) -> int:
    """Edit distance with adjacent transpositions; returns ``limit + 1`` when it exceeds ``limit``."""
    if a == b:
        return 0
    la, lb = len(a), len(b)
    if abs(la - lb) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        cur = [i] + [0] * lb
        best = cur[0]
        for j in range(1, lb + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            best = min(best, v)
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[lb]


def allowed_distance(word: str, *, min_length: int = 4) -> int:
    """How many edits a misspelling of this length may hold: 0 below ``min_length``, 1, 2 from 8."""
    n = len(word.replace(" ", ""))
    if n < min_length:
        return 0
    return 2 if n >= 8 else 1


def _deletes(word: str, n: int) -> set[str]:
    out = {word}
    if n <= 0 or len(word) <= 1:
        return out
    idx = range(len(word))
    for k in range(1, min(n, len(word) - 1) + 1):
        for drop in combinations(idx, k):
            out.add("".join(c for i, c in enumerate(word) if i not in drop))
    return out


class SpellIndex:
    """Vocabulary with fast nearest-spelling lookup."""

    def __init__(
        self, words: Iterable[str], *, max_distance: int = 2, min_length: int = 4, same_start: bool = False
    ) -> None:
        self.words: frozenset[str] = frozenset(w for w in words if w)
        self.max_distance = max_distance
        self.min_length = min_length
        self.same_start = same_start  # only corrections that keep the first letter
        self._index: dict[str, set[str]] = {}
        for w in self.words:
            d = min(self.max_distance, allowed_distance(w, min_length=self.min_length))
            for key in _deletes(w, d):
                self._index.setdefault(key, set()).add(w)

    def __contains__(self, word: object) -> bool:
        return word in self.words

    def correct(self, word: str) -> str | None:
        """The vocabulary entry ``word`` most likely means, or ``None`` when none is close enough."""
        if word in self.words:
            return word
        d = min(self.max_distance, allowed_distance(word, min_length=self.min_length))
        if d == 0:
            return None
        candidates: set[str] = set()
        for key in _deletes(word, d):
            hit = self._index.get(key)
            if hit:
                candidates |= hit
        best: list[tuple[int, str]] = []
        for c in candidates:
            if self.same_start and c[:1] != word[:1]:
                continue
            dist = osa_distance(word, c, limit=d)
            if dist <= min(d, allowed_distance(c, min_length=self.min_length) or d):
                best.append((dist, c))
        if not best:
            return None
        best.sort()
        top = [c for dist, c in best if dist == best[0][0]]
        if len(top) == 1:
            return top[0]
        # a tie: keep the candidate that starts like the query, if exactly one does
        same_start = [c for c in top if c[:1] == word[:1]]
        if len(same_start) == 1:
            return same_start[0]
        same_end = [c for c in top if c[-1:] == word[-1:] and c[:1] == word[:1]]
        return same_end[0] if len(same_end) == 1 else None
