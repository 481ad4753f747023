"""Catalog readers: CSV/TSV, JSON Lines, Google Merchant Center feeds and Shopify product exports.

Every reader streams the file and yields, per product, either a validated
:class:`~retrieval._schema.Product` or a :class:`RowError` saying why that row
was left out, so one bad row never costs the rest of the file.  A file that is
not a catalog at all (a PDF, a binary, an empty file, a table without the
needed columns, a JSON array, text that is not UTF-8) raises
:class:`CatalogFormatError` with one readable line, before any row is read.

Row numbers are 1-based: for JSON Lines the line number in the file, for the
tabular formats the data row (row 1 is the first row after the header, so a
spreadsheet shows it as row 2).  Within one file an id is kept the first time it
is seen; later rows with that id become a :class:`RowError`.

Mapping rules, per format:

``jsonl``
    One object per line with the field names of ``DESIGN.md``; ``attributes`` is
    an object.  Other top-level keys with a scalar value become attributes.
``csv``
    A header with the same names (any letter case); ``attributes`` is a JSON
    object in a string column and/or ``attr_<name>`` columns; other columns
    become attributes too (priority: ``attr_<name>`` > JSON > other column).
    Comma, tab, semicolon and pipe delimiters are recognised from the header.
``gmc``
    A Google Merchant Center feed (``g:``-prefixed or plain headers): ``sale_price``
    wins over ``price`` (kept as ``list_price``), ``availability`` maps to
    ``in_stock`` (preorder/backorder count as not in stock and keep
    ``availability``), ``product_type`` gives the category path and, from its last
    level, the singular product type; ``gender`` maps male/female to men/women;
    every other column lands in ``attributes`` (``link``, ``gtin``, ``mpn``…).
``shopify``
    A Shopify products export: one product per variant, draft/archived products
    reported and skipped, ``Body (HTML)`` turned into plain text.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from retrieval._schema import Product

__all__ = [
    "FORMATS",
    "CatalogFormatError",
    "CatalogRead",
    "RowError",
    "detect_format",
    "iter_catalog",
    "read_catalog",
]

#: catalog formats understood by :func:`iter_catalog`
FORMATS = ("csv", "jsonl", "gmc", "shopify")


class CatalogFormatError(ValueError):
    """The file is not a catalog at all; the message is one readable line."""


@dataclass(frozen=True)
class RowError:
    """A row that did not become a product: 1-based row (or line) number, its id if known, why."""

    row: int
    id: str | None
    reason: str

    def __str__(self) -> str:
        return self.reason


@dataclass
class CatalogRead:
    """A whole catalog file, read: its format, the good products, the bad rows.

    ``n_rows`` counts the data records in the file (non-blank JSONL lines, non-empty
    table rows after the header); for a Shopify export it differs from
    ``len(products) + len(errors)`` because a product spans several rows.
    """

    format: str
    products: list[Product] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    n_rows: int = 0


# --------------------------------------------------------------------------- public API


def detect_format(path: Path) -> str:
    """The format of a catalog file (one of :data:`FORMATS`), from its extension and header.

    Raises :class:`CatalogFormatError` when the file is not a catalog.
    """
    return _plan(Path(path), None).fmt


def iter_catalog(path: Path, fmt: str | None = None) -> Iterator[Product | RowError]:
    """Stream a catalog: a :class:`Product` or a :class:`RowError` per product row.

    The file is checked eagerly (format, encoding, header), so
    :class:`CatalogFormatError` comes from this call, not from the first
    ``next()``.  ``fmt`` overrides detection.
    """
    plan = _plan(Path(path), fmt)
    return _dedupe(_READERS[plan.fmt](Path(path), plan, _Stats()), _unit(plan.fmt))


def read_catalog(path: Path, fmt: str | None = None) -> CatalogRead:
    """Read a whole catalog file into memory (see :func:`iter_catalog`)."""
    plan = _plan(Path(path), fmt)
    stats = _Stats()
    result = CatalogRead(format=plan.fmt)
    for item in _dedupe(_READERS[plan.fmt](Path(path), plan, stats), _unit(plan.fmt)):
        if isinstance(item, RowError):
            result.errors.append(item)
        else:
            result.products.append(item)
    result.n_rows = stats.rows
    return result


# --------------------------------------------------------------------------- file checks and detection

_HEAD_BYTES = 64 * 1024
_REQUIRED = ("id", "title", "price")
_SHOPIFY_REQUIRED = ("handle", "title", "variant price")
_GMC_HINTS = ("availability", "link", "image_link")

#: leading bytes of files that are certainly not catalogs
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document, not a catalog (expected CSV, TSV or JSON Lines)"),
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook?), not a catalog: export it as CSV"),
    (b"\x1f\x8b", "gzip-compressed: decompress it first"),
    (b"\xd0\xcf\x11\xe0", "a legacy Office document (.xls?), not a catalog: export it as CSV"),
    (b"\x89PNG", "a PNG image, not a catalog"),
    (b"\xff\xd8\xff", "a JPEG image, not a catalog"),
    (b"GIF8", "a GIF image, not a catalog"),
    (b"\xff\xfe", "UTF-16 text: save it as UTF-8"),
    (b"\xfe\xff", "UTF-16 text: save it as UTF-8"),
)


@dataclass(frozen=True)
class _Plan:
    """What the eager checks found: the format and, for tables, the delimiter and header."""

    fmt: str
    delimiter: str = ","
    columns: tuple[str, ...] = ()


@dataclass
class _Stats:
    rows: int = 0


def _plan(path: Path, fmt: str | None) -> _Plan:
    if fmt is not None and fmt not in FORMATS:
        raise CatalogFormatError(f"unknown catalog format {fmt!r}; expected one of {', '.join(FORMATS)}")
    head = _read_head(path)
    lines = _head_lines(head)
    if not lines:
        raise CatalogFormatError(f"{path.name}: the file is empty (no header, no products)")
    if fmt is None:
        fmt = _detect(path, head, lines)
    if fmt == "jsonl":
        _check_jsonl(path, lines)
        return _Plan("jsonl")
    delimiter = _sniff_delimiter(lines[0], path.suffix.lower())
    raw = _header_cells(head, delimiter)
    columns = tuple(_column_name(c, fmt) for c in raw)
    seen: set[str] = set()
    for col in columns:
        if col and col in seen:
            raise CatalogFormatError(f"{path.name}: column {col!r} appears twice in the header")
        seen.add(col)
    shopify_like = fmt == "shopify" or (fmt == "csv" and "handle" in seen)
    missing = [c for c in (_SHOPIFY_REQUIRED if shopify_like else _REQUIRED) if c not in seen]
    if missing:
        raise CatalogFormatError(_missing_message(path, fmt, shopify_like, missing, columns))
    return _Plan(fmt, delimiter, columns)


def _read_head(path: Path) -> str:
    """The first bytes of the file as text; raises when the file cannot be a text catalog."""
    with path.open("rb") as f:
        raw = f.read(_HEAD_BYTES)
    for magic, what in _MAGIC:
        if raw.startswith(magic):
            raise CatalogFormatError(f"{path.name}: {what}")
    body = raw[len(codecs.BOM_UTF8) :] if raw.startswith(codecs.BOM_UTF8) else raw
    if not body.strip():
        raise CatalogFormatError(f"{path.name}: the file is empty (no header, no products)")
    if b"\x00" in body:
        raise CatalogFormatError(f"{path.name}: a binary file (it holds NUL bytes), not a text catalog")
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(body, final=len(raw) < _HEAD_BYTES)
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise CatalogFormatError(
            f"{path.name}: not UTF-8 text (byte 0x{body[exc.start]:02x} on line {line}); save it as UTF-8"
        ) from None


def _head_lines(head: str) -> list[str]:
    """Non-blank physical lines of the head (only CR/LF end a line, as in the csv module)."""
    return [line for line in io.StringIO(head, newline="") if line.strip()]


def _detect(path: Path, head: str, lines: list[str]) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    first = lines[0].strip()
    if first.startswith(("[", "{")):
        _check_jsonl(path, lines, strict_first=True)  # a JSON array or a multi-line JSON document
        return "jsonl"
    if first.startswith("<"):
        raise CatalogFormatError(
            f"{path.name}: an XML/HTML document, not a catalog (export a Merchant Center feed as TSV)"
        )
    delimiter = _sniff_delimiter(lines[0], suffix)
    raw = _header_cells(head, delimiter)
    plain = {_column_name(c, "csv") for c in raw}
    if {"handle", "variant price"} <= {_column_name(c, "shopify") for c in raw}:
        return "shopify"
    gmc = {_column_name(c, "gmc") for c in raw}
    prefixed = any(c.strip().lower().startswith("g:") for c in raw)
    if (
        set(_REQUIRED) <= gmc
        and gmc.intersection(_GMC_HINTS)
        and (delimiter == "\t" or prefixed or ("availability" in gmc and "in_stock" not in plain))
    ):
        return "gmc"
    return "csv"  # _plan checks the required columns


def _check_jsonl(path: Path, lines: list[str], *, strict_first: bool = False) -> None:
    """Reject JSON that is not JSON Lines; a single broken line is left to that row's RowError."""
    first = lines[0].strip()
    if first.startswith("["):
        raise CatalogFormatError(
            f"{path.name}: a JSON array, not JSON Lines (write one product object per line)"
        )
    if first == "{" or (strict_first and not _json_object(first)):
        raise CatalogFormatError(
            f"{path.name}: a JSON document over several lines, not JSON Lines (one product object per line)"
        )
    if not any(line.lstrip().startswith("{") for line in lines[:20]):
        raise CatalogFormatError(f"{path.name}: not JSON Lines (no line starts with a JSON object)")


