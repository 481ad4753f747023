"""From tagged spans to the slots the shopper meant: the repair step between tagger and normaliser.

The tagger says *where* values are; deterministic rules, applied in this order, make its spans
consistent with each other and with the vocabulary (``Lexicon``):

1. filler words at a span's edges are dropped ("uh headphones" -> "headphones");
2. relabel: a product type / brand / colour / material span whose words are unknown for its
   slot but exactly known for one other is moved there ("power bank" tagged brand -> type,
   "marble" tagged colour -> material);
3. touching spans of one slot are joined when the whole is known or neither part is ("gaming" +
   "laptop", "most" + "expensive"); an unknown brand/colour/material glued to a type joins it
   when the whole is a known type ("robot" + "vacuum");
4. boundary shift between touching spans of two slots when that makes both known ("fenty" +
   "beauty foundation" -> "fenty beauty" + "foundation");
5. a known size / gender / colour / material / brand in front of a known type is split off
   ("queen bed frame" -> size queen + bed frame; "leather jacket" -> material + jacket);
6. an untagged neighbour word that completes a known type or brand is taken in ("frying" pan,
   tote "bag", "le" creuset);
7. numbers cut short are completed ("first two", "top three", "a hundred and fifty",
   "ten and a half");
8. one product type per message (known first, then the longest); a "size" that is neither a
   size word nor holds a digit is dropped; a rating needs its context ("stars", "rated");
9. the role of a price comes from its cue words where there are any: "under", "no more than",
   "nothing over", "or less" -> price_max; "over", "at least", "nothing under", "and up" ->
   price_min; "around"/"about" -> the ±20 % range; "between A and B", "A-B", "from A to B"
   -> min and max.  A price alert's threshold is always price_max (DESIGN.md).

Unknown words keep the tagger's label: the rules repair, they do not replace the model (the
held-out-vocabulary figure in ``config.json`` is measured with a lexicon that lacks those words).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.nlu._inflect import singularize
from assistant.nlu._normalize import GENDER_WORDS, Lexicon, normalize_value, parse_size
from assistant.nlu._numbers import parse_number
from assistant.nlu._vocab import SIZE_KINDS

__all__ = ["Span", "resolve_spans"]

Span = tuple[str, int, int]  # (slot, start char, end char)

_STRING_SLOTS = ("product_type", "brand", "color", "material")
_FILLERS = {
    "um",
    "uh",
    "umm",
    "uhm",
    "erm",
    "hmm",
    "like",
    "so",
    "please",
    "pls",
    "plz",
    "ok",
    "okay",
    "well",
}
_DETERMINERS = {"a", "an", "some", "any", "my", "the", "those", "these", "this", "that", "for", "in", "of"}
_PRICE_SLOTS = ("price_min", "price_max", "price_approx")
_KNOWN_SIZES = frozenset(s for sizes in SIZE_KINDS.values() for s in sizes)
_LETTER_SIZE = re.compile(r"^(?:x{0,3}[sml]|\d?x{1,3}l|xxs|xs|xl|[0-9]+t)$")

_MAX_CUES = (
    "nothing over",
    "nothing above",
    "nothing more than",
    "no more than",
    "not more than",
    "not over",
    "not above",
    "no higher than",
    "not exceeding",
    "no more then",
    "under",
    "below",
    "less than",
    "less then",
    "at most",
    "up to",
    "max",
    "maximum",
    "within",
    "cheaper than",
    "lower than",
    "budget",
    "budget is",
    "budget of",
    "beneath",
    "undr",
    "under like",
    "for under",
    "for less than",
    "<",
    "less than like",
    "drops below",
    "drops to",
    "goes below",
    "gets under",
    "falls below",
    "lower then",
)
_MIN_CUES = (
    "nothing under",
    "nothing below",
    "nothing less than",
    "no less than",
    "not less than",
    "not under",
    "not below",
    "no cheaper than",
    "no lower than",
    "at least",
    "minimum",
    "min",
    "over",
    "above",
    "more than",
    "more then",
    "from",
    "starting at",
    "starting from",
    "upwards of",
    "north of",
    "higher than",
    "greater than",
    ">",
    "priced over",
    "costing at least",
    "atleast",
)
_APPROX_CUES = (
    "around",
    "about",
    "roughly",
    "approximately",
    "approx",
    "close to",
    "something like",
    "~",
    "near",
    "in the region of",
    "somewhere around",
    "for about",
    "for around",
    "about like",
    "around like",
)
_MIN_POST = (
    "or more",
    "and up",
    "and above",
    "plus",
    "or higher",
    "+",
    "minimum",
    "or above",
    "and over",
    "at least",
    "or greater",
    "and upwards",
    "or up",
)
_MAX_POST = (
    "or less",
    "or under",
    "or below",
    "max",
    "tops",
    "at the most",
    "and under",
    "and below",
    "or cheaper",
    "or lower",
    "maximum",
    "at most",
    "or so less",
)
_APPROX_POST = ("give or take", "ish", "or so", "range")
_PRE_CUES = sorted(
    [(c, "price_max") for c in _MAX_CUES]
    + [(c, "price_min") for c in _MIN_CUES]
    + [(c, "price_approx") for c in _APPROX_CUES],
    key=lambda cr: -len(cr[0]),
)
_POST_CUES = sorted(
    [(c, "price_max") for c in _MAX_POST]
    + [(c, "price_min") for c in _MIN_POST]
    + [(c, "price_approx") for c in _APPROX_POST],
    key=lambda cr: -len(cr[0]),
)


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^\w$~<>+'’-]+", text.lower()) if w]


def _known(lex: Lexicon, slot: str, text: str, *, exact: bool = False) -> bool:
    """Whether ``text`` names a vocabulary entry of ``slot`` (``exact``: without spelling correction)."""
    key = (slot, text, exact)
    hit = lex.cache.get(key)
    if hit is None:
        hit = _lookup(lex, slot, text, exact)
        if len(lex.cache) > 50_000:
            lex.cache.clear()
        lex.cache[key] = hit
    return hit


def _lookup(lex: Lexicon, slot: str, text: str, exact: bool) -> bool:
    index = _INDEX[slot](lex)
    if exact:
        t = " ".join(text.lower().replace("’", "'").split()).strip(" .,!?")
        if slot == "product_type":
            t = singularize(t)
        return t in index
    value = normalize_value(slot, text, lex)
    return isinstance(value, str) and value in index


_INDEX = {
    "product_type": lambda lex: lex.types,
    "brand": lambda lex: lex.brands,
    "color": lambda lex: lex.colors,
    "material": lambda lex: lex.materials,
}


def _split_words(text: str, span: Span) -> list[tuple[int, int]]:
    return [(span[1] + m.start(), span[1] + m.end()) for m in re.finditer(r"\S+", text[span[1] : span[2]])]


_SIZE_WORDS = frozenset({"queen", "king", "twin", "full", "double", "single", "california king", "cal king"})
_SIZE_NAMES = frozenset(
    {
        "xs",
        "xl",
        "xxl",
        "xxxl",
        "2xl",
        "3xl",
        "small",
        "medium",
        "large",
        "extra large",
        "extra small",
        "petite",
        "twin xl",
        "x-large",
    }
)
_PRONOUNS = frozenset({"her", "him", "his", "hers", "both", "anyone", "everyone"})


def _split_type_prefix(text: str, spans: list[Span], lex: Lexicon) -> list[Span]:
    """ "queen bed frame" / "mens jeans" / "leather jacket" tagged as one type: split off the prefix."""
    out: list[Span] = []
    for span in spans:
        if span[0] != "product_type" or _known(lex, "product_type", text[span[1] : span[2]], exact=True):
            out.append(span)
            continue
        words = _split_words(text, span)
        done = False
        for k in (2, 1):
            if len(words) <= k:
                continue
            head = text[words[0][0] : words[k - 1][1]]
            rest = ("product_type", words[k][0], span[2])
            if not _known(lex, "product_type", text[rest[1] : rest[2]], exact=True):
                continue
            low = head.lower()
            slot = None
            if low in _SIZE_WORDS or re.fullmatch(r"\d+(?:\.\d+)?(?:x\d+)?(?:\s*(?:inch|in|\"))?", low):
                slot = "size"
            elif low in GENDER_WORDS and low not in {
                "her",
                "him",
                "his",
                "hers",
                "both",
                "anyone",
                "everyone",
            }:
                slot = "gender"
            else:
                for other in ("color", "material", "brand"):
                    if _known(lex, other, head, exact=True):
                        slot = other
                        break
            if slot is not None:
                out += [(slot, words[0][0], words[k - 1][1]), rest]
                done = True
                break
        if not done:
            out.append(span)
    return out


def _shift_boundaries(text: str, spans: list[Span], lex: Lexicon) -> list[Span]:
    """Touching spans of two string slots: move one word across when that makes both known
    ("fenty" + "beauty foundation" -> "fenty beauty" + "foundation"; "north" + "face" -> "north face")."""
    out: list[Span | None] = list(spans)
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        if a is None or b is None or a[0] not in _STRING_SLOTS or b[0] not in _STRING_SLOTS or a[0] == b[0]:
            continue
        if _gap(text, a, b).strip():
            continue
        ta, tb = text[a[1] : a[2]], text[b[1] : b[2]]
        if _known(lex, a[0], ta, exact=True) and _known(lex, b[0], tb, exact=True):
            continue
        bw = _split_words(text, b)
        aw = _split_words(text, a)
        new_a = (a[0], a[1], bw[0][1])
        new_b = (b[0], bw[1][0], b[2]) if len(bw) > 1 else None
        if _known(lex, a[0], text[new_a[1] : new_a[2]], exact=True) and (
            new_b is None or _known(lex, b[0], text[new_b[1] : new_b[2]], exact=True)
        ):
            out[i], out[i + 1] = new_a, new_b
            continue
        if len(aw) > 1:
            new_a2 = (a[0], a[1], aw[-2][1])
            new_b2 = (b[0], aw[-1][0], b[2])
            if _known(lex, a[0], text[new_a2[1] : new_a2[2]], exact=True) and _known(
                lex, b[0], text[new_b2[1] : new_b2[2]], exact=True
            ):
                out[i], out[i + 1] = new_a2, new_b2
    return [s for s in out if s is not None]


def _extend_left(text: str, spans: list[Span], lex: Lexicon) -> list[Span]:
    """An untagged word right before a type or brand that completes a known one ("frying" + "pan")."""
    out: list[Span] = []
    taken = [(s[1], s[2]) for s in spans]
    for span in spans:
        if span[0] in {"product_type", "brand"}:
            m = re.search(r"([\w'’.&-]+)\s+$", text[: span[1]])
            if m:
                start = m.start(1)
                free = not any(a <= start < b for a, b in taken)
                word = m.group(1).lower()
                if (
                    free
                    and word not in _FILLERS | _DETERMINERS
                    and _known(lex, span[0], text[start : span[2]], exact=True)
                ):
                    span = (span[0], start, span[2])
        out.append(span)
    return out


def _trim(text: str, span: Span) -> Span | None:
    slot, start, end = span
    if slot not in _STRING_SLOTS and slot != "gender":
        return span
    drop = _FILLERS | (_DETERMINERS if slot in {"product_type", "color", "material"} else set())
    while True:
        piece = text[start:end]
        m = re.match(r"\s*([\w'’]+)\s+", piece)
        if m and m.group(1).lower() in drop:
            start += m.end()
            continue
        m = re.search(r"\s+([\w'’]+)\s*$", piece)
        if m and m.group(1).lower() in drop:
            end = start + m.start()
            continue
        break
    if not text[start:end].strip() or text[start:end].strip().lower() in drop:
        return None
    return slot, start, end


def _gap(text: str, a: Span, b: Span) -> str:
    return text[a[2] : b[1]]


def _relabel(text: str, spans: list[Span], lex: Lexicon) -> list[Span]:
    out: list[Span] = []
    for slot, start, end in spans:
        if slot in _STRING_SLOTS:
            piece = text[start:end]
            low = " ".join(piece.lower().split())
            if not _known(lex, slot, piece) and (low in _SIZE_WORDS or low in _SIZE_NAMES):
                out.append(("size", start, end))  # "queen" tagged as a colour
                continue
            if not _known(lex, slot, piece) and low in GENDER_WORDS and low not in _PRONOUNS:
                out.append(("gender", start, end))
                continue
            if not _known(lex, slot, piece):
                others = [s for s in _STRING_SLOTS if s != slot and _known(lex, s, piece, exact=True)]
                if len(others) == 1:
                    slot = others[0]
        out.append((slot, start, end))
    return out


def _merge_touching(text: str, spans: list[Span], lex: Lexicon) -> list[Span]:
    out: list[Span] = []
    for span in spans:
        if out:
            prev = out[-1]
            gap = _gap(text, prev, span)
            touching = gap.strip() in {"", "-"} and len(gap) <= 2
            if touching and prev[0] == span[0] and span[0] in _STRING_SLOTS + ("sort",):
                merged = (span[0], prev[1], span[2])
                if span[0] == "sort":
                    out[-1] = merged
                    continue
                piece_a, piece_b, both = (
                    text[prev[1] : prev[2]],
                    text[span[1] : span[2]],
                    text[prev[1] : span[2]],
                )
                if _known(lex, span[0], both) or not (
                    _known(lex, span[0], piece_a) or _known(lex, span[0], piece_b)
                ):
                    out[-1] = merged
                    continue
            if touching and span[0] == "product_type" and prev[0] in {"brand", "color", "material"}:
                both = text[prev[1] : span[2]]
                if not _known(lex, prev[0], text[prev[1] : prev[2]]) and _known(lex, "product_type", both):
                    out[-1] = ("product_type", prev[1], span[2])
                    continue
        out.append(span)
    return out


def _extend_right(text: str, spans: list[Span], lex: Lexicon) -> list[Span]:
    """An untagged word right after a type or brand that completes a known one ("tote" + "bag")."""
    out: list[Span] = []
    taken = [(s[1], s[2]) for s in spans]
    for span in spans:
        if span[0] == "product_type" or (
            span[0] == "brand" and not _known(lex, span[0], text[span[1] : span[2]], exact=True)
        ):
            m = re.match(r"\s+([\w'’.&-]+)", text[span[2] :])
            if m:
                end = span[2] + m.end(1)
                free = not any(a < end <= b for a, b in taken)
                if (
                    free
                    and m.group(1).lower() not in _FILLERS
                    and _known(lex, span[0], text[span[1] : end], exact=True)
                ):
                    span = (span[0], span[1], end)
        out.append(span)
    return out


_CARDINAL = re.compile(r"(?:[2-9]|10|two|three|four|five|six|seven|eight|nine|ten)$")
_HALF = re.compile(r"\s+(?:and\s+a\s+half|point\s+five|½)\b")


def _numbers(text: str, spans: list[Span]) -> list[Span]:
    """Number spans cut short: "first two", "top three", "a hundred and fifty", "ten and a half"."""
    out: list[Span] = []
    taken = [(s[1], s[2]) for s in spans]
    for span in spans:
        slot, start, end = span
        head = text[start:end].lower().strip()
        if slot == "ordinal" and head in {"first", "top", "last", "the first", "the top", "the last"}:
            m = re.match(r"\s+(\w+)", text[end:])
            if (
                m
                and _CARDINAL.match(m.group(1).lower())
                and not any(a < end + m.end(1) <= b for a, b in taken)
            ):
                span = (slot, start, end + m.end(1))
        if slot in {"size", "price_min", "price_max", "price_approx", "rating_min"}:
            m = _HALF.match(text[end:])
            if m and not any(a < end + m.end() <= b for a, b in taken):
                span = (slot, start, end + m.end())
        if out and span[0] == "ordinal" and out[-1][0] == "ordinal":
            prev = out[-1]
            if (
                text[prev[1] : prev[2]].lower().strip() in {"first", "top", "last"}
                and not _gap(text, prev, span).strip()
                and _CARDINAL.match(text[span[1] : span[2]].lower().strip())
            ):
                out[-1] = ("ordinal", prev[1], span[2])
                continue
        if out and span[0] in _PRICE_SLOTS and out[-1][0] in _PRICE_SLOTS:
            prev = out[-1]
            gap = _gap(text, prev, span).strip().lower()
            before = " ".join(_words(text[max(0, prev[1] - 30) : prev[1]])[-2:])
            if gap == "and" and not re.search(r"(?:between|from)\s*\$?$", before):
                whole = text[prev[1] : span[2]]
                if parse_number(whole.replace("$", " ")) is not None:
                    out[-1] = (prev[0], prev[1], span[2])
                    continue
        out.append(span)
    return out


def _one_type(text: str, spans: list[Span], lex: Lexicon) -> list[Span]:
    types = [s for s in spans if s[0] == "product_type"]
    if len(types) <= 1:
        return spans
    best = max(types, key=lambda s: (_known(lex, "product_type", text[s[1] : s[2]]), s[2] - s[1], -s[1]))
    return [s for s in spans if s[0] != "product_type" or s == best]


def _sizes(text: str, spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for span in spans:
        if out and span[0] == "size" and out[-1][0] == "size":
            gap = _gap(text, out[-1], span).strip().lower()
            if gap in {"and a", "and", "by", "x", "point", "-", "and one"}:
                merged = ("size", out[-1][1], span[2])
                if parse_size(text[merged[1] : merged[2]]) not in (None, ""):
                    out[-1] = merged
                    continue
        out.append(span)
    kept: list[Span] = []
    for span in out:
        if span[0] == "size":
            value = parse_size(text[span[1] : span[2]])
            if value is None or not (
                value in _KNOWN_SIZES
                or any(c.isdigit() for c in value)
                or _LETTER_SIZE.match(value)
                or value
                in {
                    "extra large",
                    "extra small",
                    "x-large",
                    "x-small",
                    "plus size",
                    "regular",
                    "tall",
                    "slim",
                    "wide",
                    "narrow",
                    "toddler",
                    "youth",
                    "adult",
                }
            ):
                continue
        kept.append(span)
    return kept


def _price_role(text: str, span: Span) -> str | None:
    pre = " ".join(_words(text[max(0, span[1] - 40) : span[1]])[-5:])
    pre = re.sub(r"(?:\s*(?:\$|usd|us))+$", "", pre).strip()
    post = " ".join(_words(text[span[2] : span[2] + 30])[:4])
    for cue, role in _PRE_CUES:
        if pre == cue or pre.endswith(" " + cue):
            return role
    for cue, role in _POST_CUES:
        if post == cue or post.startswith(cue + " ") or (cue in {"+", "ish"} and post.startswith(cue)):
            return role
    return None


_RATING_CONTEXT = re.compile(r"\b(?:stars?|rated|ratings?|reviews?|reviewed)\b|\+")


def _ratings(text: str, spans: list[Span]) -> list[Span]:
    """A rating needs its context ("4 stars", "rated 4"); "a tent for 4 people" has none."""
    out: list[Span] = []
    for span in spans:
        if span[0] == "rating_min":
            around = text[max(0, span[1] - 25) : span[2] + 25].lower()
            if not _RATING_CONTEXT.search(around):
                continue
        out.append(span)
    return out


def _prices(text: str, spans: list[Span], intent: str | None) -> list[Span]:
    # a bare number tagged as size right after a price cue ("jeans under sixty") is a price
    fixed: list[Span] = []
    for span in spans:
        if span[0] in {"size", "gender"} and re.fullmatch(
            r"[\d.]+", parse_size(text[span[1] : span[2]]) or ""
        ):
            role = _price_role(text, span)
            if role is not None:
                span = (role, span[1], span[2])
        fixed.append(span)
    spans = fixed
    idx = [i for i, s in enumerate(spans) if s[0] in _PRICE_SLOTS]
    roles: dict[int, str] = {}
    # pairs: "between A and B", "A-B", "from A to B", "A to B"
    for a, b in zip(idx, idx[1:], strict=False):
        gap = _gap(text, spans[a], spans[b]).strip().lower()
        gap = re.sub(r"^(?:dollars|bucks|usd)\s+", "", gap)
        pre = " ".join(_words(text[max(0, spans[a][1] - 30) : spans[a][1]])[-3:])
        if gap in {"-", "–", "to", "and", "&", "or"} and (
            gap in {"-", "–", "to"} or re.search(r"(?:between|from)(?:\s+\$)?$", pre)
        ):
            roles[a], roles[b] = "price_min", "price_max"
    for i in idx:
        if i in roles:
            continue
        role = _price_role(text, spans[i])
        if role is not None:
            roles[i] = role
    out: list[Span] = []
    for i, (slot, start, end) in enumerate(spans):
        if i in roles:
            slot = roles[i]
        if intent == "price_alert" and slot in _PRICE_SLOTS and slot != "price_min":
            slot = "price_max"
        out.append((slot, start, end))
    return out


def resolve_spans(
    text: str, spans: Sequence[Span], lexicon: Lexicon, *, intent: str | None = None
) -> list[Span]:
    """Apply the repair rules of this module to the tagger's spans (reading order kept)."""
    out = [t for t in (_trim(text, s) for s in spans) if t is not None]
    out = _relabel(text, out, lexicon)
    out = _merge_touching(text, out, lexicon)
    out = _shift_boundaries(text, out, lexicon)
    out = _split_type_prefix(text, out, lexicon)
    out = _extend_left(text, out, lexicon)
    out = _extend_right(text, out, lexicon)
    out = _numbers(text, out)
    out = _one_type(text, out, lexicon)
    out = _sizes(text, out)
    out = _ratings(text, out)
    return _prices(text, out, intent)
