"""Value normalisation: numbers, prices, ordinals, sorts, sizes, genders, order ids, spoken form."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.nlu import normalize_spoken, number_to_words, parse_number
from assistant.nlu._inflect import pluralize, singularize
from assistant.nlu._normalize import (
    Lexicon,
    assemble_slots,
    normalize_value,
    parse_gender,
    parse_order_id,
    parse_ordinals,
    parse_price,
    parse_quantity,
    parse_rating,
    parse_size,
    parse_sort,
)
from assistant.nlu._numbers import ordinal_to_words
from assistant.nlu._spans import resolve_spans
from assistant.nlu._spell import SpellIndex, osa_distance
from assistant.nlu._vocab import builtin_vocabulary


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.default()


# ------------------------------------------------------------------------------ numbers
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("two hundred fifty", 250),
        ("two hundred and fifty", 250),
        ("ten and a half", 10.5),
        ("a hundred", 100),
        ("a thousand", 1000),
        ("1.5k", 1500),
        ("2 grand", 2000),
        ("twelve hundred", 1200),
        ("two fifty", 250),
        ("nineteen ninety nine", 1999),
        ("three point five", 3.5),
        ("point five", 0.5),
        ("one zero four five two", 10452),
        ("$1,299.99", 1299.99),
        ("a couple hundred", 200),
    ],
)
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == pytest.approx(value)


def test_two_numbers_joined_by_and_are_not_one() -> None:
    assert parse_number("between 200 and 400") is None
    assert parse_number("2 and 4") is None


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=999_999))
def test_any_integer_in_words_parses_back(n: int) -> None:
    assert parse_number(number_to_words(n)) == n


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=999_999))
def test_spoken_prices_become_digits(n: int) -> None:
    assert normalize_spoken(f"sofas under {number_to_words(n)} dollars") == f"sofas under ${n}"


# ------------------------------------------------------------------------------ prices
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$250", 250.0),
        ("250 bucks", 250.0),
        ("two hundred fifty dollars", 250.0),
        ("300$", 300.0),
        ("USD 300", 300.0),
        ("1.5k", 1500.0),
        ("2 grand", 2000.0),
        ("$49.99", 49.99),
    ],
)
def test_parse_price(text: str, value: float) -> None:
    assert parse_price(text) == value


def _spans_of(text: str, pieces: list[tuple[str, str]]) -> list[tuple[str, int, int]]:
    out = []
    pos = 0
    for slot, piece in pieces:
        start = text.index(piece, pos)
        out.append((slot, start, start + len(piece)))
        pos = start + len(piece)
    return out


@pytest.mark.parametrize(
    ("text", "pieces", "expected"),
    [
        (
            "sofas between 200 and 400",
            [("price_max", "200"), ("price_max", "400")],
            {"price_min": 200.0, "price_max": 400.0},
        ),
        (
            "rugs 200-400",
            [("price_max", "200"), ("price_max", "400")],
            {"price_min": 200.0, "price_max": 400.0},
        ),
        ("nothing over 600", [("price_min", "600")], {"price_max": 600.0}),
        ("nothing under 50", [("price_max", "50")], {"price_min": 50.0}),
        ("at least $40", [("price_max", "$40")], {"price_min": 40.0}),
        ("no more than 90 bucks", [("price_min", "90 bucks")], {"price_max": 90.0}),
        ("300 or more", [("price_max", "300")], {"price_min": 300.0}),
        ("around 300", [("price_max", "300")], {"price_min": 240.0, "price_max": 360.0}),
        ("under two hundred bucks", [("price_min", "two hundred bucks")], {"price_max": 200.0}),
    ],
)
def test_price_roles_come_from_cue_words(
    text: str, pieces: list[tuple[str, str]], expected: dict[str, float], lexicon: Lexicon
) -> None:
    spans = resolve_spans(text, _spans_of(text, pieces), lexicon)
    assert assemble_slots(((s, text[a:b]) for s, a, b in spans), lexicon) == expected


def test_price_alert_threshold_is_price_max(lexicon: Lexicon) -> None:
    text = "tell me if it drops to 400"
    spans = resolve_spans(text, _spans_of(text, [("price_min", "400")]), lexicon, intent="price_alert")
    assert spans == [("price_max", 23, 26)]


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=100_000), st.integers(min_value=0, max_value=100_000))
def test_price_range_min_never_above_max(a: int, b: int) -> None:
    slots = assemble_slots([("price_min", str(a)), ("price_max", str(b))])
    assert slots["price_min"] <= slots["price_max"]


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=99_999), st.integers(min_value=1, max_value=99_999))
def test_between_words_gives_an_ordered_range(a: int, b: int) -> None:
    lex = _LEX
    text = f"lamps between {number_to_words(a)} and {number_to_words(b)} dollars"
    wa, wb = number_to_words(a), f"{number_to_words(b)} dollars"
    spans = resolve_spans(text, _spans_of(text, [("price_max", wa), ("price_max", wb)]), lex)
    slots = assemble_slots(((s, text[x:y]) for s, x, y in spans), lex)
    assert slots["price_min"] == min(a, b)
    assert slots["price_max"] == max(a, b)


_LEX = Lexicon.default()


# ------------------------------------------------------------------------------ other slots
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("second", [2]),
        ("2nd", [2]),
        ("last", [-1]),
        ("second to last", [-2]),
        ("1 and 3", [1, 3]),
        ("first two", [1, 2]),
        ("top three", [1, 2, 3]),
        ("last two", [-2, -1]),
        ("number 4", [4]),
        ("#3", [3]),
        ("first and the last", [1, -1]),
    ],
)
def test_parse_ordinals(text: str, value: list[int]) -> None:
    assert parse_ordinals(text) == value


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=20))
def test_ordinal_words_and_digits(k: int) -> None:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    assert parse_ordinals(ordinal_to_words(k)) == [k]
    assert parse_ordinals(f"{k}{suffix}") == [k]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("cheapest", "price_asc"),
        ("least expensive", "price_asc"),
        ("most expensive", "price_desc"),
        ("priciest", "price_desc"),
        ("price high to low", "price_desc"),
        ("best rated", "rating_desc"),
        ("top rated", "rating_desc"),
        ("highest rated", "rating_desc"),
        ("cheapst", "price_asc"),
    ],
)
def test_parse_sort(text: str, value: str) -> None:
    assert parse_sort(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("XL", "xl"),
        ("medium", "medium"),
        ("five by seven", "5x7"),
        ("8 x 10", "8x10"),
        ("ten and a half", "10.5"),
        ("size 9", "9"),
        ("55-inch", "55 inch"),
        ("128 GB", "128gb"),
        ("Queen", "queen"),
    ],
)
def test_parse_size(text: str, value: str) -> None:
    assert parse_size(text) == value


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=30), st.integers(min_value=1, max_value=30))
def test_dimensions_in_words(a: int, b: int) -> None:
    assert parse_size(f"{number_to_words(a)} by {number_to_words(b)}") == f"{a}x{b}"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("men's", "men"),
        ("mens", "men"),
        ("him", "men"),
        ("ladies", "women"),
        ("wife", "women"),
        ("boys'", "boys"),
        ("daughter", "girls"),
        ("unisex", "unisex"),
        ("womans", "women"),
    ],
)
def test_parse_gender(text: str, value: str) -> None:
    assert parse_gender(text) == value


def test_order_ids_drop_punctuation_and_keep_case() -> None:
    assert parse_order_id("#BX-2290") == "BX2290"
    assert parse_order_id("K7M2Q9XD") == "K7M2Q9XD"
    assert parse_order_id("k seven m two") == "k7m2"
    assert parse_order_id("OH-07U3ME") == "OH07U3ME"


@pytest.mark.parametrize(
    ("text", "value"), [("two", 2), ("a couple", 2), ("3", 3), ("one", 1), ("a pair", 2)]
)
def test_parse_quantity(text: str, value: int) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize(("text", "value"), [("4", 4.0), ("four", 4.0), ("4.5+", 4.5), ("six", None)])
def test_parse_rating(text: str, value: float | None) -> None:
    assert parse_rating(text) == value


@pytest.mark.parametrize(
    ("slot", "text", "value"),
    [
        ("product_type", "Sofas", "sofa"),
        ("product_type", "dresses", "dress"),
        ("product_type", "jeans", "jeans"),
        ("product_type", "sunglasses", "sunglasses"),
        ("product_type", "coffee tables", "coffee table"),
        ("product_type", "labtop", "laptop"),
        ("color", "blak", "black"),
        ("color", "Navy Blue", "navy blue"),
        ("color", "chartreuse", "chartreuse"),  # unknown colours are kept, not forced onto a known one
        ("material", "lether", "leather"),
        ("brand", "IKEA", "ikea"),
        ("brand", "adiddas", "adidas"),
    ],
)
def test_string_slots(slot: str, text: str, value: str, lexicon: Lexicon) -> None:
    assert normalize_value(slot, text, lexicon) == value


def test_builtin_types_survive_plural_and_back() -> None:
    for t in builtin_vocabulary().product_types:
        assert singularize(pluralize(t)) == t


@settings(deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=0, max_size=14))
def test_spelling_correction_returns_a_vocabulary_word_or_none(word: str) -> None:
    index = SpellIndex(["black", "white", "navy blue", "grey", "leather"])
    fixed = index.correct(word)
    assert fixed is None or fixed in index
    if fixed is not None:
        assert osa_distance(word, fixed) <= 2


@settings(deadline=None)
@given(st.text(max_size=8), st.text(max_size=8))
def test_edit_distance_is_symmetric(a: str, b: str) -> None:
    assert osa_distance(a, b, limit=20) == osa_distance(b, a, limit=20)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("show me sofas under two hundred fifty dollars", "show me sofas under $250"),
        ("size ten and a half please", "size 10.5 please"),
        ("three point five stars", "3.5 stars"),
        ("a five by seven rug", "a 5x7 rug"),
        ("order one zero four five two", "order 10452"),
        ("the second one", "the second one"),
        ("add this one", "add this one"),
        ("", ""),
    ],
)
def test_normalize_spoken(text: str, expected: str) -> None:
    assert normalize_spoken(text) == expected
