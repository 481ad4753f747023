"""Checkout details: e-mail validation and addresses (fields and free text), with the reasons for refusals."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.commerce import Address, parse_address, resolve_country, validate_address, validate_email
from assistant.errors import InvalidAddress, InvalidEmail

# ---------------------------------------------------------------------------- e-mail


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jane@example.com", "jane@example.com"),
        ("  Jane.Doe+shop@Example.COM ", "Jane.Doe+shop@example.com"),
        ("it's jane@example.com.", "jane@example.com"),
        ("my email is <jane@example.co.uk>", "jane@example.co.uk"),
        ("mailto:jane@example.com", "jane@example.com"),
        ("jane at example dot com", "jane@example.com"),
        ("o'brien@sub.example.io", "o'brien@sub.example.io"),
        ("jane@bücher.de", "jane@bücher.de"),
        ("jane@xn--bcher-kva.de", "jane@xn--bcher-kva.de"),
    ],
)
def test_valid_emails_are_normalised(text: str, expected: str) -> None:
    assert validate_email(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("jane", "no @ sign"),
        ("jane.example.com", "no @ sign"),
        ("jane@", "no domain after the @"),
        ("@example.com", "nothing before the @"),
        ("jane@@example.com", "more than one @"),
        ("jane@example", "has no dot"),
        ("jane@example..com", "empty part"),
        ("jane@-example.com", "not valid"),
        ("jane@exa_mple.com", "not valid"),
        ("jane@example.c", "not a valid domain ending"),
        ("jane@example.123", "not a valid domain ending"),
        ("jane@example.con", "did you mean .com"),
        (".jane@example.com", "dots before the @"),
        ("ja..ne@example.com", "dots before the @"),
        ("ja(ne@example.com", "character '('"),
        ("a@b.com and c@d.com", "more than one e-mail address"),
        ("x" * 65 + "@example.com", "longer than 64"),
        ("jane@" + "a" * 64 + ".com", "not valid"),
    ],
)
def test_invalid_emails_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidEmail) as exc:
        validate_email(text)
    assert reason in exc.value.message
    assert exc.value.status_code == 422 and exc.value.code == "invalid_email"


# ---------------------------------------------------------------------------- free-text addresses


def _addr(
    name: str, line1: str, city: str, region: str, postal: str, country: str, line2: str = ""
) -> dict[str, str]:
    return {
        "name": name,
        "line1": line1,
        "line2": line2,
        "city": city,
        "region": region,
        "postal_code": postal,
        "country": country,
    }


VALID_TEXT = [
    (
        "Jane Doe, 12 Main St, Apt 4, Springfield, IL 62704, US",
        _addr("Jane Doe", "12 Main St", "Springfield", "IL", "62704", "US", line2="Apt 4"),
    ),
    (
        "Jane Doe, 10 Downing Street, London SW1A 2AA, UK",
        _addr("Jane Doe", "10 Downing Street", "London", "", "SW1A 2AA", "GB"),
    ),
    (
        "Jane Doe, 12 Main St, Springfield, IL 62704",  # country inferred from state + ZIP
        _addr("Jane Doe", "12 Main St", "Springfield", "IL", "62704", "US"),
    ),
    (
        "Jane Doe, 12 Main St, Springfield, Illinois, 62704-1234, United States of America",
        _addr("Jane Doe", "12 Main St", "Springfield", "IL", "62704-1234", "US"),
    ),
    (
        "Jane Doe, 12 Main St, New York NY 10001 USA",
        _addr("Jane Doe", "12 Main St", "New York", "NY", "10001", "US"),
    ),
    (
        "jane doe, 10 downing street, london, sw1a2aa",  # postcode inferred as UK, normalised
        _addr("jane doe", "10 downing street", "london", "", "SW1A 2AA", "GB"),
    ),
    (
        "Anne Roy, 100 Queen St W, Toronto, ON M5H2N2, Canada",
        _addr("Anne Roy", "100 Queen St W", "Toronto", "ON", "M5H 2N2", "CA"),
    ),
    (
        "Anne Roy; 100 Queen St W; Toronto, Ontario; M5H 2N2",
        _addr("Anne Roy", "100 Queen St W", "Toronto", "ON", "M5H 2N2", "CA"),
    ),
    (
        "Max Mustermann, Hauptstraße 5, 10115 Berlin, Germany",
        _addr("Max Mustermann", "Hauptstraße 5", "Berlin", "", "10115", "DE"),
    ),
    (
        "Pierre Martin, 5 Rue de Rivoli, 75001 Paris, FR",
        _addr("Pierre Martin", "5 Rue de Rivoli", "Paris", "", "75001", "FR"),
    ),
    (
        "Asha Rao, 42 MG Road, Bengaluru, Karnataka 560001, India",
        _addr("Asha Rao", "42 MG Road", "Bengaluru", "Karnataka", "560001", "IN"),
    ),
    (
        "Asha Rao, 5 Janpath, New Delhi 110 001, IN",
        _addr("Asha Rao", "5 Janpath", "New Delhi", "", "110001", "IN"),
    ),
    (
        "Bruce Lee, 1 George St, Sydney NSW 2000, Australia",
        _addr("Bruce Lee", "1 George St", "Sydney", "NSW", "2000", "AU"),
    ),
    (
        "Jan Jansen, Damrak 1, 1012 lg Amsterdam, The Netherlands",
        _addr("Jan Jansen", "Damrak 1", "Amsterdam", "", "1012 LG", "NL"),
    ),
    (
        "Ana García, Calle Mayor 3, 2º B, 28013 Madrid, España",
        _addr("Ana García", "Calle Mayor 3", "Madrid", "", "28013", "ES", line2="2º B"),
    ),
    (
        "Mario Rossi, Via Roma 1, 00184 Roma, Italia",
        _addr("Mario Rossi", "Via Roma 1", "Roma", "", "00184", "IT"),
    ),
    (
        "Li Wei, 1 Orchard Rd, Singapore 238823, SG",  # generic postal rule
        _addr("Li Wei", "1 Orchard Rd", "Singapore", "", "238823", "SG"),
    ),
    (
        "Aoife Byrne, 1 Main Street, Dublin, Ireland",  # postal code optional there
        _addr("Aoife Byrne", "1 Main Street", "Dublin", "", "", "IE"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), VALID_TEXT, ids=[t for t, _ in VALID_TEXT])
def test_parse_address(text: str, expected: dict[str, str]) -> None:
    assert parse_address(text).model_dump() == expected


INVALID_TEXT = [
    ("", None, "shipping address"),
    ("Jane Doe 12 Main Street Springfield", None, "separated by commas"),
    ("12 Main St, Springfield, IL 62704, US", "name", "name is missing"),
    ("Jane Doe, Springfield, IL 62704, US", "line1", "street address is missing"),
    ("Jane Doe, Main St, Springfield, IL 62704, US", "line1", "no house number"),
    ("Jane Doe, 12 Main St, IL 62704, US", "city", "city is missing"),
    ("Jane Doe, 12 Main St, Springfield 62704, US", "region", "state is missing"),
    ("Jane Doe, 12 Main St, Springfield, XX 62704, US", "region", "'XX' is not a US state"),
    ("Jane Doe, 12 Main St, Springfield, IL 6270, US", "postal_code", "'6270' is not a valid US ZIP code"),
    ("Jane Doe, 12 Main St, Springfield, IL, US", "postal_code", "ZIP code is missing"),
    ("Jane Doe, 10 Downing Street, London SW1A, UK", "postal_code", "not a valid UK postcode"),
    ("Anne Roy, 1 Queen St, Toronto, ON 12345, Canada", "postal_code", "Canadian postal code"),
    ("Max Mustermann, Hauptstraße 5, 1011 Berlin, DE", "postal_code", "'1011' is not a valid German"),
    ("Max Mustermann, Hauptstraße 5, 10115 Berlin", "country", "country is missing"),
    ("Jane Doe, 12 Main St, Springfield, IL 62704, Narnia", "country", "'Narnia' is not a country"),
]


@pytest.mark.parametrize(
    ("text", "field", "reason"), INVALID_TEXT, ids=[t or "empty" for t, _, _ in INVALID_TEXT]
)
def test_parse_address_says_what_is_wrong(text: str, field: str | None, reason: str) -> None:
    with pytest.raises(InvalidAddress) as exc:
        parse_address(text)
    assert exc.value.field == field
    assert reason in exc.value.message
    assert exc.value.status_code == 422 and exc.value.code == "invalid_address"


# ---------------------------------------------------------------------------- address fields

GOOD = {
    "name": "Jane Doe",
    "line1": "12 Main St",
    "line2": None,
    "city": "Springfield",
    "region": "illinois",
    "postal_code": "62704",
    "country": "us",
}


def test_validate_address_normalises() -> None:
    a = validate_address(GOOD)
    assert (a.region, a.country, a.line2) == ("IL", "US", "")
    assert a.one_line() == "Jane Doe, 12 Main St, Springfield, IL 62704, US"
    assert validate_address(a) is a
    assert Address.model_validate(a.model_dump()) == a  # normalising twice changes nothing


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"country": "XX"}, "country", "not a country I know"),
        ({"country": None}, "country", "country is missing"),
        ({"name": " "}, "name", "name is missing"),
        ({"name": "12345"}, "name", "name is missing"),
        ({"line1": None}, "line1", "street address is missing"),
        ({"city": ""}, "city", "city is missing"),
        ({"region": ""}, "region", "state is missing"),
        ({"region": "Narnia"}, "region", "not a US state"),
        ({"postal_code": "ABCDE"}, "postal_code", "not a valid US ZIP code"),
        ({"postal_code": ""}, "postal_code", "ZIP code is missing"),
        ({"name": "x" * 101}, "name", "at most 100"),
        ({"city": "Spring\x00field"}, "city", "control characters"),
        ({"name": 5}, "name", "must be text"),
        ({"floor": "2"}, "floor", "unknown address field"),
        ({"country": "GB", "region": "", "postal_code": "62704"}, "postal_code", "UK postcode"),
        ({"country": "AU", "region": "Texas", "postal_code": "2000"}, "region", "not an AU state"),
    ],
)
def test_validate_address_names_the_wrong_field(change: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(InvalidAddress) as exc:
        validate_address({**GOOD, **change})
    assert exc.value.field == field
    assert reason in exc.value.message


@pytest.mark.parametrize(
    ("country", "postal", "expected"),
    [
        ("US", "62704-1234", "62704-1234"),
        ("CA", "k1a0b1", "K1A 0B1"),
        ("GB", "ec1a 1bb", "EC1A 1BB"),
        ("GB", "M11AE", "M1 1AE"),
        ("DE", "01067", "01067"),
        ("FR", "75008", "75008"),
        ("IT", "20121", "20121"),
        ("ES", "08001", "08001"),
        ("IN", "400 001", "400001"),
        ("AU", "0800", "0800"),
        ("NL", "1012ab", "1012 AB"),
        ("JP", "100-0001", "100-0001"),
        ("BR", "01310-100", "01310-100"),
    ],
)
def test_postal_codes_per_country(country: str, postal: str, expected: str) -> None:
    region = {"US": "IL", "CA": "ON", "AU": "NT"}.get(country, "")
    a = validate_address({**GOOD, "country": country, "region": region, "postal_code": postal})
    assert a.postal_code == expected


@pytest.mark.parametrize(
    ("country", "postal"),
    [("ES", "53001"), ("IN", "012345"), ("NL", "0123 AB"), ("CA", "D1A 0B1"), ("DE", "1234"), ("JP", "!!")],
)
def test_bad_postal_codes_per_country(country: str, postal: str) -> None:
    region = {"CA": "ON"}.get(country, "")
    with pytest.raises(InvalidAddress) as exc:
        validate_address({**GOOD, "country": country, "region": region, "postal_code": postal})
    assert exc.value.field == "postal_code"


def test_resolve_country() -> None:
    assert resolve_country("uk") == "GB"
    assert resolve_country("U.S.A.") == "US"
    assert resolve_country("the Netherlands") == "NL"
    assert resolve_country("de") == "DE"
    assert resolve_country("Narnia") is None
    assert resolve_country("ZZ") is None
