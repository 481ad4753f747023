"""Numbers written in words or digits, both ways.

``parse_number("two hundred fifty") == 250``, ``parse_number("ten and a half") == 10.5``,
``parse_number("1.5k") == 1500``, ``parse_number("2 grand") == 2000``,
``parse_number("two fifty") == 250`` (the spoken price form), ``parse_number("one zero four") == 104``
(digits read one by one).  :func:`number_to_words` writes an integer the way a speech
recogniser transcribes it; the two are inverse for every integer 0..999,999,999.
"""

from __future__ import annotations

import re

__all__ = [
    "UNITS",
    "TENS",
    "SCALES",
    "ORDINAL_WORDS",
    "NUMBER_WORDS",
    "parse_number",
    "number_to_words",
    "ordinal_to_words",
    "format_number",
    "is_number_token",
    "parse_ordinal_token",
]

UNITS: dict[str, int] = {
    "zero": 0,
    "oh": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS: dict[str, int] = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
#: multipliers; "k" and "grand" are the shopper's thousand
SCALES: dict[str, int] = {
    "hundred": 100,
    "thousand": 1000,
    "k": 1000,
    "grand": 1000,
    "million": 1_000_000,
}
ORDINAL_WORDS: dict[str, int] = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
}
#: every word that can be part of a number in words
NUMBER_WORDS = frozenset(UNITS) | frozenset(TENS) | frozenset(SCALES) | {"and", "a", "an", "half", "point"}

_SMALL_WORDS = {v: k for k, v in UNITS.items() if k != "oh"}
_TENS_WORDS = {v: k for k, v in TENS.items() if k != "fourty"}
_DIGITS = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$|^\.\d+$")
_DIGITS_SCALE = re.compile(r"^((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(k|grand)$")
_ORDINAL_DIGITS = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
_FILLER = {"dollars", "dollar", "bucks", "buck", "usd", "us", "$", "€", "£", "eur", "euros", "euro", "gbp"}
_FILLER |= {"pounds", "pound", "quid", "rs", "inr", "rupees", "rupee", "bux"}


def is_number_token(token: str) -> bool:
    """Whether a single token is (part of) a number: digits, "1.5k" or a number word."""
    t = token.lower()
    return bool(_DIGITS.match(t) or _DIGITS_SCALE.match(t) or t in UNITS or t in TENS or t in SCALES)


def _digit_value(token: str) -> float | None:
    t = token.replace(",", "")
    try:
        return float(t)
    except ValueError:
        return None


def _split_tokens(text: str) -> list[str]:
    text = text.lower().replace("-", " ")
    # "$1,200.50" -> "$ 1,200.50"; "1.5k" stays; "300$" -> "300 $"
    text = re.sub(r"([$€£])", r" \1 ", text)
    return [t for t in re.split(r"[\s]+", text) if t]


