"""Amounts typed in major units: what `major_to_minor` reads, and that whatever it is given it
answers a number or `ValueError` (the forms and the search filter turn that into a 4xx)."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paylinks.money import CURRENCIES, major_to_minor

THB, JPY = CURRENCIES["thb"], CURRENCIES["jpy"]
REFUSED = [
    "1e99999999999",  # abs() of it overflowed the default context: decimal.Overflow
    "-1e99999999999",
    "1e-99999999999",
    "9" * 5000,
    "１０００",  # full-width digits: Decimal() reads them, Omise does not
    "٥٠٠",
    "1_000",
    " 1000",
    "NaN",
    "-Infinity",
]


def test_amounts_are_read_exactly() -> None:
    assert [int(major_to_minor(t, THB)) for t in ("1000", "1250.50", ".5", "1e3")] == [
        100000, 125050, 50, 100000,
    ]  # fmt: skip
    # More digits than the default 28-digit context keeps: not rounded to a whole amount.
    with pytest.raises(ValueError):  # the only error the callers catch
        major_to_minor("1000.0000000000000000000000000001", THB)
    tiny = major_to_minor("0.0000000000000000000000000000001", JPY, exact=False)
    assert tiny == Decimal("1E-31")


def test_anything_but_an_ascii_decimal_is_a_value_error() -> None:
    for text in REFUSED:
        with pytest.raises(ValueError):
            major_to_minor(text, THB, exact=False)


NUMBERISH = st.from_regex(r"[+-]?[0-9]{0,4}(\.[0-9]{0,4})?([eE][+-]?[0-9]{1,12})?", fullmatch=True)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=NUMBERISH | st.text(max_size=30))
def test_only_value_errors_escape(text: str) -> None:
    for exact in (True, False):
        with contextlib.suppress(ValueError):
            major_to_minor(text, THB, exact=exact)
