"""Word tokenisation with character offsets (the units the tagger labels)."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Word", "split_words", "MAX_CHARS", "MAX_WORDS"]

#: longer input is cut here before anything else happens
MAX_CHARS = 600
#: and to this many words (the encoder sees at most ``max_length`` sub-tokens anyway)
MAX_WORDS = 64

# numbers with thousands separators / decimals ("1,200", "49.99", "1.5k", "3.5mm"), then words
# with inner apostrophes or dots ("men's", "u.s"), then any other single visible character
_WORD = re.compile(r"\d+(?:[.,]\d+)+[^\W_]*|[^\W_]+(?:['’.][^\W_]+)*|\S")


@dataclass(frozen=True)
class Word:
    text: str
    start: int
    end: int


def split_words(text: str, *, max_words: int | None = None) -> list[Word]:
    """Words of ``text`` with their offsets; hyphens and punctuation are words of their own."""
    out: list[Word] = []
    for m in _WORD.finditer(text):
        out.append(Word(m.group(0), m.start(), m.end()))
        if max_words is not None and len(out) >= max_words:
            break
    return out
