"""Checkout details: e-mail addresses and shipping addresses, from API fields or a free-text chat answer.

Every refusal says what is wrong (``InvalidEmail`` / ``InvalidAddress`` with ``field``), so the
assistant can re-ask for exactly that part.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant.commerce._address_data import (
    COUNTRY_ALIASES,
    COUNTRY_CODES,
    GENERIC_POSTAL,
    NO_POSTCODE,
    POSTAL_EXAMPLES,
    POSTAL_NAMES,
    POSTAL_PATTERNS,
    REGION_REQUIRED,
    REGION_WORD,
    REGIONS,
    STREET_NUMBER_REQUIRED,
    postal_format,
)
from assistant.errors import InvalidAddress, InvalidEmail
from assistant.pii import redact_card_numbers

__all__ = [
    "Address",
    "validate_email",
    "validate_address",
    "parse_address",
    "resolve_country",
]

# ---------------------------------------------------------------------------- e-mail

_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
_LOCAL = re.compile(rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*")
_LOCAL_CHAR = re.compile(rf"[{_ATEXT}.]")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_SPOKEN_AT = re.compile(r"\s+at\s+", re.IGNORECASE)
_SPOKEN_DOT = re.compile(r"\s+dot\s+", re.IGNORECASE)
_TLD_TYPOS = {
    "con": "com",
    "cmo": "com",
    "ocm": "com",
    "vom": "com",
    "xom": "com",
    "comm": "com",
    "coom": "com",
}
_EDGE_PUNCT = "<>()[]{}\"'`,;:!?"


def _pick_address(text: str) -> str:
    t = text.strip()
    if "@" not in t and _SPOKEN_AT.search(t):  # "jane at example dot com" (voice)
        t = _SPOKEN_DOT.sub(".", _SPOKEN_AT.sub("@", t))
    tokens = [tok.strip(_EDGE_PUNCT).rstrip(".") for tok in t.split()]
    with_at = [tok for tok in tokens if "@" in tok]
    if not with_at:
        raise InvalidEmail(
            f"{text.strip()[:80]!r} has no @ sign; an e-mail address looks like name@example.com"
        )
    if len(with_at) > 1:
        raise InvalidEmail("that is more than one e-mail address; please give just one")
    addr = with_at[0]
    return addr[len("mailto:") :] if addr.lower().startswith("mailto:") else addr


def validate_email(text: str) -> str:
    """The e-mail address in ``text`` (an API field or a chat answer such as "it's jane@example.com"),
    with the domain lower-cased; :class:`InvalidEmail` saying what is wrong otherwise."""
    if not isinstance(text, str):
        raise InvalidEmail("an e-mail address must be text")
    if not text.strip():
        raise InvalidEmail("the e-mail address is empty")
    if len(text) > 1000:
        raise InvalidEmail("that is too long to be an e-mail address")
    addr = _pick_address(text)
    if addr.count("@") > 1:
        raise InvalidEmail(f"{addr!r} has more than one @ sign")
    local, domain = addr.split("@")
    if not local:
        raise InvalidEmail(f"{addr!r} has nothing before the @")
    if not domain:
        raise InvalidEmail(f"{addr!r} has no domain after the @ (like example.com)")
    if len(local) > 64:
        raise InvalidEmail("the part before the @ is longer than 64 characters")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidEmail("dots before the @ cannot come first, last or twice in a row")
    if not _LOCAL.fullmatch(local):
        bad = next(c for c in local if not _LOCAL_CHAR.fullmatch(c))
        raise InvalidEmail(f"the character {bad!r} is not allowed in an e-mail address")
    domain = domain.lower()
    labels = domain.split(".")
    if len(labels) < 2:
        raise InvalidEmail(f"the domain {domain!r} has no dot; it should look like example.com")
    for label in labels:
        if not label:
            raise InvalidEmail(f"the domain {domain!r} has an empty part (two dots in a row?)")
        try:
            ascii_label = label.encode("idna").decode("ascii") if not label.isascii() else label
        except UnicodeError:
            raise InvalidEmail(f"the domain part {label!r} is not valid") from None
        if not _LABEL.fullmatch(ascii_label):
            raise InvalidEmail(f"the domain part {label!r} is not valid (letters, digits and inner hyphens)")
    tld = labels[-1]
    if tld in _TLD_TYPOS:
        raise InvalidEmail(f"the domain ends in .{tld}; did you mean .{_TLD_TYPOS[tld]}?")
    if not (tld.startswith("xn--") or (tld.isalpha() and len(tld) >= 2)):
        raise InvalidEmail(f".{tld} is not a valid domain ending")
    result = f"{local}@{domain}"
    if len(result) > 254:
        raise InvalidEmail("an e-mail address can have at most 254 characters")
    return result


# ---------------------------------------------------------------------------- address fields

_WS = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")


def resolve_country(text: str) -> str | None:
    """ISO 3166-1 alpha-2 code for a code or a common name ("UK" and "United Kingdom" → GB)."""
    t = text.strip()
    if len(t) == 2 and t.upper() in COUNTRY_CODES:
        return t.upper()
    key = _WS.sub(" ", re.sub(r"[.]", " ", t.lower())).strip()
    if key.startswith("the ") and key not in COUNTRY_ALIASES:
        key = key[4:]
    return COUNTRY_ALIASES.get(key)


def _region(country: str, text: str) -> str | None:
    table = REGIONS.get(country)
    if table is None:
        return None
    key = _WS.sub(" ", text.lower().strip().rstrip(".")).strip()
    return table.get(key)


def _a(code: str) -> str:
    """The article before a spelled-out country code: "a US state", "an AU state"."""
    return "an" if code[:1] in "AEFHILMNORSX" else "a"


def _postal_match(country: str, text: str) -> str | None:
    pattern = POSTAL_PATTERNS.get(country, GENERIC_POSTAL)
    up = _WS.sub(" ", text.upper()).strip()
    return postal_format(country, up) if re.fullmatch(pattern, up) else None


def _postal_error(country: str, raw: str) -> InvalidAddress:
    name = POSTAL_NAMES.get(country, "postal code")
    example = POSTAL_EXAMPLES.get(country)
    hint = f" (like {example})" if example else ""
    return InvalidAddress(f"{raw!r} is not a valid {name}{hint}", field="postal_code")


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidAddress(f"{key} must be text", field=key)
    value = _WS.sub(" ", value).strip()
    if any(unicodedata.category(c).startswith("C") for c in value):
        raise InvalidAddress(f"{key} contains control characters", field=key)
    return redact_card_numbers(value)  # a card number typed into an address is never stored


def _normalise_fields(data: Mapping[str, Any]) -> dict[str, str]:
    """Check and normalise the address fields; :class:`InvalidAddress` names the first bad field."""
    unknown = set(data) - set(Address.model_fields)
    if unknown:
        raise InvalidAddress(
            f"unknown address field(s): {', '.join(sorted(unknown))}", field=sorted(unknown)[0]
        )
    raw_country = _text(data, "country")
    if not raw_country:
        raise InvalidAddress("the country is missing", field="country")
    country = resolve_country(raw_country)
    if country is None:
        raise InvalidAddress(
            f"{raw_country!r} is not a country I know; use a two-letter code such as US, GB or DE",
            field="country",
        )
    name = _text(data, "name")
    if not name or not _LETTER.search(name):
        raise InvalidAddress("the recipient's name is missing", field="name")
    line1 = _text(data, "line1")
    if not line1 or not re.search(r"\w", line1):
        raise InvalidAddress("the street address is missing", field="line1")
    if country in STREET_NUMBER_REQUIRED and not _DIGIT.search(line1):
        raise InvalidAddress(f"the street address {line1!r} has no house number", field="line1")
    line2 = _text(data, "line2")
    city = _text(data, "city")
    if not city or not _LETTER.search(city):
        raise InvalidAddress("the city is missing", field="city")
    word = REGION_WORD.get(country, "region")
    region = _text(data, "region")
    if region:
        canonical = _region(country, region)
        if canonical is not None:
            region = canonical
        elif country in REGION_REQUIRED:
            raise InvalidAddress(f"{region!r} is not {_a(country)} {country} {word}", field="region")
    elif country in REGION_REQUIRED:
        raise InvalidAddress(f"the {word} is missing", field="region")
    raw_postal = _text(data, "postal_code")
    if raw_postal:
        postal = _postal_match(country, raw_postal)
        if postal is None:
            raise _postal_error(country, raw_postal)
    elif country in NO_POSTCODE:
        postal = ""
    else:
        raise InvalidAddress(
            f"the {POSTAL_NAMES.get(country, 'postal code')} is missing", field="postal_code"
        )
    return {
        "name": name,
        "line1": line1,
        "line2": line2,
        "city": city,
        "region": region,
        "postal_code": postal,
        "country": country,
    }


class Address(BaseModel):
    """A checked shipping address; ``country`` is ISO 3166-1 alpha-2, ``postal_code`` in its canonical
    spelling (``SW1A 2AA``, ``K1A 0B1``), US/CA/AU ``region`` as the postal abbreviation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    line1: str = Field(min_length=1, max_length=200)
    line2: str = Field(default="", max_length=200)
    city: str = Field(min_length=1, max_length=100)
    region: str = Field(default="", max_length=100)
    postal_code: str = Field(default="", max_length=16)
    country: str = Field(min_length=2, max_length=2)

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            try:
                return _normalise_fields(data)
            except InvalidAddress as exc:
                raise ValueError(exc.message) from None
        return data

    def one_line(self) -> str:
        """E.g. ``Jane Doe, 12 Main St, Apt 4, Springfield, IL 62704, US`` (for confirmations)."""
        locality = " ".join(p for p in (self.region, self.postal_code) if p)
        parts = [self.name, self.line1, self.line2, self.city, locality, self.country]
        return ", ".join(p for p in parts if p)


