"""Personal data in free text: card numbers are never stored; emails, phones, addresses masked for staff."""

from __future__ import annotations

import re

__all__ = ["redact_card_numbers", "mask_pii", "luhn_ok"]

_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(
    r"(?<![\w])(?:\+?\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{3,4}[ .-]?\d{3,4}(?:[ .-]?\d{2,4})?(?![\w])"
)
_STREET = re.compile(
    r"\b\d{1,6}\s+(?:[A-Za-z0-9.'-]+\s){0,4}(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|"
    r"court|ct|way|place|pl|terrace|square|sq|parkway|pkwy|highway|hwy|close|crescent)\b\.?",
    re.IGNORECASE,
)


def luhn_ok(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def redact_card_numbers(text: str) -> str:
    """Replace anything that looks like a payment card number (13–19 digits passing Luhn)."""

    def repl(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return "[card number removed]" if 13 <= len(digits) <= 19 and luhn_ok(digits) else m.group(0)

    return _CARD.sub(repl, text)


def mask_pii(text: str) -> str:
    """Mask emails, phone numbers, card numbers and street addresses (for staff views, exports, logs)."""
    text = redact_card_numbers(text)
    text = _EMAIL.sub(lambda m: m.group(0)[0] + "***@***", text)
    text = _STREET.sub("[address]", text)

    def phone(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return "[phone]" if 7 <= len(digits) <= 15 else m.group(0)

    return _PHONE.sub(phone, text)