class _Group:
    """One number being read: ``total`` (thousands and up) + ``current`` (below a thousand)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.current = 0.0
        self.last = ""  # kind of the last token: unit, teen, tens, hundred, scale, digit
        self.used = False
        self.fraction = 0.0
        self.after_and = False  # an "and" came right before this group began

    def value(self) -> float:
        return self.total + self.current + self.fraction


def _read_groups(tokens: list[str]) -> list[_Group] | None:
    """Read number tokens into groups; a new group starts where a number cannot continue."""
    groups: list[_Group] = []
    g = _Group()
    i = 0
    n = len(tokens)
    saw_and = False
    and_before = False

    def start_new() -> _Group:
        groups.append(g)
        new = _Group()
        new.after_and = and_before
        return new

    while i < n:
        t = tokens[i]
        if t not in _FILLER and t not in {"and", ","}:
            and_before, saw_and = saw_and, False
        if t in _FILLER or t in {"and", ","}:
            # "ten and a half"
            if t == "and" and i + 2 < n + 1 and tokens[i + 1 : i + 3] in (["a", "half"], ["an", "half"]):
                g.fraction += 0.5
                g.used = True
                i += 3
                continue
            if t == "and":
                saw_and = True
            i += 1
            continue
        if t in {"a", "an"}:
            nxt = tokens[i + 1] if i + 1 < n else ""
            if nxt in SCALES:
                if g.used and g.last not in {"scale"}:
                    g = start_new()
                g.current = 1.0
                g.used = True
                g.last = "unit"
                i += 1
                continue
            if nxt == "half":
                g.fraction += 0.5
                g.used = True
                i += 2
                continue
            if nxt in {"couple", "pair"}:
                g.current += 2
                g.used = True
                g.last = "unit"
                i += 2
                if i < n and tokens[i] == "of":
                    i += 1
                continue
            if nxt == "dozen":
                g.current += 12
                g.used = True
                g.last = "unit"
                i += 2
                continue
            i += 1
            continue
        if t in {"couple", "pair"}:
            g.current += 2
            g.used = True
            g.last = "unit"
            i += 1
            continue
        if t == "dozen":
            g.current = (g.current or 1) * 12
            g.used = True
            g.last = "unit"
            i += 1
            continue
        if t == "half":
            g.fraction += 0.5
            g.used = True
            i += 1
            continue
        if t == "point" or t == ".":
            # decimal digits follow, one word each: "three point five" / "point two five"
            j = i + 1
            digits = ""
            while j < n and (tokens[j] in UNITS and UNITS[tokens[j]] < 10 or tokens[j].isdigit()):
                digits += str(UNITS[tokens[j]]) if tokens[j] in UNITS else tokens[j]
                j += 1
            if not digits:
                return None
            g.fraction += float("0." + digits)
            g.used = True
            g.last = "fraction"
            i = j
            continue
        m = _DIGITS_SCALE.match(t)
        if m:
            v = _digit_value(m.group(1))
            if v is None:
                return None
            if g.used:
                g = start_new()
            g.total += v * SCALES[m.group(2)]
            g.used = True
            g.last = "scale"
            i += 1
            continue
        if _DIGITS.match(t):
            v = _digit_value(t)
            if v is None:
                return None
            if g.used and g.last != "scale":
                g = start_new()
            g.current += v
            g.used = True
            g.last = "digit"
            i += 1
            continue
        if t in UNITS:
            v = UNITS[t]
            kind = "unit" if v < 10 else "teen"
            if g.used and (g.last in {"unit", "teen", "digit", "fraction"} or (g.last == "tens" and v >= 10)):
                g = start_new()
            g.current += v
            g.used = True
            g.last = kind
            i += 1
            continue
        if t in TENS:
            if g.used and g.last in {"unit", "teen", "tens", "digit", "fraction"}:
                g = start_new()
            g.current += TENS[t]
            g.used = True
            g.last = "tens"
            i += 1
            continue
        if t in SCALES:
            s = SCALES[t]
            if s == 100:
                g.current = (g.current or 1) * 100
                g.last = "hundred"
            else:
                g.total += (g.current + g.fraction or 1) * s
                g.current = 0
                g.fraction = 0
                g.last = "scale"
            g.used = True
            i += 1
            continue
        return None
    if g.used:
        groups.append(g)
    return groups


def parse_number(text: str) -> float | None:
    """The number a phrase says, or ``None`` when it says none (or something else besides)."""
    tokens = _split_tokens(text)
    if not tokens:
        return None
    groups = _read_groups(tokens)
    if not groups:
        return None
    values = [g.value() for g in groups]
    if len(values) == 1:
        return values[0]
    if any(g.after_and for g in groups[1:]):
        return None  # "between 200 and 400" is two numbers
    # digits read one by one ("one zero four five two")
    if all(v.is_integer() and 0 <= v <= 9 for v in values):
        return float("".join(str(int(v)) for v in values))
    # the spoken price "two fifty" (250), "nineteen ninety nine" (1999), "one oh five" (105)
    if len(values) in (2, 3) and all(v.is_integer() for v in values) and 1 <= values[0] <= 99:
        if len(values) == 2 and 10 <= values[1] <= 99:
            return values[0] * 100 + values[1]
        if len(values) == 3 and values[1] == 0 and 1 <= values[2] <= 9 and "oh" in tokens:
            return values[0] * 100 + values[2]
    return None


def number_to_words(n: int) -> str:
    """An integer written out: 250 -> "two hundred fifty", 1_200 -> "one thousand two hundred"."""
    if n < 0:
        raise ValueError("negative numbers are not written out")
    if n < 20:
        return _SMALL_WORDS[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        return _TENS_WORDS[tens * 10] + ("" if unit == 0 else " " + _SMALL_WORDS[unit])
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        head = _SMALL_WORDS[hundreds] + " hundred"
        return head if rest == 0 else head + " " + number_to_words(rest)
    for scale, word in ((1_000_000_000, "billion"), (1_000_000, "million"), (1000, "thousand")):
        if n >= scale:
            if scale == 1_000_000_000:
                raise ValueError("numbers of a billion or more are not written out")
            head_n, rest = divmod(n, scale)
            head = number_to_words(head_n) + " " + word
            return head if rest == 0 else head + " " + number_to_words(rest)
    raise AssertionError("unreachable")


def ordinal_to_words(n: int) -> str:
    """1 -> "first" (1..20)."""
    for word, value in ORDINAL_WORDS.items():
        if value == n:
            return word
    raise ValueError(f"no ordinal word for {n}")


def format_number(value: float) -> str:
    """250.0 -> "250", 10.5 -> "10.5"."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def parse_ordinal_token(token: str) -> int | None:
    """ "second" / "2nd" -> 2."""
    t = token.lower()
    if t in ORDINAL_WORDS:
        return ORDINAL_WORDS[t]
    m = _ORDINAL_DIGITS.match(t)
    if m:
        return int(m.group(1))
    return None
