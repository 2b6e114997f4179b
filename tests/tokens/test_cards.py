"""Unit tests of paylinks.tokens.cards (reliability notes §4: T4.2 Luhn, T4.3 expiry).

Luhn is checked against an independent formulation of the algorithm; expiry against frozen
instants (check_expiry takes `now`, so no clock needs patching).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from paylinks.errors import InvalidCard
from paylinks.processors.sandbox import TEST_CARDS
from paylinks.tokens.cards import (
    brand_of,
    check_expiry,
    check_number,
    check_security_code,
    digits_of,
    fingerprint,
    luhn_valid,
)

SECRET = b"unit-test fingerprint key"
EARLIEST = timezone(timedelta(hours=14))  # the first place where a month ends
LATEST = timezone(timedelta(hours=-12))  # the last place where a month ends
BRANDS = {"American Express", "Diners Club", "JCB", "UnionPay", "Discover", "MasterCard", "Visa"}


# -- an independent Luhn --------------------------------------------------------------------------


def luhn_sum(digits: str) -> int:
    """ISO/IEC 7812-1 Annex B: from the right, odd positions as they are, even ones doubled with
    their digits added (written differently from the code under test on purpose)."""
    undoubled = sum(int(d) for d in digits[::-1][0::2])
    doubled = sum(sum(divmod(2 * int(d), 10)) for d in digits[::-1][1::2])
    return undoubled + doubled


def with_check_digit(body: str) -> str:
    (check,) = [d for d in "0123456789" if luhn_sum(body + d) % 10 == 0]
    return body + check


def luhn_numbers(
    min_size: int = 12, max_size: int = 19, prefix: str = ""
) -> st.SearchStrategy[str]:
    return (
        st.integers(min_size, max_size)
        .flatmap(
            lambda n: st.text(
                "0123456789", min_size=n - 1 - len(prefix), max_size=n - 1 - len(prefix)
            )
        )
        .map(lambda body: with_check_digit(prefix + body))
    )


def digit_runs(message: str) -> list[str]:
    return re.findall(r"\d{3,}", message)


# -- T4.2: Luhn -----------------------------------------------------------------------------------


@given(luhn_numbers(1, 30))
def test_generated_luhn_valid_numbers_are_accepted(number: str) -> None:
    assert luhn_valid(number)


@given(st.text("0123456789", min_size=1, max_size=30))
def test_luhn_agrees_with_the_independent_formulation(digits: str) -> None:
    assert luhn_valid(digits) == (luhn_sum(digits) % 10 == 0)


@given(luhn_numbers(2, 19))
def test_every_single_digit_mutation_is_rejected(number: str) -> None:
    for position, original in enumerate(number):
        for digit in "0123456789":
            if digit != original:
                mutated = number[:position] + digit + number[position + 1 :]
                assert not luhn_valid(mutated), (number, mutated)


@given(luhn_numbers(2, 19))
@example("4242424242424242")
@example("4111111111190016")  # has a "90"
@example("3530111333300000")
def test_adjacent_transpositions_are_rejected_except_09_and_90(number: str) -> None:
    for i in range(len(number) - 1):
        a, b = number[i], number[i + 1]
        if a == b:
            continue
        swapped = number[:i] + b + a + number[i + 2 :]
        # Luhn's one blind spot: 0 and 9 weigh the same doubled or not (0+18 -> 9, 9+0 -> 9).
        assert luhn_valid(swapped) == ({a, b} == {"0", "9"}), (number, swapped)


def test_the_09_blind_spot_is_real() -> None:
    number = with_check_digit("4000000000000" + "09")  # "...09" then the check digit
    swapped = number.replace("09", "90", 1)
    assert number != swapped and luhn_valid(number) and luhn_valid(swapped)


@given(st.one_of(luhn_numbers(2, 11, prefix="4"), luhn_numbers(20, 40, prefix="4")))
def test_lengths_outside_12_to_19_are_rejected(number: str) -> None:
    with pytest.raises(InvalidCard) as caught:
        check_number(number, secret=SECRET)
    assert caught.value.message == "card number must have between 12 and 19 digits"


@given(luhn_numbers(12, 19))
def test_lengths_12_to_19_pass_the_length_check(number: str) -> None:
    try:
        check_number(number, secret=SECRET)
    except InvalidCard as error:  # only the brand may refuse a Luhn-valid number of this length
        assert "brand" in error.message


@given(luhn_numbers(12, 19))
def test_an_invalid_check_digit_is_rejected(number: str) -> None:
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    with pytest.raises(InvalidCard) as caught:
        check_number(wrong, secret=SECRET)
    assert "Luhn" in caught.value.message


@given(
    st.sampled_from(sorted(TEST_CARDS)),
    st.lists(st.tuples(st.integers(0, 19), st.sampled_from([" ", "-", "  ", " - "])), max_size=6),
)
def test_spaces_and_dashes_are_stripped(number: str, inserts: list[tuple[int, str]]) -> None:
    written = number
    for position, separator in inserts:
        at = min(position, len(written))
        written = written[:at] + separator + written[at:]
    assert digits_of(written) == number
    assert check_number(written, secret=SECRET) == check_number(number, secret=SECRET)


@given(
    st.sampled_from(sorted(TEST_CARDS)),
    st.integers(0, 19),
    st.characters(exclude_characters=" -0123456789"),
)
@example("4242424242424242", 4, "\t")
@example("4242424242424242", 4, ".")
@example("4242424242424242", 4, "\N{EN DASH}")
@example("4242424242424242", 4, "\N{NO-BREAK SPACE}")
@example("4242424242424242", 4, "\N{ARABIC-INDIC DIGIT FOUR}")
@example("4242424242424242", 4, "\N{FULLWIDTH DIGIT FOUR}")
@example("4242424242424242", 4, "\N{SUPERSCRIPT TWO}")
def test_only_spaces_and_dashes_are_stripped(number: str, position: int, other: str) -> None:
    at = min(position, len(number))
    written = number[:at] + other + number[at:]
    with pytest.raises(InvalidCard) as caught:
        check_number(written, secret=SECRET)
    assert caught.value.message == "card number must contain only digits"


# -- brands ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        # Omise's test cards, one or more per brand
        ("4242424242424242", "Visa"),
        ("4111111111111111", "Visa"),
        ("5555555555554444", "MasterCard"),
        ("5454545454545454", "MasterCard"),
        ("3530111333300000", "JCB"),
        ("3566111111111113", "JCB"),
        ("378282246310005", "American Express"),
        ("36021042000004", "Diners Club"),
        ("6447032400000000001", "Discover"),
        ("6250947000000006", "UnionPay"),
        # other networks' published test numbers: the other ranges and lengths
        ("4222222222222", "Visa"),  # 13 digits
        ("2223003122003222", "MasterCard"),  # 2-series
        ("5105105105105100", "MasterCard"),
        ("3566002020360505", "JCB"),
        ("371449635398431", "American Express"),
        ("3056930009020004", "Diners Club"),
        ("38520000023237", "Diners Club"),
        ("6011111111111117", "Discover"),
        ("6200000000000005", "UnionPay"),
    ],
)
def test_brand_of_every_brands_test_card(number: str, brand: str) -> None:
    digits, facts = check_number(number, secret=SECRET)
    assert digits == number and brand_of(number) == brand and facts.brand == brand
    assert (facts.first_digits, facts.last_digits) == (number[:6], number[-4:])


def test_every_processor_test_card_is_a_valid_card_of_a_known_brand() -> None:
    expected = {"4": "Visa", "5": "MasterCard", "35": "JCB", "37": "American Express"}
    expected |= {"36": "Diners Club", "644": "Discover", "62": "UnionPay"}
    for number in TEST_CARDS:
        _, facts = check_number(number, secret=SECRET)
        (prefix,) = [p for p in expected if number.startswith(p)]
        assert facts.brand == expected[prefix], number
    assert {check_number(n, secret=SECRET)[1].brand for n in TEST_CARDS} == BRANDS


@pytest.mark.parametrize(
    ("prefix", "length", "brand"),
    [
        ("2221", 16, "MasterCard"),
        ("2720", 16, "MasterCard"),
        ("2220", 16, None),
        ("2721", 16, None),
        ("51", 16, "MasterCard"),
        ("55", 16, "MasterCard"),
        ("50", 16, None),
        ("56", 16, None),
        ("55", 15, None),  # MasterCard numbers have 16 digits
        ("3528", 16, "JCB"),
        ("3589", 19, "JCB"),
        ("3527", 16, None),
        ("3590", 16, None),
        ("34", 15, "American Express"),
        ("37", 15, "American Express"),
        ("34", 16, None),  # American Express numbers have 15 digits
        ("300", 14, "Diners Club"),
        ("305", 16, "Diners Club"),
        ("306", 14, None),
        ("38", 14, "Diners Club"),
        ("39", 16, "Diners Club"),
        ("6011", 16, "Discover"),
        ("644", 16, "Discover"),
        ("649", 19, "Discover"),
        ("65", 16, "Discover"),
        ("6012", 16, None),
        ("643", 16, None),
        ("62", 16, "UnionPay"),
        ("81", 19, "UnionPay"),
        ("62", 15, None),
        ("4", 13, "Visa"),
        ("4", 16, "Visa"),
        ("4", 19, "Visa"),
        ("4", 14, None),
        ("4", 18, None),
        ("1", 16, None),
        ("9", 16, None),
    ],
)
def test_brand_ranges_and_lengths(prefix: str, length: int, brand: str | None) -> None:
    body = prefix + "0" * (length - 1 - len(prefix))
    number = with_check_digit(body)
    if brand is None:
        with pytest.raises(InvalidCard) as caught:
            check_number(number, secret=SECRET)
        assert "brand is not supported" in caught.value.message
        assert number not in caught.value.message
    else:
        assert check_number(number, secret=SECRET)[1].brand == brand


# -- T4.3: expiry with frozen instants ------------------------------------------------------------


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2190, 12, 31), timezones=st.just(UTC)
)


@given(instants, st.integers(1, 12), st.integers(2000, 2200))
def test_expiry_never_refuses_a_card_whose_month_has_not_ended_anywhere(
    now: datetime, month: int, year: int
) -> None:
    """Behaviour both readings of the policy share: a card is good while its month has not
    begun to end anywhere (UTC+14), and expired once it has ended everywhere (UTC-12)."""
    first_to_end, last_to_end = now.astimezone(EARLIEST), now.astimezone(LATEST)
    if (year, month) >= (first_to_end.year, first_to_end.month):
        assert check_expiry(month, year, now=now) == (month, year)
    elif (year, month) < (last_to_end.year, last_to_end.month):
        with pytest.raises(InvalidCard) as caught:
            check_expiry(month, year, now=now)
        assert caught.value.message == "card has expired"


@pytest.mark.parametrize(
    ("now", "valid"),
    [
        ("2026-11-01T00:00:00Z", True),
        ("2026-11-15T12:00:00Z", True),
        ("2026-11-30T09:59:59Z", True),  # 23:59:59 on the 30th in UTC+14
        ("2026-12-01T12:00:00Z", False),  # December everywhere, even in UTC-12
        ("2026-12-02T00:00:00Z", False),
        ("2027-11-30T00:00:00Z", False),
        ("2025-12-31T23:59:59Z", True),
    ],
)
def test_expiry_boundaries_for_a_november_2026_card(now: str, valid: bool) -> None:
    if valid:
        assert check_expiry(11, 2026, now=at(now)) == (11, 2026)
    else:
        with pytest.raises(InvalidCard, match="card has expired"):
            check_expiry(11, 2026, now=at(now))


def test_expiry_across_the_year_end() -> None:
    assert check_expiry(12, 2026, now=at("2026-12-31T09:59:59Z")) == (12, 2026)
    with pytest.raises(InvalidCard):
        check_expiry(12, 2026, now=at("2027-01-01T12:00:00Z"))
    assert check_expiry(1, 2027, now=at("2027-01-01T12:00:00Z")) == (1, 2027)


# The written policy: "valid through the last day of its expiry month", judged "where the month
# ends last" (cards.py) / "in the most lenient timezone" (reliability notes §4), "so that no one's
# card expires early". The code uses UTC+14, the zone where a month ends FIRST: a November card
# is refused from 2026-11-30T10:00Z, while it is still 30 November in UTC, in Bangkok and in
# every zone west of UTC+14. The most lenient zone is UTC-12.
@pytest.mark.parametrize(
    "now",
    [
        "2026-11-30T10:00:00Z",  # 30 November in UTC (and 17:00 in Bangkok)
        "2026-11-30T23:59:59Z",  # the notes' own T4.3 instant: the last second of November UTC
        "2026-12-01T11:59:59Z",  # still 30 November in UTC-12
    ],
)
def test_a_card_is_valid_through_the_last_day_of_its_month_everywhere(now: str) -> None:
    assert check_expiry(11, 2026, now=at(now)) == (11, 2026)


@pytest.mark.parametrize("month", [0, 13, 14, 99, -1])
def test_months_outside_1_to_12_are_rejected(month: int) -> None:
    with pytest.raises(InvalidCard) as caught:
        check_expiry(month, 2035, now=at("2026-01-01T00:00:00Z"))
    assert caught.value.message == "expiration month must be between 1 and 12"


@given(st.integers(1, 12), st.integers(0, 99))
def test_two_digit_years_are_this_century(month: int, year: int) -> None:
    assert check_expiry(month, year, now=at("1999-06-01T00:00:00Z")) == (month, 2000 + year)


def test_two_digit_years_expire_like_four_digit_ones() -> None:
    now = at("2026-06-15T00:00:00Z")
    assert check_expiry(6, 26, now=now) == (6, 2026)
    with pytest.raises(InvalidCard, match="expired"):
        check_expiry(5, 26, now=now)
    with pytest.raises(InvalidCard, match="expired"):
        check_expiry(12, 25, now=now)


@pytest.mark.parametrize("year", [100, 999, 1999, 2201, 9999])
def test_years_outside_the_range_are_invalid(year: int) -> None:
    with pytest.raises(InvalidCard, match="expiration year is invalid"):
        check_expiry(1, year, now=at("1990-01-01T00:00:00Z"))


def test_year_bounds() -> None:
    assert check_expiry(12, 2200, now=at("2026-01-01T00:00:00Z")) == (12, 2200)
    assert check_expiry(1, 2000, now=at("1999-01-01T00:00:00Z")) == (1, 2000)


# -- security codes -------------------------------------------------------------------------------


@given(st.sampled_from(sorted(BRANDS)), st.text(max_size=6))
@example("Visa", "123")
@example("Visa", "1234")
@example("American Express", "1234")
@example("American Express", "123")
@example("Visa", "")
@example("Visa", "12a")
@example("Visa", "\N{ARABIC-INDIC DIGIT ONE}23")
@example("Visa", " 123")
def test_security_code_shapes(brand: str, code: str) -> None:
    length = 4 if brand == "American Express" else 3
    well_formed = bool(re.fullmatch(rf"[0-9]{{{length}}}", code))
    if well_formed:
        assert check_security_code(code, brand=brand) is True
    else:
        with pytest.raises(InvalidCard) as caught:
            check_security_code(code, brand=brand)
        assert caught.value.message == f"security code must be {length} digits"


@pytest.mark.parametrize("brand", sorted(BRANDS))
def test_no_security_code_is_allowed_but_recorded_as_absent(brand: str) -> None:
    assert check_security_code(None, brand=brand) is False


# -- errors never carry the number ----------------------------------------------------------------


card_like_text = st.one_of(
    luhn_numbers(1, 40),
    luhn_numbers(12, 19).map(lambda n: n[:-1] + str((int(n[-1]) + 3) % 10)),
    st.text("0123456789 -", min_size=1, max_size=30),
    st.text("0123456789 -x.", min_size=1, max_size=30),
    st.text(max_size=30),
)


@given(card_like_text)
@example("4242424242424241")
@example("4242-4242 4242 4241")
@example("42424242424242424242")
@example("9999999999999995")
def test_error_messages_never_contain_the_number(number: str) -> None:
    try:
        check_number(number, secret=SECRET)
    except InvalidCard as error:
        message = str(error)
        assert message == error.message
        assert not digit_runs(message), message
        digits = re.sub(r"[^0-9]", "", number)
        if len(digits) >= 3:
            assert digits not in message and number not in message


# -- the fingerprint is a keyed hash --------------------------------------------------------------


@given(luhn_numbers(12, 19), st.binary(min_size=16, max_size=64))
def test_fingerprint_is_hmac_sha256_of_the_digits(number: str, secret: bytes) -> None:
    expected = base64.b64encode(hmac.new(secret, number.encode(), hashlib.sha256).digest())
    assert fingerprint(number, secret=secret) == expected.decode()
    assert fingerprint(number, secret=secret) != fingerprint(number, secret=secret + b"x")
    assert fingerprint(number, secret=secret) != (
        base64.b64encode(hashlib.sha256(number.encode()).digest()).decode()
    )


@given(luhn_numbers(12, 19), luhn_numbers(12, 19))
def test_same_digits_same_fingerprint_different_digits_differ(a: str, b: str) -> None:
    assert (fingerprint(a, secret=SECRET) == fingerprint(b, secret=SECRET)) == (a == b)


def test_check_number_fingerprints_the_digits_not_the_writing() -> None:
    plain = check_number("4242424242424242", secret=SECRET)[1]
    written = check_number("4242-4242 4242 4242", secret=SECRET)[1]
    assert plain == written and plain.fingerprint == fingerprint("4242424242424242", secret=SECRET)
    assert "4242424242424242" not in repr(plain)
