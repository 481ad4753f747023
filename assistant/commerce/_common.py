"""Money and time helpers shared by the commerce modules (private)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["CENT", "money", "to_float", "as_utc", "iso"]

CENT = Decimal("0.01")


def money(value: float | int | str | Decimal) -> Decimal:
    """An amount rounded to cents; floats go through ``str`` so 19.99 stays 19.99."""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def to_float(value: Decimal) -> float:
    return float(money(value))


def as_utc(dt: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored in UTC); make every datetime aware UTC."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def iso(dt: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` (no ``+`` that a query string would turn into a space)."""
    return as_utc(dt).isoformat(timespec="microseconds").replace("+00:00", "Z")
