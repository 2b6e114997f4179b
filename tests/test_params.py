"""Parameter parsing: query + body merged, form bracket nesting, coercion rules."""

from __future__ import annotations

from typing import Any

import pytest

from paylinks.errors import BadRequest, InvalidAmount
from paylinks.params import Params, merge, parse_form

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


def test_body_overrides_query_and_blank_values_are_absent() -> None:
    merged = merge("limit=5&order=&to=", b'{"limit": 7, "from": null}', JSON)
    assert merged == {"limit": 7}


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
