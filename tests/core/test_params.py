"""Parameter parsing: query + body merged, form bracket nesting, coercion rules."""

from __future__ import annotations

from typing import Any

import pytest

from paylinks.errors import BadRequest, InvalidAmount
from paylinks.params import Params, clamped_integer, merge, parse_form

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def test_form_brackets_nest_objects_and_lists() -> None:
    parsed = parse_form("a=1&m[k]=v&m[n][deep]=x&tags[]=a&tags[]=b&items[0]=p&items[1]=q")
    assert parsed == {
        "a": "1",
        "m": {"k": "v", "n": {"deep": "x"}},
        "tags": ["a", "b"],
        "items": ["p", "q"],
    }


def test_form_percent_decoding_and_thai_text() -> None:
    assert parse_form("title=%E0%B8%AA%E0%B8%B4%E0%B8%99%E0%B8%84%E0%B9%89%E0%B8%B2+1") == {
        "title": "สินค้า 1"
    }


@pytest.mark.parametrize("text", ["m[k]=1&m=2", "m=2&m[k]=1", "a[=1", "[x]=1", "l[]=1&l[a]=2"])
def test_conflicting_or_malformed_form_keys_are_bad_requests(text: str) -> None:
    with pytest.raises(BadRequest):
        parse_form(text)


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(BadRequest, match="nested too deeply"):
        parse_form("a" + "[x]" * 20 + "=1")


def test_query_and_body_join_and_blank_values_are_absent() -> None:
    merged = merge("limit=5&order=&to=&from=2026-01-01", b'{"offset": 7, "from": null}', JSON)
    assert merged == {"limit": "5", "offset": 7, "from": "2026-01-01"}


@pytest.mark.parametrize(
    ("query", "body"),
    [("limit=7", b'{"limit": 7}'), ("multiple=true", b'{"multiple": true}'), ("a=b", b"a=b")],
)
def test_a_parameter_in_both_places_saying_the_same_is_fine(query: str, body: bytes) -> None:
    kind = JSON if body.startswith(b"{") else "application/x-www-form-urlencoded"
    assert len(merge(query, body, kind)) == 1


@pytest.mark.parametrize(
    ("query", "body"), [("limit=5", b'{"limit": 7}'), ("limit=%E1%9A%9B", b'{"limit": "01"}')]
)
def test_a_parameter_in_both_places_saying_different_things_is_refused(
    query: str, body: bytes
) -> None:
    with pytest.raises(BadRequest, match="limit is given in the query string and in the body"):
        merge(query, body, JSON)


@pytest.mark.parametrize("body", [b"", b"null", b"{}", b"  "])
def test_empty_and_null_json_bodies_are_no_parameters(body: bytes) -> None:
    assert merge("", body, JSON) == {}


@pytest.mark.parametrize("body", [b"[1,2]", b'"text"', b"{broken", b"1e999999"])
def test_json_that_is_not_an_object_is_a_bad_request(body: bytes) -> None:
    with pytest.raises(BadRequest):
        merge("", body, JSON)


def test_form_body_without_content_type_is_read_as_form() -> None:
    assert merge("", b"amount=100", "") == {"amount": "100"}


def test_unknown_content_type_is_refused() -> None:
    with pytest.raises(BadRequest, match="content type"):
        merge("", b"<xml/>", "application/xml")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(100, 100), ("100", 100), (" 42 ", 42), ("00100", 100), ("-0", 0), (1e3, 1000), (-7, -7)],
)
def test_integers_accept_numbers_and_numeric_strings(value: Any, expected: int) -> None:
    assert Params({"n": value}).integer("n") == expected


@pytest.mark.parametrize(
    "value", ["1e3", "12.5", 12.5, True, "ten", [], {}, float("nan"), "1" * 40]
)
def test_non_integers_are_rejected_with_the_given_error(value: Any) -> None:
    with pytest.raises(InvalidAmount, match="amount"):
        Params({"amount": value}).integer("amount", error=InvalidAmount)


@pytest.mark.parametrize("value", ["１０００００", "١٠٠", "१००", "+１"])
def test_integers_take_ascii_digits_only(value: str) -> None:
    """Omise reads only 0-9; Python's `int()` would read full-width or Arabic-Indic digits."""
    with pytest.raises(InvalidAmount, match="amount must be an integer"):
        Params({"amount": value}).integer("amount", error=InvalidAmount)


@pytest.mark.parametrize(
    "value", ["9223372036854775808", "-9223372036854775809", "9" * 30, 2**64 - 1, -(2**63) - 1]
)
def test_integers_beyond_64_bits_are_refused_with_the_given_error(value: Any) -> None:
    with pytest.raises(InvalidAmount, match="out of range"):
        Params({"amount": value}).integer("amount", error=InvalidAmount)
    assert Params({"n": "9223372036854775807"}).integer("n") == 2**63 - 1


@pytest.mark.parametrize("key", ["²", "٠", "9" * 5000])
def test_odd_digit_keys_are_object_keys_not_list_indexes(key: str) -> None:
    assert parse_form(f"m[{key}]=a") == {"m": {key: "a"}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7", 7), ("0", 1), ("", 5), ("x", 5), ("²", 5), ("１", 5), ("9" * 5000, 100), ("007", 7)],
)
def test_clamped_integers_read_ascii_digits_within_bounds(text: str, expected: int) -> None:
    assert clamped_integer(text, low=1, high=100, default=5) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        ("true", True),
        ("1", True),
        (1, True),
        ("false", False),
        ("0", False),
        (0, False),
    ],
)
def test_booleans(value: Any, expected: bool) -> None:
    assert Params({"b": value}).boolean("b") is expected


def test_required_string_names_the_field() -> None:
    with pytest.raises(BadRequest, match="title is required"):
        Params({}).string("title", required=True)