def validate_address(data: Mapping[str, Any] | Address) -> Address:
    """An :class:`Address` from fields (API body); :class:`InvalidAddress` naming the wrong field."""
    if isinstance(data, Address):
        return data
    if not isinstance(data, Mapping):
        raise InvalidAddress("the shipping address must be an object of fields")
    fields = _normalise_fields(data)
    try:
        return Address.model_validate(fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err.get("loc") else None
        raise InvalidAddress(f"{field}: {err['msg']}" if field else str(err["msg"]), field=field) from None


# ---------------------------------------------------------------------------- free text


@dataclass
class _Locality:
    before: list[str]
    city: str
    region: str
    postal: str


_SPLIT = re.compile(r"\s*(?:[,;\n]|\s-\s)\s*")


def _postal_finder(country: str) -> re.Pattern[str]:
    pattern = POSTAL_PATTERNS.get(country, r"(?=[A-Z0-9 -]*\d)" + GENERIC_POSTAL)
    return re.compile(rf"(?<![A-Za-z0-9])(?:{pattern})(?![A-Za-z0-9])", re.IGNORECASE)


def _split_region(country: str, text: str) -> tuple[str, str] | None:
    """(region, rest) when ``text`` is a region or ends with one ("Springfield IL")."""
    words = text.split()
    for n in (4, 3, 2, 1):
        if n > len(words):
            continue
        region = _region(country, " ".join(words[-n:]))
        if region is not None:
            return region, " ".join(words[:-n]).strip(" ,")
    return None


def _city_in(before: list[str]) -> bool:
    """Is the last of the parts before the postal code the city?  With three or more parts, yes
    (name, street, …, city); with two, when the first is a street (no name given) or the second
    is not one (no street given) — so that the right part is reported missing."""
    if len(before) > 2:
        return True
    return len(before) == 2 and (_DIGIT.search(before[0]) is not None or _DIGIT.search(before[1]) is None)


def _locality(parts: list[str], country: str) -> _Locality:
    """Find postal code, region and city at the end of ``parts`` (name and street come first)."""
    finder = _postal_finder(country)
    found: tuple[int, re.Match[str]] | None = None
    for k in range(len(parts) - 1, 1, -1):
        matches = list(finder.finditer(parts[k]))
        if matches:
            found = (k, matches[-1])
            break
        if len(parts) - k >= 3:
            break
    if found is None:
        if country not in NO_POSTCODE:
            tail = parts[-1] if len(parts) > 2 else ""
            attempt = next((w for w in reversed(tail.split()) if _DIGIT.search(w)), None)
            if attempt is not None:
                raise _postal_error(country, attempt)
            raise InvalidAddress(
                f"the {POSTAL_NAMES.get(country, 'postal code')} is missing", field="postal_code"
            )
        k, postal, residue, after = len(parts), "", "", []
    else:
        k, m = found
        postal = m.group(0)
        residue = (parts[k][: m.start()] + " " + parts[k][m.end() :]).strip(" ,")
        residue = _WS.sub(" ", residue)
        after = parts[k + 1 :]
    before = parts[:k]
    region = ""
    # the region: in what is left of the postal-code part, a part after it, or the part before it
    if country in REGIONS:
        split = _split_region(country, residue) if residue else None
        if split is not None and not split[1] and not after and not _city_in(before) and len(residue) > 3:
            split = None  # "New Delhi 110001": a name (not a code) that is the only candidate for the city
        if split is not None:
            region, residue = split
        else:
            for i, part in enumerate(after):
                region_of = _region(country, part)
                if region_of is not None:
                    region = region_of
                    after = after[:i] + after[i + 1 :]
                    break
            else:
                if len(before) > 2 and (split := _split_region(country, before[-1])) is not None:
                    region = split[0]
                    if split[1]:
                        before[-1] = split[1]
                    else:
                        before.pop()
        if not region and country in REGION_REQUIRED and residue and len(residue.split()) == 1:
            word = REGION_WORD.get(country, "region")
            if len(residue) <= 3:
                raise InvalidAddress(f"{residue!r} is not {_a(country)} {country} {word}", field="region")
    if residue:
        city = residue
    elif after:
        city = after.pop(0)
    elif _city_in(before):
        city = before.pop()
    else:
        raise InvalidAddress("the city is missing", field="city")
    return _Locality(before=before, city=city, region=region, postal=postal)


def _take_country(parts: list[str]) -> tuple[str | None, list[str]]:
    last = parts[-1]
    code = resolve_country(last)
    if code is not None:
        return code, parts[:-1]
    words = last.split()
    for n in (4, 3, 2, 1):
        if n >= len(words):
            continue
        tail = " ".join(words[-n:])
        # a trailing name ("… 2000 Australia") or an upper-case code ("… 62704 US"), never "… Toronto on"
        code = resolve_country(tail) if (len(tail) > 3 or tail.isupper()) else None
        if code is not None:
            return code, [*parts[:-1], " ".join(words[:-n])]
    return None, parts


def _infer_country(parts: list[str]) -> str | None:
    """US/CA/AU/IN when the end is "<state> <postal code>"; GB when it ends with a UK postcode."""
    for country in ("US", "CA", "AU", "IN"):
        try:
            loc = _locality(list(parts), country)
        except InvalidAddress:
            continue
        if loc.postal and loc.region:
            return country
    if re.search(rf"(?<![A-Za-z0-9])(?:{POSTAL_PATTERNS['GB']})$", parts[-1], re.IGNORECASE):
        return "GB"
    return None


def parse_address(text: str) -> Address:
    """An :class:`Address` from a chat answer such as
    ``"Jane Doe, 12 Main St, Apt 4, Springfield, IL 62704, US"`` or
    ``"Jane Doe, 10 Downing Street, London SW1A 2AA, UK"``: comma-separated, name first, then the
    street line(s), then city, region and postal code (in the local order), then the country (which may
    be left out when a US/CA/AU/IN state with its postal code, or a UK postcode, makes it plain).
    :class:`InvalidAddress` says which part is missing or wrong (``field``)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidAddress("I need the shipping address: name, street, city, postal code and country")
    if len(text) > 1000:
        raise InvalidAddress("that address is too long")
    parts = [p.strip(" .") for p in _SPLIT.split(text.strip())]
    parts = [p for p in parts if p]
    if len(parts) < 3:
        raise InvalidAddress(
            "please give the address in parts separated by commas: name, street, city, postal code, country"
        )
    country, rest = _take_country(parts)
    rest = [p for p in rest if p]
    if country is None:
        if not _DIGIT.search(parts[-1]) and _DIGIT.search(parts[-2]):
            raise InvalidAddress(
                f"{parts[-1]!r} is not a country I know; please end the address with the country",
                field="country",
            )
        country = _infer_country(rest)
        if country is None:
            raise InvalidAddress("the country is missing; please end the address with it", field="country")
    if len(rest) < 3:
        raise InvalidAddress(
            "the address needs the name, the street, the city and the postal code", field="line1"
        )
    loc = _locality(rest, country)
    before = loc.before
    if not before:
        raise InvalidAddress("the recipient's name and the street address are missing", field="name")
    if len(before) == 1 or _DIGIT.search(before[0]):
        if _DIGIT.search(before[0]):
            raise InvalidAddress("the recipient's name is missing", field="name")
        raise InvalidAddress("the street address is missing", field="line1")
    return validate_address(
        {
            "name": before[0],
            "line1": before[1],
            "line2": ", ".join(before[2:]),
            "city": loc.city,
            "region": loc.region,
            "postal_code": loc.postal,
            "country": country,
        }
    )