def _json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _sniff_delimiter(header_line: str, suffix: str) -> str:
    counts = {d: header_line.count(d) for d in ("\t", ",", ";", "|")}
    if suffix == ".tsv" and counts["\t"]:
        return "\t"
    best = max(counts, key=lambda d: counts[d])  # ties: the first (tab) wins
    return best if counts[best] else ","


def _header_cells(head: str, delimiter: str) -> list[str]:
    for cells in csv.reader(io.StringIO(head, newline=""), delimiter=delimiter):
        if any(c.strip() for c in cells):
            return cells
    return []


def _column_name(raw: str, fmt: str) -> str:
    name = _WS.sub(" ", raw.strip().lstrip("\ufeff").strip().lower())
    if fmt == "gmc":
        if name.startswith("g:"):
            name = name[2:].strip()
        name = name.replace(" ", "_")
    return name


def _missing_message(
    path: Path, fmt: str, shopify_like: bool, missing: list[str], columns: tuple[str, ...]
) -> str:
    quoted = [repr(m) for m in missing]
    names = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    found = ", ".join(_clip(c, 30) for c in columns[:8] if c) + (", …" if len(columns) > 8 else "")
    found = found or "nothing"
    if shopify_like:
        need = "a Shopify export needs Handle, Title and Variant Price"
    elif fmt == "gmc":
        need = "a Merchant Center feed needs id, title and price"
    else:
        need = "a catalog needs id, title and price"
    return f"{path.name}: not a catalog: no {names} column in the header ({need}; found: {found})"


