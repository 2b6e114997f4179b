"""Currencies and amounts: integer minor units, Omise's presentment currencies and their limits."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import (
    Context,
    Decimal,
    DecimalException,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    Underflow,
    localcontext,
)

from babel.numbers import format_currency, get_currency_symbol

from paylinks.errors import InvalidAmount, InvalidCurrency


@dataclass(frozen=True)
class Currency:
    code: str  # lower case, as the seed writes it on the wire
    exponent: int  # digits after the decimal point
    minimum: int  # smallest amount, minor units
    maximum: int  # largest amount, minor units


# Omise: the presentment currencies of multi-currency accounts (omise-compat §6.2). Limits for
# THB, JPY, SGD and MYR are Omise's charge limits; THB's maximum is the Links API's ฿1,000,000.
# Other currencies take 1.00 as the minimum and 1,000,000.00 as the maximum (our choice).
CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("thb", 2, 2000, 100_000_000),
        Currency("jpy", 0, 100, 6_000_000),
        Currency("sgd", 2, 100, 2_000_000),
        Currency("myr", 2, 100, 10_000_000),
        *(
            Currency(code, 2, 100, 100_000_000)
            for code in ("aud", "cad", "chf", "cny", "dkk", "eur", "gbp", "hkd", "idr", "usd")
        ),
    )
}


def parse_currency(value: str) -> Currency:
    """The currency for a code in any case; `InvalidCurrency` otherwise."""
    currency = CURRENCIES.get(value.strip().lower())
    if currency is None:
        supported = ", ".join(sorted(CURRENCIES))
        raise InvalidCurrency(f"currency {value!r} is not supported; use one of {supported}")
    return currency


def check_amount(amount: int, currency: Currency) -> int:
    """`amount` in minor units if within the currency's limits, else `InvalidAmount`."""
    if amount < currency.minimum:
        raise InvalidAmount(f"amount must be at least {_describe(currency.minimum, currency)}")
    if amount > currency.maximum:
        raise InvalidAmount(f"amount must be at most {_describe(currency.maximum, currency)}")
    return amount


def _describe(amount: int, currency: Currency) -> str:
    code = currency.code
    return (
        f"{amount} ({format_major(amount, currency)} {code.upper()}) in the smallest unit of {code}"
    )


def format_major(amount: int, currency: Currency) -> str:
    """Minor units as a plain major-unit string: 100000 THB -> '1000.00'."""
    if currency.exponent == 0:
        return str(amount)
    scaled = Decimal(amount).scaleb(-currency.exponent)
    return f"{scaled:.{currency.exponent}f}"


# A major-unit amount as people type it: ASCII digits (Decimal() would also read "１０" and
# "1_000"), one optional point, an optional short exponent. The length and exponent bounds keep
# every number small enough that no arithmetic below can overflow or round.
_MAJOR = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
MAX_MAJOR_LENGTH = 64
MAX_MAJOR = 10**15
# Room for every digit MAX_MAJOR_LENGTH allows: scaling never rounds; any other trouble traps.
_EXACT = Context(
    prec=MAX_MAJOR_LENGTH + 8,
    traps=[InvalidOperation, DivisionByZero, Overflow, Underflow, Inexact],
)


def major_to_minor(value: str, currency: Currency, *, exact: bool = True) -> Decimal:
    """A major-unit decimal string ('1000', '10.5') in minor units. ValueError if it is not a
    number, or (when `exact`) if it has more decimals than the currency; never another error."""
    if len(value) > MAX_MAJOR_LENGTH or not _MAJOR.fullmatch(value):
        raise ValueError(value)
    try:
        with localcontext(_EXACT):
            number = Decimal(value)
            if abs(number) > MAX_MAJOR:
                raise ValueError(value)
            minor = number.scaleb(currency.exponent)
            if exact and minor != minor.to_integral_value():
                raise ValueError(value)
    except DecimalException as exc:
        raise ValueError(value) from exc
    return minor


# Babel has no CLDR narrow symbols; where English shows a bare code, use the symbol people know.
NARROW_SYMBOLS = {"thb": "฿", "myr": "RM", "idr": "Rp"}


# Babel formats a price in ~40 µs, a tenth of a payment page's time; pages show the same few
# amounts over and over.
@functools.lru_cache(maxsize=4096)
def format_money(amount: int, currency_code: str, locale: str) -> str:
    """Minor units as the locale writes money: 100000 THB -> '฿1,000.00', 5000 JPY -> '¥5,000'."""
    currency = parse_currency(currency_code)
    code = currency.code.upper()
    text = format_currency(Decimal(amount).scaleb(-currency.exponent), code, locale=locale)
    narrow = NARROW_SYMBOLS.get(currency.code)
    if narrow and get_currency_symbol(code, locale=locale) == code:
        text = text.replace(code, narrow)
    return text
