"""Card numbers: Luhn, brand, expiry, security-code shape and the keyed fingerprint.

Nothing here stores or returns a card number; callers keep only what `CardFacts` holds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from paylinks.errors import InvalidCard

# (brand, prefix ranges as (low, high) over the first digits, allowed lengths)
BRANDS: tuple[tuple[str, tuple[tuple[str, str], ...], tuple[int, ...]], ...] = (
    ("American Express", (("34", "34"), ("37", "37")), (15,)),
    ("Diners Club", (("300", "305"), ("36", "36"), ("38", "39")), (14, 15, 16, 17, 18, 19)),
    ("JCB", (("3528", "3589"),), (16, 17, 18, 19)),
    ("UnionPay", (("62", "62"), ("81", "81")), (16, 17, 18, 19)),
    ("Discover", (("6011", "6011"), ("644", "649"), ("65", "65")), (16, 17, 18, 19)),
    ("MasterCard", (("51", "55"), ("2221", "2720")), (16,)),
    ("Visa", (("4", "4"),), (13, 16, 19)),
)
# Expiry is judged where a month ends last (UTC-12), so that no one's card expires early.
LATEST_TIMEZONE = timezone(timedelta(hours=-12))


@dataclass(frozen=True)
class CardFacts:
    """What may be kept about a card."""

    brand: str
    first_digits: str
    last_digits: str
    fingerprint: str


def digits_of(number: str) -> str:
    """The digits of a card number as people type it (spaces and dashes allowed)."""
    text = re.sub(r"[ \-]", "", str(number))
    if not text.isdigit() or not text.isascii():
        raise InvalidCard("card number must contain only digits")
    return text


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def brand_of(digits: str) -> str:
    for brand, ranges, lengths in BRANDS:
        for low, high in ranges:
            head = digits[: len(low)]
            if low <= head <= high and len(digits) in lengths:
                return brand
    raise InvalidCard(
        "card brand is not supported (Visa, Mastercard, JCB, American Express, "
        "Diners Club, Discover or UnionPay)"
    )


def fingerprint(digits: str, *, secret: bytes) -> str:
    """A keyed hash of the number (HMAC-SHA256), base64 as Omise shows it. Without the key it
    cannot be brute-forced from a BIN and last four digits."""
    return base64.b64encode(hmac.new(secret, digits.encode(), hashlib.sha256).digest()).decode()


def check_number(number: str, *, secret: bytes) -> tuple[str, CardFacts]:
    """(digits, facts) of a valid number; `InvalidCard` otherwise (never echoing the number)."""
    digits = digits_of(number)
    if not 12 <= len(digits) <= 19:
        raise InvalidCard("card number must have between 12 and 19 digits")
    if not luhn_valid(digits):
        raise InvalidCard("card number is invalid (it fails the Luhn check)")
    brand = brand_of(digits)
    return digits, CardFacts(brand, digits[:6], digits[-4:], fingerprint(digits, secret=secret))


def check_expiry(month: int, year: int, *, now: datetime) -> tuple[int, int]:
    """(month, four-digit year) if the card has not expired; a card is valid through the last
    day of its month, judged in UTC-12 so that no one's card expires early."""
    if not 1 <= month <= 12:
        raise InvalidCard("expiration month must be between 1 and 12")
    if year < 100:
        year += 2000
    if not 2000 <= year <= 2200:
        raise InvalidCard("expiration year is invalid")
    local = now.astimezone(LATEST_TIMEZONE)
    if (year, month) < (local.year, local.month):
        raise InvalidCard("card has expired")
    return month, year


def check_security_code(code: str | None, *, brand: str) -> bool:
    """True when a security code of the right shape was given; `InvalidCard` for a bad one."""
    if code is None:
        return False
    length = 4 if brand == "American Express" else 3
    if not (code.isascii() and code.isdigit() and len(code) == length):
        raise InvalidCard(f"security code must be {length} digits")
    return True
