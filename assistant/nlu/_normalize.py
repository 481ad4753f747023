"""Slot values to the schema of DESIGN.md, and the spoken-form pre-normaliser.

The tagger marks *where* a value is ("under [two hundred fifty bucks]" -> price_max); this
module says *what* it is (250.0).  Rules, one per slot:

- prices: digits or words, with currency words/symbols ("$", "bucks", "dollars", "usd"),
  "1.5k", "2 grand", "a hundred", "two fifty" (spoken 250).  The cue word decides min or max
  in the tagger ("under"/"nothing over" -> price_max, "over"/"nothing under" -> price_min);
  "around 300" is tagged ``price_approx`` and becomes the range 240..360 (±20 %).  A min above
  the max is swapped.
- ordinals: "second"/"2nd"/"number 2" -> [2], "last" -> [-1], "second to last" -> [-2],
  "1 and 3" -> [1, 3], "the first two"/"top 2" -> [1, 2], "last two" -> [-2, -1].
- superlatives -> sort: cheapest -> price_asc, most expensive/priciest -> price_desc,
  best/top/highest rated -> rating_desc.
- product types: lower case, singular (pluralia tantum such as jeans kept), misspellings
  corrected against the vocabulary; colour, material and brand: lower case, misspellings
  corrected when a vocabulary entry is within 1 edit (2 from 8 letters).
- sizes: lower case; numbers in words to digits ("ten and a half" -> 10.5); dimensions AxB
  ("five by seven" -> 5x7).
- gender: men / women / boys / girls / unisex ("men's", "for him", "ladies", "my wife").
- order ids: punctuation dropped, case kept ("#BX-2290" -> BX2290); spoken digits to digits.
- quantity: int ("two", "a couple" -> 2); rating_min: float 0..5 ("4 stars and up" -> 4).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.nlu._inflect import singularize
from assistant.nlu._numbers import (
    NUMBER_WORDS,
    SCALES,
    UNITS,
    format_number,
    parse_number,
    parse_ordinal_token,
)
from assistant.nlu._spell import SpellIndex
from assistant.nlu._text import split_words
from assistant.nlu._vocab import CatalogVocabulary, builtin_vocabulary, canonical_brand

__all__ = [
    "Lexicon",
    "APPROX_RANGE",
    "normalize_value",
    "assemble_slots",
    "normalize_spoken",
    "parse_price",
    "parse_ordinals",
    "parse_sort",
    "parse_gender",
    "parse_size",
    "parse_order_id",
    "parse_quantity",
    "parse_rating",
    "GENDER_WORDS",
]

#: "around 300" means 300 ± 20 %
APPROX_RANGE = 0.2

GENDER_WORDS: dict[str, str] = {}
for _g, _words in {
    "men": (
        "men",
        "mens",
        "men's",
        "mens'",
        "man",
        "man's",
        "male",
        "males",
        "him",
        "his",
        "guy",
        "guys",
        "guy's",
        "gents",
        "gent",
        "gentleman",
        "gentlemen",
        "gentlemen's",
        "husband",
        "boyfriend",
        "dad",
        "father",
        "brother",
        "grandpa",
        "grandfather",
        "uncle",
        "masculine",
        "mans",
        "menswear",
        "fiance",
        "hubby",
        "bf",
    ),
    "women": (
        "women",
        "womens",
        "women's",
        "womens'",
        "woman",
        "woman's",
        "womans",
        "ladies",
        "ladies'",
        "lady",
        "lady's",
        "female",
        "females",
        "her",
        "hers",
        "wife",
        "girlfriend",
        "mom",
        "mum",
        "mother",
        "sister",
        "grandma",
        "grandmother",
        "aunt",
        "feminine",
        "womenswear",
        "fiancee",
        "gal",
        "gals",
        "gf",
        "wifey",
    ),
    "boys": ("boys", "boy", "boy's", "boys'", "son", "nephew", "grandson", "toddler boy"),
    "girls": ("girls", "girl", "girl's", "girls'", "daughter", "niece", "granddaughter", "toddler girl"),
    "unisex": ("unisex", "gender neutral", "gender-neutral", "anyone", "everyone", "both"),
}.items():
    for _w in _words:
        GENDER_WORDS[_w] = _g

_GENDER_INDEX = SpellIndex(GENDER_WORDS, min_length=4)

_SORT_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        (
            "high to low",
            "highest to lowest",
            "descending",
            "most expensive",
            "priciest",
            "highest price",
            "highest priced",
            "most pricey",
            "priciest",
            "most costly",
            "dearest",
            "expensive first",
            "highest cost",
            "premium",
            "high end",
            "highest end",
            "high - end",
            "highest - end",
            "luxury",
        ),
        "price_desc",
    ),
    (
        (
            "low to high",
            "lowest to highest",
            "ascending",
            "cheap",
            "least expensive",
            "lowest price",
            "lowest priced",
            "most affordable",
            "affordable",
            "budget",
            "inexpensive",
            "lowest cost",
            "least pricey",
            "cheapo",
            "value",
        ),
        "price_asc",
    ),
    (
        (
            "rated",
            "rating",
            "review",
            "best",
            "top",
            "highest",
            "popular",
            "favorite",
            "favourite",
            "star",
            "acclaimed",
            "loved",
        ),
        "rating_desc",
    ),
    (("expensive", "pricey", "costly"), "price_desc"),
    (("price", "cost"), "price_asc"),
)

_CURRENCY_WORDS = {
    "dollars",
    "dollar",
    "bucks",
    "buck",
    "usd",
    "$",
    "us",
    "€",
    "£",
    "eur",
    "euros",
    "euro",
    "gbp",
    "pounds",
    "quid",
    "rs",
    "inr",
    "rupees",
    "bux",
}
_DETERMINERS = {
    "a",
    "an",
    "the",
    "some",
    "any",
    "my",
    "those",
    "these",
    "this",
    "that",
    "one",
    "pair",
    "of",
    "new",
}
_EDGE_PUNCT = " \t\n.,;:!?\"'()[]{}<>*"


@dataclass
class Lexicon:
    """Vocabularies that slot values are corrected against."""

    vocabulary: CatalogVocabulary = field(default_factory=CatalogVocabulary)

    def __post_init__(self) -> None:
        self.cache: dict[tuple[str, str, bool], bool] = {}  # vocabulary look-ups of the span rules
        v = self.vocabulary
        self.types = SpellIndex(v.product_types, min_length=4, same_start=True)
        self.brands = SpellIndex(v.brands, min_length=5, same_start=True)
        self.colors = SpellIndex(v.colors, min_length=4, same_start=True)
        self.materials = SpellIndex(v.materials, min_length=4, same_start=True)

    @classmethod
    def default(cls, extra: CatalogVocabulary | None = None) -> Lexicon:
        vocab = builtin_vocabulary()
        if extra is not None:
            vocab = vocab.merged(extra)
        return cls(vocab)


_DEFAULT_LEXICON: Lexicon | None = None


def _default_lexicon() -> Lexicon:
    global _DEFAULT_LEXICON
    if _DEFAULT_LEXICON is None:
        _DEFAULT_LEXICON = Lexicon.default()
    return _DEFAULT_LEXICON


def _clean(text: str) -> str:
    return " ".join(text.strip(_EDGE_PUNCT).split())


def _tokens(text: str) -> list[str]:
    return [w.text.lower() for w in split_words(text)]


def _number_runs(tokens: Sequence[str]) -> list[float]:
    """Every number in a token list, longest readings first from the left."""
    out: list[float] = []
    i = 0
    n = len(tokens)
    while i < n:
        if not _can_start_number(tokens, i):
            i += 1
            continue
        best_j = -1
        best_v = 0.0
        for j in range(i + 1, min(n, i + 12) + 1):
            if tokens[j - 1] in {"and", "a", "an", "point"}:
                continue
            if not all(_numberish(t) for t in tokens[i:j]):
                break
            v = parse_number(" ".join(tokens[i:j]))
            if v is not None:
                best_j, best_v = j, v
        if best_j < 0:
            i += 1
            continue
        out.append(best_v)
        i = best_j
    return out


def _numberish(token: str) -> bool:
    t = token.lower()
    if t in NUMBER_WORDS or t in {"couple", "pair", "dozen"}:
        return True
    return bool(re.match(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:k|grand)?$|^\.\d+$", t))


def _can_start_number(tokens: Sequence[str], i: int, *, spoken: bool = False) -> bool:
    """Whether a number can begin at ``tokens[i]`` ("a" only before "hundred"/"thousand"…)."""
    t = tokens[i].lower()
    nxt = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
    if t in {"a", "an"}:
        return nxt in SCALES or (not spoken and nxt in {"couple", "pair", "dozen"})
    if t == "point":
        return nxt in UNITS or nxt.isdigit()
    if t in {"and", "half", "oh"} or t in SCALES:
        return False
    if t in {"couple", "pair", "dozen"}:
        return not spoken
    return _numberish(t)


def _first_number(text: str) -> float | None:
    cleaned = text.replace("$", " $ ").replace("€", " € ").replace("£", " £ ")
    v = parse_number(cleaned)
    if v is not None:
        return v
    runs = _number_runs(_tokens(cleaned))
    return runs[0] if runs else None


def parse_price(text: str) -> float | None:
    """ "$250", "250 bucks", "two hundred fifty dollars", "1.5k", "2 grand" -> a float."""
    v = _first_number(text)
    if v is None or v < 0 or v > 100_000_000:
        return None
    return round(float(v), 2)


def parse_rating(text: str) -> float | None:
    """ "4 stars", "four", "4.5+" -> 4.0 / 4.0 / 4.5 (0..5)."""
    v = _first_number(text.replace("+", " "))
    if v is None or not 0 <= v <= 5:
        return None
    return float(v)


def parse_quantity(text: str) -> int | None:
    """ "two", "3", "a couple", "a pair", "a dozen" -> an int (1..999)."""
    t = _clean(text.lower())
    if t in {"a", "an", "one", "single", "another", "1x", "x1"}:
        return 1
    if t in {"couple", "a couple", "a couple of", "a pair", "pair", "both", "two of", "twice"}:
        return 2
    if t in {"a few", "few"}:
        return 3
    m = re.match(r"^(?:x\s*(\d+)|(\d+)\s*x)$", t)
    if m:
        return int(m.group(1) or m.group(2))
    v = _first_number(t)
    if v is None or not v.is_integer() or not 1 <= v <= 999:
        return None
    return int(v)


def parse_gender(text: str) -> str | None:
    """ "men's", "for him", "ladies", "my wife" -> men / women / …"""
    t = _clean(text.lower().replace("’", "'"))
    if t in GENDER_WORDS:
        return GENDER_WORDS[t]
    words = [w for w in re.split(r"[\s]+", t) if w and w not in {"for", "my", "a", "the", "to", "of"}]
    for w in reversed(words):
        w = w.strip(_EDGE_PUNCT + "'")
        if w in GENDER_WORDS:
            return GENDER_WORDS[w]
        if w + "'" in GENDER_WORDS:
            return GENDER_WORDS[w + "'"]
    if len(words) == 1 and len(words[0]) >= 4:
        fixed = _GENDER_INDEX.correct(words[0])
        if fixed:
            return GENDER_WORDS[fixed]
    return None


_SORT_WORDS = SpellIndex(
    (
        "cheapest",
        "cheap",
        "cheaper",
        "expensive",
        "priciest",
        "pricey",
        "price",
        "prices",
        "priced",
        "lowest",
        "highest",
        "rated",
        "rating",
        "ratings",
        "reviewed",
        "reviews",
        "best",
        "least",
        "most",
        "affordable",
        "costly",
        "cost",
        "popular",
        "stars",
        "budget",
        "descending",
        "ascending",
        "inexpensive",
        "premium",
    ),
    min_length=4,
)


def parse_sort(text: str) -> str | None:
    """A superlative to a sort order ("cheapest" -> price_asc), or None."""
    t = " ".join(_SORT_WORDS.correct(w) or w for w in _tokens(text))
    if not t:
        return None
    if ("least" in t or "less" in t) and ("expensive" in t or "pricey" in t or "costly" in t):
        return "price_asc"
    for keys, sort in _SORT_RULES:
        if any(k in t for k in keys):
            return sort
    return None


def _ordinal_tokens(tokens: list[str]) -> list[int]:
    """Ordinals in one span (no list separators inside)."""
    toks = [
        t
        for t in tokens
        if t
        not in {
            "the",
            "item",
            "items",
            "option",
            "options",
            "number",
            "no",
            "no.",
            "#",
            "product",
            "choice",
            "from",
            "of",
            "them",
            "pick",
            "result",
            "results",
            "on",
            "in",
            "list",
        }
    ]
    if len(toks) > 1:
        toks = [t for t in toks if t not in {"one", "ones"}] or toks
    if not toks:
        return []
    last_words = {"last", "final", "bottom"}
    if any(t in last_words for t in toks):
        idx = next(i for i, t in enumerate(toks) if t in last_words)
        before = [t for t in toks[:idx] if t != "to"]
        after = toks[idx + 1 :]
        # "second to last", "second last", "2nd last" -> -2
        if before:
            k = parse_ordinal_token(before[-1])
            if k is not None:
                return [-k]
        if toks[0] == "penultimate":
            return [-2]
        # "last two" -> [-2, -1]
        if after:
            n = _first_number(" ".join(after))
            if n is not None and n.is_integer() and 1 <= n <= 10:
                return list(range(-int(n), 0))
        return [-1]
    if "penultimate" in toks:
        return [-2]
    head = toks[0]
    if head in {"first", "top", "1st"} and len(toks) >= 2:
        n = _first_number(" ".join(toks[1:]))
        if n is not None and n.is_integer() and 2 <= n <= 10:
            return list(range(1, int(n) + 1))
    if head in {"top", "first"} and len(toks) == 1:
        return [1]
    out: list[int] = []
    for t in toks:
        k = parse_ordinal_token(t)
        if k is not None:
            out.append(k)
    if out:
        return out
    n = _first_number(" ".join(toks))
    if n is not None and n.is_integer() and 1 <= n <= 100:
        return [int(n)]
    return []


def parse_ordinals(text: str) -> list[int]:
    """ "second" -> [2]; "1 and 3" -> [1, 3]; "first two" -> [1, 2]; "last" -> [-1]."""
    tokens = _tokens(text.replace("#", " # "))
    out: list[int] = []
    part: list[str] = []
    for t in tokens + ["and"]:
        if t in {"and", ",", "&", "or", "vs", "versus", "/", "with", "plus"}:
            if part:
                out.extend(_ordinal_tokens(part))
            part = []
        else:
            part.append(t)
    seen: list[int] = []
    for k in out:
        if k not in seen:
            seen.append(k)
    return seen


def _words_to_number_text(tokens: list[str]) -> str | None:
    if not tokens:
        return None
    v = parse_number(" ".join(tokens))
    if v is None:
        return None
    return format_number(v)


def parse_size(text: str) -> str | None:
    """ "XL" -> xl, "ten and a half" -> 10.5, "five by seven" -> 5x7, "55-inch" -> 55 inch."""
    t = _clean(text.lower().replace("’", "'").replace("”", '"'))
    t = re.sub(r"^(?:size|sz|a|in)\s+", "", t)
    if not t:
        return None
    # dimensions: "five by seven", "8 x 10", "8'x10'", "5×7"
    m = re.fullmatch(r"(.+?)(?:\s+by\s+|\s*[×*]\s*|(?<=[\d'\"])\s*x\s*(?=[\d.])|\s+x\s+)(.+)", t)
    if m:
        sides = []
        for d in m.groups():
            d = re.sub(r"\s*(?:feet|foot|ft|'|\")\s*$", "", d.strip()).strip("'\" ")
            num = _words_to_number_text(d.split())
            if num is None:
                break
            sides.append(num)
        if len(sides) == 2:
            return f"{sides[0]}x{sides[1]}"
    tokens = t.replace("-", " ").split()
    num = _words_to_number_text(tokens)
    if num is not None and not re.fullmatch(r"[a-z]", t):
        return num
    # a number followed by a unit: "55 inch", "fifty five inch", "128 gb"
    if len(tokens) >= 2:
        unit_map = {
            "inch": "inch",
            "inches": "inch",
            "in": "inch",
            '"': "inch",
            "gb": "gb",
            "tb": "tb",
            "ml": "ml",
            "oz": "oz",
            "ounce": "oz",
            "ounces": "oz",
            "quart": "quart",
            "quarts": "quart",
            "liter": "l",
            "litre": "l",
            "liters": "l",
            "litres": "l",
            "l": "l",
            "qt": "quart",
        }
        unit = tokens[-1]
        num = _words_to_number_text(tokens[:-1])
        if num is not None and unit in unit_map:
            u = unit_map[unit]
            return f"{num} {u}" if u in {"inch", "quart"} else f"{num}{u}"
    return t


_DIGIT_WORDS = {k: str(v) for k, v in UNITS.items() if v < 10}


def parse_order_id(text: str) -> str | None:
    """ "#BX-2290" -> BX2290; "K 7 M 2" -> K7M2; spoken digits become digits; case kept."""
    words = [w.text for w in split_words(text)]
    while words and words[0].lower() in {
        "order",
        "number",
        "no",
        "no.",
        "id",
        "#",
        "num",
        "ref",
        "reference",
    }:
        words = words[1:]
    spoken = len(text.split()) >= 4  # "k seven m two …": digits read out one by one
    parts: list[str] = []
    for w in words:
        low = w.lower()
        if spoken and low in _DIGIT_WORDS:
            parts.append(_DIGIT_WORDS[low])
        elif low in {"dash", "hyphen"}:
            continue
        else:
            parts.append(re.sub(r"[^0-9A-Za-z]", "", w))
    value = "".join(parts)
    return value or None


def _normalize_string(value: str, index: SpellIndex) -> str | None:
    v = canonical_brand(_clean(value.replace("’", "'")))
    if not v:
        return None
    fixed = index.correct(v)
    return fixed if fixed is not None else v


def _normalize_type(value: str, lexicon: Lexicon) -> str | None:
    words = _clean(value.lower().replace("’", "'")).split()
    while words and words[0] in _DETERMINERS:
        words = words[1:]
    if not words:
        return None
    v = singularize(" ".join(words))
    if v in lexicon.types:
        return v
    fixed = lexicon.types.correct(v)
    if fixed is not None:
        return fixed
    # a misspelled plural ("sofaz", "jackts"): try the raw words too
    raw = " ".join(words)
    fixed = lexicon.types.correct(raw)
    return fixed if fixed is not None else v


def normalize_value(slot: str, text: str, lexicon: Lexicon | None = None) -> Any:
    """The schema value of one tagged span, or None when the span says nothing usable."""
    lex = lexicon or _default_lexicon()
    if slot == "product_type":
        return _normalize_type(text, lex)
    if slot == "brand":
        return _normalize_string(text, lex.brands)
    if slot == "color":
        return _normalize_string(text, lex.colors)
    if slot == "material":
        return _normalize_string(text, lex.materials)
    if slot == "gender":
        return parse_gender(text)
    if slot == "size":
        return parse_size(text)
    if slot in {"price_min", "price_max", "price_approx"}:
        return parse_price(text)
    if slot == "rating_min":
        return parse_rating(text)
    if slot == "quantity":
        return parse_quantity(text)
    if slot == "ordinal":
        return parse_ordinals(text) or None
    if slot == "sort":
        return parse_sort(text)
    if slot == "order_id":
        return parse_order_id(text)
    raise ValueError(f"unknown slot {slot!r}")


def assemble_slots(spans: Iterable[tuple[str, str]], lexicon: Lexicon | None = None) -> dict[str, Any]:
    """Tagged spans ``(slot, text)`` in reading order -> the slots dict of the schema."""
    out: dict[str, Any] = {}
    approx: float | None = None
    for slot, text in spans:
        value = normalize_value(slot, text, lexicon)
        if value is None:
            continue
        if slot == "ordinal":
            have: list[int] = out.setdefault("ordinal", [])
            have.extend(k for k in value if k not in have)
        elif slot == "price_approx":
            if approx is None:
                approx = float(value)
        elif slot not in out:
            out[slot] = value
    if approx is not None:
        if "price_min" not in out and "price_max" not in out:
            out["price_min"] = round(approx * (1 - APPROX_RANGE), 2)
            out["price_max"] = round(approx * (1 + APPROX_RANGE), 2)
        elif "price_max" not in out:
            out["price_max"] = approx
        elif "price_min" not in out:
            out["price_min"] = approx
    if "price_min" in out and "price_max" in out and out["price_min"] > out["price_max"]:
        out["price_min"], out["price_max"] = out["price_max"], out["price_min"]
    if "quantity" in out:
        out["quantity"] = int(out["quantity"])
    return out


# --------------------------------------------------------------------------- spoken form
_SPOKEN_CURRENCY = {"dollars", "dollar", "bucks", "buck", "usd"}


def normalize_spoken(text: str) -> str:
    """Speech-recogniser text to the written form a shopper would type.

    "show me sofas under two hundred fifty dollars" -> "show me sofas under $250";
    "size ten and a half" -> "size 10.5"; "three point five stars" -> "3.5 stars";
    "a five by seven rug" -> "a 5x7 rug"; "order one zero four five two" -> "order 10452".
    A lone "one"/"a" ("this one", "a sofa") is left alone, as are ordinals ("second").
    """
    words = split_words(text)
    if not words:
        return text
    toks = [w.text.lower() for w in words]
    pieces: list[tuple[int, int, str]] = []  # (start word, end word, replacement)
    i = 0
    n = len(words)
    while i < n:
        if not _can_start_number(toks, i, spoken=True):
            i += 1
            continue
        best_j, best_v = -1, 0.0
        for j in range(i + 1, min(n, i + 16) + 1):
            if not all(_numberish(t) and t not in {"couple", "pair", "dozen"} for t in toks[i:j]):
                break
            if toks[j - 1] in {"and", "a", "an", "point"}:
                continue
            v = parse_number(" ".join(toks[i:j]))
            if v is not None:
                best_j, best_v = j, v
        if best_j < 0:
            i += 1
            continue
        span = toks[i:best_j]
        if span in (["one"], ["oh"]) and not (best_j < n and toks[best_j] in _SPOKEN_CURRENCY):
            i = best_j
            continue
        # already digits: only a following currency word changes anything
        if all(re.fullmatch(r"[\d.,]+", t) for t in span) and not (
            best_j < n and toks[best_j] in _SPOKEN_CURRENCY
        ):
            i = best_j
            continue
        rep = format_number(best_v)
        end = best_j
        if end < n and toks[end] in _SPOKEN_CURRENCY:
            rep = "$" + rep
            end += 1
        elif "grand" in span:
            rep = "$" + rep
        pieces.append((i, end, rep))
        i = end
    # "5 by 7" -> "5x7" (both sides numbers)
    out = text
    merged: list[tuple[int, int, str]] = []
    k = 0
    while k < len(pieces):
        a = pieces[k]
        if (
            k + 1 < len(pieces)
            and pieces[k + 1][0] == a[1] + 1
            and toks[a[1]] == "by"
            and not a[2].startswith("$")
            and not pieces[k + 1][2].startswith("$")
        ):
            b = pieces[k + 1]
            merged.append((a[0], b[1], f"{a[2]}x{b[2]}"))
            k += 2
            continue
        merged.append(a)
        k += 1
    for start, end, rep in reversed(merged):
        out = out[: words[start].start] + rep + out[words[end - 1].end :]
    return out
