"""Resolving references ("the second one", "the last one", "1 and 3", "it", "the blue one").

References resolve against the products shown most recently and the product in
focus.  Anything that cannot be resolved without guessing returns ``None`` so
the policy asks instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from retrieval import Product, normalize_text_value

__all__ = ["resolve_ordinals", "resolve_reference", "mentions_anaphora"]

_ANAPHORA = re.compile(
    r"\b(it|its|it's|that|this|that one|this one|the one|them|those|these|both|him|her)\b", re.IGNORECASE
)


def mentions_anaphora(text: str) -> bool:
    return bool(_ANAPHORA.search(text))


def resolve_ordinals(ordinals: Sequence[int], shown: Sequence[str]) -> list[str] | None:
    """1-based ordinals (-1 = last) → product ids; None if any is out of range."""
    out: list[str] = []
    for n in ordinals:
        idx = len(shown) - 1 if n == -1 else n - 1
        if n == 0 or idx < 0 or idx >= len(shown):
            return None
        if shown[idx] not in out:
            out.append(shown[idx])
    return out or None


def _attribute_matches(p: Product, words: set[str]) -> bool:
    hay = {normalize_text_value(v) for v in p.attributes.values()}
    hay |= {normalize_text_value(p.brand)} if p.brand else set()
    joined = " ".join(sorted(hay))
    return all(w in joined for w in words)


def resolve_reference(
    *,
    text: str,
    ordinals: Sequence[int] | None,
    descriptors: Sequence[str],
    shown: Sequence[str],
    focus: str | None,
    lookup: Callable[[str], Product | None],
) -> list[str] | None:
    """The products a message refers to, or None when it cannot be told without guessing.

    Order of evidence: explicit ordinals; then descriptors ("the blue one", "the
    Titan") that single out shown products; then an anaphor ("it", "that one")
    → the product in focus, or the only product shown.
    """
    if ordinals:
        return resolve_ordinals(ordinals, shown)
    words = {normalize_text_value(d) for d in descriptors if d}
    if words and shown:
        matches = [pid for pid in shown if (p := lookup(pid)) is not None and _attribute_matches(p, words)]
        if len(matches) == 1:
            return matches
        if len(matches) > 1:
            return None  # "the blue one" but two blue ones: ask
    if focus:
        return [focus]
    if len(shown) == 1:
        return [shown[0]]
    return None
