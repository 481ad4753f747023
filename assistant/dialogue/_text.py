"""Wording helpers: money, product-type phrases, lists, speech-safe text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from assistant.nlu import number_to_words
from assistant.products import money

__all__ = [
    "money",
    "describe_filters",
    "join_words",
    "plural",
    "speech_text",
    "spoken_price",
    "title_case",
    "voice_speech",
]

_PLURAL_SAME = frozenset(
    {
        "jeans",
        "shorts",
        "trousers",
        "sunglasses",
        "briefs",
        "socks",
        "earrings",
        "heels",
        "flats",
        "flip flops",
    }
)


def plural(noun: str) -> str:
    noun = noun.strip()
    if not noun or noun in _PLURAL_SAME or noun.endswith("s") and not noun.endswith("ss"):
        return noun
    if noun.endswith(("ch", "sh", "x", "ss", "z")):
        return noun + "es"
    if noun.endswith("y") and len(noun) > 2 and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def join_words(items: Sequence[str], last: str = "or") -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


def title_case(value: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in value.split())


def describe_filters(filters: dict[str, Any], *, count: int | None = None) -> str:
    """ "black watches for men under $200" from the active filters."""
    noun = str(filters.get("product_type") or "")
    noun = plural(noun) if noun and count != 1 else noun or ("products" if count != 1 else "product")
    words = [str(filters[k]) for k in ("color", "material", "brand") if filters.get(k)]
    phrase = " ".join([*words, noun])
    if filters.get("gender"):
        phrase += f" for {filters['gender']}"
    if filters.get("size"):
        phrase += f" in size {filters['size']}"
    lo, hi = filters.get("price_min"), filters.get("price_max")
    if lo is not None and hi is not None:
        phrase += f" between {money(float(lo))} and {money(float(hi))}"
    elif hi is not None:
        phrase += f" under {money(float(hi))}"
    elif lo is not None:
        phrase += f" over {money(float(lo))}"
    if filters.get("rating_min") is not None:
        phrase += f" rated {float(filters['rating_min']):g} stars or more"
    return phrase


_MARKUP = re.compile(r"[*_`#>|\[\]{}<]")
_URL = re.compile(r"https?://\S+")
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")


_TENS_UNIT = re.compile(
    r"\b(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety) "
    r"(one|two|three|four|five|six|seven|eight|nine)\b"
)


def _spoken_number(n: int) -> str:
    """The NLU's number writer, with written-English hyphens ("forty-nine")."""
    return _TENS_UNIT.sub(r"\1-\2", number_to_words(n))


def spoken_price(value: float) -> str:
    dollars = int(value)
    cents = int(round((value - dollars) * 100))
    if cents == 100:
        dollars, cents = dollars + 1, 0
    text = f"{_spoken_number(dollars)} dollar{'s' if dollars != 1 else ''}"
    if cents:
        text += f" {_spoken_number(cents)}" if dollars else ""
        if not dollars:
            text = f"{_spoken_number(cents)} cents"
    return text


def speech_text(reply: str) -> str:
    """Plain speakable text: no markup, URLs or emoji; prices spoken as words."""
    text = _URL.sub("", reply)
    text = re.sub(
        r"\$([\d,]+(?:\.\d{1,2})?)", lambda m: spoken_price(float(m.group(1).replace(",", ""))), text
    )
    text = text.replace("★", " stars").replace("–", " to ").replace("\n", " ")
    text = _EMOJI.sub("", text)
    text = _MARKUP.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


_SPOKEN_PRODUCT_ACTIONS = frozenset({"show_products", "recommend", "ask_clarification", "compare"})


def voice_speech(response: Any, *, max_products: int = 3) -> str:
    """What a voice client reads out: the reply's first two sentences as speech, then at most
    ``max_products`` products as "title, price" (no markup, URLs or emoji; prices in words)."""
    sentences = re.split(r"(?<=[.!?])\s+", speech_text(response.reply))
    out = " ".join(sentences[:2])
    products = list(response.products or [])[:max_products]
    if products and response.action in _SPOKEN_PRODUCT_ACTIONS:
        items = [f"{speech_text(p.title)}, {spoken_price(p.price)}" for p in products]
        lead = "Top pick" if len(items) == 1 else f"Top {_spoken_number(len(items))}"
        out += f" {lead}: " + "; ".join(items) + "."
    return re.sub(r"\s+", " ", out).strip()