# --------------------------------------------------------------------------- streaming


def _open_lines(path: Path) -> Iterator[str]:
    """The file's lines, line endings kept, decoded as UTF-8 (a BOM is dropped)."""
    n = 0
    with path.open(encoding="utf-8-sig", newline="") as f:
        while True:
            try:
                line = f.readline()
            except UnicodeDecodeError:
                raise CatalogFormatError(
                    f"{path.name}: not UTF-8 text (an invalid byte after line {n}); save it as UTF-8"
                ) from None
            if not line:
                return
            n += 1
            yield line


def _table_rows(path: Path, plan: _Plan) -> Iterator[tuple[int, list[str]]]:
    """(data row number, cells) for every non-empty row after the header."""
    reader = csv.reader(_open_lines(path), delimiter=plan.delimiter)
    header_seen = False
    row = 0
    try:
        for cells in reader:
            blank = not any(c.strip() for c in cells)
            if not header_seen:
                header_seen = not blank
                continue
            row += 1
            if not blank:
                yield row, cells
    except csv.Error as exc:
        raise CatalogFormatError(f"{path.name}: unreadable at line {reader.line_num}: {exc}") from None


def _record(cells: list[str], columns: tuple[str, ...]) -> dict[str, str]:
    """Cells by column name (stripped); a row with more values than the header is a problem."""
    if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
        raise _Problem(
            f"{len(cells)} values but the header has {len(columns)} columns (an unquoted delimiter?)"
        )
    return {col: cell.strip() for col, cell in zip(columns, cells, strict=False) if col}


def _cell(cells: list[str], columns: tuple[str, ...], name: str) -> str | None:
    """One cell by column name, for error messages (None when absent or empty)."""
    try:
        value = cells[columns.index(name)].strip()
    except (ValueError, IndexError):
        return None
    return value or None


_Item = tuple[int, Product | RowError]


def _dedupe(items: Iterator[_Item], unit: str) -> Iterator[Product | RowError]:
    """Drop the row numbers; a product id seen before becomes a RowError (the first one is kept)."""
    seen: dict[str, int] = {}
    for row, item in items:
        if isinstance(item, Product):
            first = seen.get(item.id)
            if first is not None:
                yield _row_error(unit, row, item.id, f"duplicate id (first seen in {unit} {first}), skipped")
                continue
            seen[item.id] = row
        yield item


def _unit(fmt: str) -> str:
    return "line" if fmt == "jsonl" else "row"


class _Problem(Exception):
    """Why one row is not a product; becomes :attr:`RowError.reason` after the row's position."""


def _row_error(unit: str, row: int, pid: str | None, message: str) -> RowError:
    where = f"{unit} {row} (id {_clip(pid)!r})" if pid else f"{unit} {row}"
    return RowError(row=row, id=pid, reason=f"{where}: {message}")


# --------------------------------------------------------------------------- values

_WS = re.compile(r"\s+")
_PLAIN_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_SYMBOLS: dict[str, str | None] = {
    "$": None,  # which dollar? the currency column (or USD) decides
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "₪": "ILS",
    "₱": "PHP",
    "₫": "VND",
    "฿": "THB",
}
_DOLLARS = {
    "US": "USD",
    "C": "CAD",
    "CA": "CAD",
    "A": "AUD",
    "AU": "AUD",
    "NZ": "NZD",
    "HK": "HKD",
    "S": "SGD",
    "R": "BRL",
    "MX": "MXN",
}
_SYMBOL_CLASS = "[" + "".join(re.escape(s) for s in _SYMBOLS) + "]"
_PREFIX_SYMBOL = re.compile(rf"([A-Za-z]{{0,2}})({_SYMBOL_CLASS})\s*(.*)")
_SUFFIX_SYMBOL = re.compile(rf"(.*?)\s*({_SYMBOL_CLASS})")
_CODE_FIRST = re.compile(r"([A-Z]{3})\s*([^A-Za-z].*)")  # ISO codes are upper case
_CODE_LAST = re.compile(r"(.*[^A-Za-z\s])\s*([A-Z]{3})")
_TRUE = {"true", "yes", "y", "t", "1", "in stock", "instock", "available"}
_FALSE = {"false", "no", "n", "f", "0", "out of stock", "outofstock", "sold out", "unavailable"}


def _clip(value: object, limit: int = 40) -> str:
    text = _WS.sub(" ", str(value)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown(value: object) -> str:
    """A value for a message: text quoted (and clipped), a JSON number or boolean as written."""
    return repr(_clip(value)) if isinstance(value, str) else _clip(json.dumps(value))


def _parse_number(text: str) -> float | None:
    """A plain or grouped number: ``1299``, ``1,299.00``, ``1.299,00``, ``1 299,5``, ``12,50``."""
    t = re.sub(r"[\s'’\u00a0\u202f]", "", text)
    if not _PLAIN_NUMBER.fullmatch(t):
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", t):
            t = t.replace(",", "")
        elif re.fullmatch(r"\d{1,3}(?:\.\d{3})+,\d+", t) or re.fullmatch(r"\d+,\d{1,2}", t):
            t = t.replace(".", "").replace(",", ".")
        elif re.fullmatch(r"\d{1,3}(?:\.\d{3}){2,}", t):
            t = t.replace(".", "")
        else:
            return None
    value = float(t)
    return value if math.isfinite(value) else None


def _parse_money(raw: str, label: str) -> tuple[float, str | None]:
    """A price with an optional currency code or symbol: ``$1,299.00``, ``15.00 USD``, ``12,50 €``."""
    text = raw.strip().replace("\u2212", "-")
    not_a_number = _Problem(f"{label} {_clip(raw)!r} is not a number")
    code: str | None = None
    if m := _CODE_FIRST.fullmatch(text):
        code, text = m.group(1), m.group(2)
    elif m := _CODE_LAST.fullmatch(text):
        text, code = m.group(1), m.group(2)
    text = text.strip()
    sign = 1.0
    if text and text[0] in "-+":
        sign, text = (-1.0 if text[0] == "-" else 1.0), text[1:].strip()
    if m := _PREFIX_SYMBOL.fullmatch(text):
        prefix, symbol, text = m.group(1).upper(), m.group(2), m.group(3)
        if prefix and (symbol != "$" or prefix not in _DOLLARS):
            raise not_a_number
        code = code or (_DOLLARS.get(prefix) if symbol == "$" else _SYMBOLS[symbol])
    elif m := _SUFFIX_SYMBOL.fullmatch(text):
        text, code = m.group(1), code or _SYMBOLS[m.group(2)]
    if text[:1] == "-" and sign > 0:  # "$-5.00"
        sign, text = -1.0, text[1:]
    value = _parse_number(text)
    if value is None:
        raise not_a_number
    if sign < 0 and value > 0:
        raise _Problem(f"{label} {_clip(raw)!r} is negative")
    return value, code


def _parse_bool(raw: str, label: str) -> bool:
    key = _WS.sub(" ", raw.strip().lower().replace("_", " "))
    if key in _TRUE or key.replace(" ", "") in _TRUE:
        return True
    if key in _FALSE or key.replace(" ", "") in _FALSE:
        return False
    raise _Problem(f"{label} {_clip(raw)!r} is not one of true/false, yes/no, 1/0, in stock/out of stock")


def _parse_rating(raw: object) -> float:
    if isinstance(raw, bool):
        raise _Problem(f"rating {_shown(raw)} is not a number")
    if isinstance(raw, int | float):
        value: float | None = float(raw) if math.isfinite(raw) else None
    else:
        value = _parse_number(str(raw).strip())
    if value is None:
        raise _Problem(f"rating {_shown(raw)} is not a number")
    if not 0 <= value <= 5:
        raise _Problem(f"rating {_shown(raw)} is out of range 0..5")
    return value


def _parse_count(raw: object, label: str) -> int:
    bad = _Problem(f"{label} {_shown(raw)} is not a whole number")
    if isinstance(raw, bool):
        raise bad
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        value: float | None = raw
    else:
        text = str(raw).strip()
        number = _parse_number(text.lstrip("-+"))
        value = None if number is None else (-number if text.startswith("-") else number)
    if value is None or not math.isfinite(value) or value != int(value):
        raise bad
    return int(value)


def _money_text(value: float) -> str:
    return f"{value:.2f}"


def _reconcile_currency(code: str | None, column: str | None, label: str) -> str | None:
    """The currency: an explicit column wins, the price's own code/symbol fills in; a clash is a problem."""
    if column and code and column.strip().upper() != code:
        raise _Problem(f"{label} is in {code} but currency is {_clip(column)!r}")
    return column or code


def _json_attribute(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list):
        parts = [p for p in (_json_attribute(v) for v in value) if p]
        return ", ".join(parts)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _json_attributes(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Problem(f"attributes must be a JSON object, not {_json_kind(value)}")
    out: dict[str, str] = {}
    for key, v in value.items():
        text = _json_attribute(v)
        if text is not None:
            out[str(key)] = text
    return out


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null" if value is None else type(value).__name__


def _missing(data: dict[str, Any], labels: dict[str, str]) -> None:
    absent = [label for name, label in labels.items() if data.get(name) in (None, "")]
    if absent:
        raise _Problem("missing " + ", ".join(absent))


def _validate(data: dict[str, Any]) -> Product:
    try:
        return Product.model_validate(data)
    except ValidationError as exc:
        raise _Problem(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    """pydantic errors as one short line: ``field 'value': message; …``."""
    errors = exc.errors(include_url=False)
    parts: list[str] = []
    for err in errors[:3]:
        loc = ".".join(str(x) for x in err["loc"]) or "product"
        msg = str(err["msg"]).removeprefix("Value error, ")
        msg = msg[:1].lower() + msg[1:]
        value = err.get("input")
        if (
            err["type"] not in ("missing", "extra_forbidden")
            and isinstance(value, str | int | float)
            and not isinstance(value, bool)
            and len(str(value)) <= 40
        ):
            parts.append(f"{loc} {value!r}: {msg}")
        else:
            parts.append(f"{loc}: {msg}")
    if len(errors) > 3:
        parts.append(f"and {len(errors) - 3} more")
    return "; ".join(parts)


# --------------------------------------------------------------------------- product types

#: nouns used in the plural (as the demo catalog's product types are)
_KEEP_PLURAL = frozenset(
    [
        "jeans",
        "pants",
        "trousers",
        "shorts",
        "leggings",
        "jeggings",
        "tights",
        "overalls",
        "dungarees",
        "pajamas",
        "pyjamas",
        "briefs",
        "boxers",
        "knickers",
        "panties",
        "sunglasses",
        "glasses",
        "eyeglasses",
        "goggles",
        "binoculars",
        "scissors",
        "pliers",
        "tongs",
        "headphones",
        "earphones",
        "earrings",
        "socks",
        "flats",
        "heels",
        "flops",
        "flip-flops",
        "clothes",
        "series",
        "species",
        "news",
    ]
)
_IRREGULAR = {
    "knives": "knife",
    "shelves": "shelf",
    "scarves": "scarf",
    "leaves": "leaf",
    "loaves": "loaf",
    "halves": "half",
    "lenses": "lens",
    "children": "child",
    "feet": "foot",
    "teeth": "tooth",
    "mice": "mouse",
    "tshirts": "t-shirt",
}
#: plurals of nouns ending in "ie" (not "y")
_IE_PLURALS = frozenset(
    [
        "hoodies",
        "beanies",
        "onesies",
        "booties",
        "cookies",
        "brownies",
        "movies",
        "selfies",
        "neckties",
        "bowties",
        "goalies",
        "smoothies",
        "zombies",
        "pixies",
        "rookies",
        "veggies",
    ]
)


def _singular_word(word: str) -> str:
    if word in _KEEP_PLURAL or len(word) <= 3 or not word.isalpha() and "-" not in word:
        return word
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith("ies") and len(word) > 4 and word not in _IE_PLURALS:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return word[:-2]
    if word.endswith(("ss", "us", "is", "ics", "ous")):
        return word
    return word[:-1] if word.endswith("s") else word


def _singular_type(text: str) -> str:
    """A product type, lower case, last word singular: ``"Coffee Tables"`` → ``"coffee table"``."""
    words = _WS.sub(" ", text.strip().lower()).split(" ")
    words[-1] = _singular_word(words[-1])
    return " ".join(words).strip()


def _type_from_path(path: str) -> str:
    """The singular product type of a category path's last level."""
    levels = [p.strip() for p in path.split(">") if p.strip()]
    return _singular_type(levels[-1]) if levels else ""


# --------------------------------------------------------------------------- jsonl

_FIELDS = (
    "id",
    "title",
    "description",
    "product_type",
    "category",
    "brand",
    "price",
    "currency",
    "rating",
    "rating_count",
    "in_stock",
    "attributes",
    "image_url",
    "image_path",
)
_TEXT_FIELDS = ("title", "description", "product_type", "category", "brand", "currency")
_REQUIRED_LABELS = {"id": "id", "title": "title", "price": "price"}
_ID_IN_TEXT = re.compile(r'"id"\s*:\s*"?([^",}\s]+)')


def _jsonl_items(path: Path, plan: _Plan, stats: _Stats) -> Iterator[_Item]:
    for lineno, line in enumerate(_open_lines(path), 1):
        if not line.strip():
            continue
        stats.rows += 1
        pid: str | None = None
        try:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                m = _ID_IN_TEXT.search(line)
                pid = m.group(1) if m else None
                raise _Problem(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(obj, dict):
                raise _Problem(f"expected a JSON object, got {_json_kind(obj)}")
            raw_id = obj.get("id")
            if isinstance(raw_id, str | int) and not isinstance(raw_id, bool):
                pid = str(raw_id).strip() or None
            item: Product | RowError = _validate(_jsonl_data(obj))
        except _Problem as problem:
            item = _row_error("line", lineno, pid, str(problem))
        yield lineno, item


def _jsonl_data(obj: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for key, value in obj.items():
        if key in _FIELDS or value is None:
            continue
        if isinstance(value, str | int | float | bool):
            extra[key] = _json_attribute(value) or ""
        else:
            raise _Problem(f"unknown field {_clip(key)!r} (put it under attributes)")
    raw_id = obj.get("id")
    if isinstance(raw_id, bool) or (raw_id is not None and not isinstance(raw_id, str | int)):
        raise _Problem(f"id must be a string, not {_json_kind(raw_id)}")
    if raw_id is not None:
        data["id"] = str(raw_id)
    for name in _TEXT_FIELDS:
        value = obj.get(name)
        if name == "category" and isinstance(value, list):
            value = " > ".join(str(v) for v in value)
        if value is not None:
            data[name] = value
    data["price"] = obj.get("price")
    _missing(data, _REQUIRED_LABELS)
    price = data["price"]
    if isinstance(price, bool) or not isinstance(price, str | int | float):
        raise _Problem(f"price must be a number, not {_json_kind(price)}")
    if isinstance(price, str):
        value, code = _parse_money(price, "price")
        data["price"] = value
        column = obj.get("currency")
        currency = _reconcile_currency(code, column if isinstance(column, str) and column else None, "price")
        if currency:
            data["currency"] = currency
    elif price < 0:
        raise _Problem(f"price {_shown(price)} is negative")
    stock = obj.get("in_stock")
    if isinstance(stock, str):
        data["in_stock"] = _parse_bool(stock, "in_stock")
    elif isinstance(stock, int) and not isinstance(stock, bool) and stock in (0, 1):
        data["in_stock"] = bool(stock)
    elif stock is not None:
        data["in_stock"] = stock
    rating = obj.get("rating")
    if rating is not None and rating != "":
        data["rating"] = _parse_rating(rating)
    count = obj.get("rating_count")
    if count is not None and count != "":
        data["rating_count"] = _parse_count(count, "rating_count")
    data["attributes"] = {**extra, **_json_attributes(obj.get("attributes"))}
    for name in ("image_url", "image_path"):
        value = obj.get(name)
        if value not in (None, ""):
            data[name] = value
    return data


# --------------------------------------------------------------------------- csv


def _csv_items(path: Path, plan: _Plan, stats: _Stats) -> Iterator[_Item]:
    for row, cells in _table_rows(path, plan):
        stats.rows += 1
        try:
            item: Product | RowError = _validate(_csv_data(_record(cells, plan.columns)))
        except _Problem as problem:
            item = _row_error("row", row, _cell(cells, plan.columns, "id"), str(problem))
        yield row, item


def _csv_data(rec: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {name: rec[name] for name in ("id", *_TEXT_FIELDS) if rec.get(name)}
    data["price"] = rec.get("price")
    _missing(data, _REQUIRED_LABELS)
    price, code = _parse_money(rec["price"], "price")
    data["price"] = price
    currency = _reconcile_currency(code, rec.get("currency") or None, "price")
    if currency:
        data["currency"] = currency
    if rec.get("in_stock"):
        data["in_stock"] = _parse_bool(rec["in_stock"], "in_stock")
    if rec.get("rating"):
        data["rating"] = _parse_rating(rec["rating"])
    if rec.get("rating_count"):
        data["rating_count"] = _parse_count(rec["rating_count"], "rating_count")
    extra: dict[str, str] = {}
    prefixed: dict[str, str] = {}
    for col, value in rec.items():
        if not value or col in _FIELDS:
            continue
        if col.startswith("attr_") and len(col) > len("attr_"):
            prefixed[col[len("attr_") :]] = value
        else:
            extra[col] = value
    from_json: dict[str, str] = {}
    if rec.get("attributes"):
        try:
            parsed = json.loads(rec["attributes"])
        except json.JSONDecodeError as exc:
            raise _Problem(f"attributes is not valid JSON ({exc.msg} at column {exc.colno})") from None
        from_json = _json_attributes(parsed)
    data["attributes"] = {**extra, **from_json, **prefixed}
    for name in ("image_url", "image_path"):
        if rec.get(name):
            data[name] = rec[name]
    return data


# --------------------------------------------------------------------------- google merchant center

_GENDERS = {
    "male": "men",
    "men": "men",
    "man": "men",
    "m": "men",
    "female": "women",
    "women": "women",
    "woman": "women",
    "f": "women",
    "unisex": "unisex",
}
_AVAILABILITY = {
    "in stock": True,
    "out of stock": False,
    "preorder": False,
    "backorder": False,
    "limited availability": True,
    "available for order": True,
}
_GMC_CONSUMED = frozenset(
    {"id", "title", "description", "price", "sale_price", "availability", "brand", "product_type"}
    | {"image_link", "gender"}
)


def _gmc_items(path: Path, plan: _Plan, stats: _Stats) -> Iterator[_Item]:
    for row, cells in _table_rows(path, plan):
        stats.rows += 1
        try:
            item: Product | RowError = _validate(_gmc_data(_record(cells, plan.columns)))
        except _Problem as problem:
            item = _row_error("row", row, _cell(cells, plan.columns, "id"), str(problem))
        yield row, item


def _gmc_data(rec: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        name: rec[name] for name in ("id", "title", "description", "brand") if rec.get(name)
    }
    data["price"] = rec.get("price")
    _missing(data, _REQUIRED_LABELS)
    attributes = {col: value for col, value in rec.items() if value and col not in _GMC_CONSUMED}
    price, code = _parse_money(rec["price"], "price")
    if rec.get("sale_price"):
        sale, sale_code = _parse_money(rec["sale_price"], "sale_price")
        if sale_code and code and sale_code != code:
            raise _Problem(f"sale_price is in {sale_code} but price is in {code}")
        attributes["list_price"] = _money_text(price)
        price, code = sale, sale_code or code
    data["price"] = price
    if code:
        data["currency"] = code
    if rec.get("availability"):
        key = _WS.sub(" ", rec["availability"].lower().replace("_", " ")).strip()
        if key not in _AVAILABILITY:
            raise _Problem(
                f"availability {_clip(rec['availability'])!r} is not one of "
                "in stock, out of stock, preorder, backorder"
            )
        data["in_stock"] = _AVAILABILITY[key]
        if key in ("preorder", "backorder"):
            attributes["availability"] = key
    path = rec.get("product_type") or ""
    google = rec.get("google_product_category") or ""
    if not path and google and not google.isdigit():
        path = google
    if path:
        data["category"] = path
        data["product_type"] = _type_from_path(path)
    if rec.get("gender"):
        attributes["gender"] = _GENDERS.get(rec["gender"].strip().lower(), rec["gender"])
    if rec.get("image_link"):
        data["image_url"] = rec["image_link"]
    data["attributes"] = attributes
    return data


# --------------------------------------------------------------------------- shopify

_OPTION_ATTRIBUTES = {"size": "size", "color": "color", "colour": "color", "material": "material"}
_SHOPIFY_EXTRA = {
    "google shopping / gender": "gender",
    "google shopping / age group": "age_group",
    "google shopping / condition": "condition",
    "google shopping / mpn": "mpn",
    "google shopping / google product category": "google_product_category",
}
_VARIANT_COLUMNS = ("option1 value", "option2 value", "option3 value", "variant sku", "variant price")
_ID_BAD_CHARS = re.compile(r"[^A-Za-z0-9._:\-]+")


def _shopify_items(path: Path, plan: _Plan, stats: _Stats) -> Iterator[_Item]:
    group: list[tuple[int, dict[str, str]]] = []
    seen: dict[str, int] = {}
    for row, cells in _table_rows(path, plan):
        stats.rows += 1
        try:
            rec = _record(cells, plan.columns)
        except _Problem as problem:
            yield row, _row_error("row", row, _cell(cells, plan.columns, "handle"), str(problem))
            continue
        handle = rec.get("handle", "")
        if not handle:
            yield row, _row_error("row", row, None, "missing Handle")
            continue
        if group and handle != group[0][1]["handle"]:
            yield from _shopify_product(group, seen)
            group = []
        group.append((row, rec))
    if group:
        yield from _shopify_product(group, seen)


def _is_variant_row(rec: dict[str, str]) -> bool:
    return any(rec.get(col) for col in _VARIANT_COLUMNS)


def _shopify_id(text: str) -> str:
    return _ID_BAD_CHARS.sub("-", text).strip("-")[:128]


def _shopify_product(group: list[tuple[int, dict[str, str]]], seen: dict[str, int]) -> Iterator[_Item]:
    """The products (one per variant) of the consecutive rows of one handle."""
    first_row, first = group[0]
    handle = first["handle"]
    if handle in seen:
        yield (
            first_row,
            _row_error(
                "row",
                first_row,
                handle,
                f"handle already used in row {seen[handle]} (rows of one product must follow each other)",
            ),
        )
        return
    seen[handle] = first_row
    status = first.get("status", "").lower()
    if status and status != "active":
        yield first_row, _row_error("row", first_row, handle, f"product is {status} (Status), skipped")
        return
    if not status and first.get("published", "").lower() in ("false", "no", "0"):
        yield first_row, _row_error("row", first_row, handle, "product is not published (Published), skipped")
        return
    base_id = _shopify_id(handle)
    if not first.get("title"):
        yield first_row, _row_error("row", first_row, handle, "missing Title")
        return
    if not base_id:
        yield first_row, _row_error("row", first_row, handle, "Handle has no letters or digits")
        return

    variants = [group[0], *[(row, rec) for row, rec in group[1:] if _is_variant_row(rec)]]
    images: list[tuple[float, int, str]] = []
    for order, (_row, rec) in enumerate(group):
        if rec.get("image src"):
            position = rec.get("image position", "")
            images.append((float(position) if position.isdigit() else math.inf, order, rec["image src"]))
    first_image = min(images)[2] if images else None

    common: dict[str, Any] = {
        "title": first["title"],
        "description": _html_to_text(first.get("body (html)", "")),
        "brand": first.get("vendor", ""),
        "product_type": (
            _singular_type(first["type"])
            if first.get("type")
            else _type_from_path(first.get("product category", ""))
        ),
        "category": first.get("product category", ""),
    }
    attributes: dict[str, str] = {}
    if first.get("tags"):
        attributes["tags"] = first["tags"]
    for col, name in _SHOPIFY_EXTRA.items():
        if first.get(col):
            attributes[name] = first[col]
    if "gender" in attributes:
        attributes["gender"] = _GENDERS.get(attributes["gender"].strip().lower(), attributes["gender"])
    option_names = [first.get(f"option{i} name", "") for i in (1, 2, 3)]
    several = len(variants) > 1

    for index, (row, rec) in enumerate(variants, 1):
        sku = rec.get("variant sku", "")
        pid = _shopify_id(f"{handle}--{_shopify_id(sku) or index}") if several else base_id
        try:
            yield (
                row,
                _validate(_shopify_variant(rec, common, attributes, option_names, pid, several, first_image)),
            )
        except _Problem as problem:
            yield row, _row_error("row", row, pid, str(problem))


def _shopify_variant(
    rec: dict[str, str],
    common: dict[str, Any],
    product_attributes: dict[str, str],
    option_names: list[str],
    pid: str,
    several: bool,
    first_image: str | None,
) -> dict[str, Any]:
    if not rec.get("variant price"):
        raise _Problem("missing Variant Price")
    price, code = _parse_money(rec["variant price"], "Variant Price")
    attributes = dict(product_attributes)
    values: list[str] = []
    for i, default_name in enumerate(option_names, 1):
        name = rec.get(f"option{i} name") or default_name
        value = rec.get(f"option{i} value", "")
        if not value or (name.lower() == "title" and value == "Default Title"):
            continue
        values.append(value)
        if name:
            key = name.strip().lower()
            attributes[_OPTION_ATTRIBUTES.get(key, key)] = value
    if rec.get("variant sku"):
        attributes["sku"] = rec["variant sku"]
    if rec.get("variant barcode"):
        attributes["gtin"] = rec["variant barcode"]
    if rec.get("variant compare at price"):
        list_price, _ = _parse_money(rec["variant compare at price"], "Variant Compare At Price")
        if list_price > 0:
            attributes["list_price"] = _money_text(list_price)
    if rec.get("variant grams"):
        grams = _parse_number(rec["variant grams"])
        if grams is None:
            raise _Problem(f"Variant Grams {_clip(rec['variant grams'])!r} is not a number")
        if round(grams) > 0:
            attributes["weight_g"] = str(round(grams))
    data: dict[str, Any] = {**common, "id": pid, "price": price, "attributes": attributes}
    if code:
        data["currency"] = code
    if several and values:
        data["title"] = f"{common['title']} - {' / '.join(values)}"
    qty = rec.get("variant inventory qty")
    if qty:
        data["in_stock"] = _parse_count(qty, "Variant Inventory Qty") > 0
    image = rec.get("variant image") or first_image
    if image:
        data["image_url"] = image
    return data


class _HTMLText(HTMLParser):
    """Text of an HTML fragment: block elements become line breaks, scripts and styles vanish."""

    BLOCKS = frozenset(
        [
            "p",
            "div",
            "br",
            "li",
            "ul",
            "ol",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "tr",
            "table",
            "section",
            "article",
            "blockquote",
            "pre",
            "hr",
            "dd",
            "dt",
            "header",
            "footer",
        ]
    )
    SKIP = frozenset({"script", "style", "template", "noscript", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n- " if tag == "li" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _html_to_text(html: str) -> str:
    """Plain text of ``Body (HTML)``: tags stripped, entities unescaped, one paragraph per line."""
    if not html:
        return ""
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    lines = (_WS.sub(" ", line).strip() for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line and line != "-")


_READERS: dict[str, Callable[[Path, _Plan, _Stats], Iterator[_Item]]] = {
    "jsonl": _jsonl_items,
    "csv": _csv_items,
    "gmc": _gmc_items,
    "shopify": _shopify_items,
}
