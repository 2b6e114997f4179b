"""Contract scenarios of search (`GET /search?scope=link`, `charge`, `refund`)."""

from __future__ import annotations

from typing import Any

from checker import (
    Ctx,
    error_code,
    scenario,
)

# --- search


def _search_seed(ctx: Ctx) -> dict[str, str]:
    return {
        "tee": ctx.new_link(title="T-Shirt Red", amount=45000, multiple=True)["id"],
        "invoice": ctx.new_link(title="Invoice #INV-001", description="consulting")["id"],
        "yen": ctx.new_link(title="Sticker pack", amount=1500, currency="jpy")["id"],
    }


@scenario("search", 200)
def search_as_the_python_sdk_does(ctx: Ctx) -> None:
    ids = _search_seed(ctx)
    query = {
        "scope": "link",
        "query": "shirt red",
        "filters": {"amount": "400..500", "currency": "THB", "multiple": "true"},
    }
    result = ctx.call("search", status=200, query=query, json={}, slash=True).json()
    assert [link["id"] for link in result["data"]] == [ids["tee"]]
    assert result["filters"] == {"amount": "400..500", "currency": "THB", "multiple": "true"}


@scenario("search", 200)
def search_pages_order_and_created(ctx: Ctx) -> None:
    ids = _search_seed(ctx)
    query = {
        "scope": "link",
        "order": "reverse_chronological",
        "page": 2,
        "per_page": 2,
        "filters": {"created": "2020-01-01..2100-01-01", "deleted": "no", "active": "yes"},
    }
    result = ctx.call("search", status=200, query=query).json()
    assert result["total"] == 3 and result["total_pages"] == 2
    assert [link["id"] for link in result["data"]] == [ids["tee"]]
    clamped = ctx.call("search", status=200, query={"scope": "link", "per_page": 500}).json()
    assert clamped["per_page"] == 100 and clamped["page"] == 1


@scenario("search", 200)
def search_with_a_json_body(ctx: Ctx) -> None:
    ids = _search_seed(ctx)
    body = {"scope": "link", "filters": {"amount": "1000", "used": ""}, "page": None}
    result = ctx.call("search", status=200, json=body).json()
    assert [link["id"] for link in result["data"]] == [ids["invoice"]]  # ฿1,000.00, not ¥1,000
    assert result["filters"] == {"amount": "1000"}


@scenario("search", 200)
def search_charges_with_their_refunds(ctx: Ctx) -> None:
    paid = ctx.new_charge(amount=5000, currency="thb", description="Espresso", metadata={"a": 1})
    ctx.call("createRefund", status=200, charge_id=paid["id"], json={"amount": 1000})
    held = ctx.authorization(description="Espresso deposit")
    query = {
        "scope": "charge",
        "query": "espresso",
        "filters": {"amount": "50", "refunded": "true", "card_last_digits": "4242"},
    }
    result = ctx.call("search", status=200, query=query, json={}, slash=True).json()
    assert [charge["id"] for charge in result["data"]] == [paid["id"]]
    assert result["data"][0]["refunds"]["total"] == 1
    body = {"scope": "charge", "filters": {"status": "pending", "captured": False}}
    result = ctx.call("search", status=200, json=body).json()
    assert [charge["id"] for charge in result["data"]] == [held["id"]]


@scenario("search", 200)
def search_refunds_of_a_charge(ctx: Ctx) -> None:
    refund = ctx.new_refund(amount=300)
    ctx.new_refund(amount=300)
    query = {
        "scope": "refund",
        "filters": {"charge": refund["charge"], "amount": "3", "currency": "thb"},
    }
    result = ctx.call("search", status=200, query=query).json()
    assert result["data"] == [refund] and result["scope"] == "refund"


@scenario("search", 400)
def search_with_bad_parameters(ctx: Ctx) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "invalid_scope"),
        ({"scope": "customer"}, "invalid_scope"),
        ({"scope": "link", "filters": {"colour": "red"}}, "invalid_filter"),
        ({"scope": "charge", "filters": {"multiple": "true"}}, "invalid_filter"),
        ({"scope": "charge", "filters": {"status": "paid"}}, "invalid_filter"),
        ({"scope": "refund", "filters": {"status": "closed"}}, "invalid_filter"),
        ({"scope": "link", "filters": {"amount": "lots"}}, "invalid_filter"),
        ({"scope": "link", "filters": {"multiple": "maybe"}}, "invalid_filter"),
        ({"scope": "link", "filters": {"currency": "xyz"}}, "invalid_filter"),
        ({"scope": "link", "filters": {"created": "last week"}}, "invalid_filter"),
        ({"scope": "link", "page": 0}, "invalid_page"),
        ({"scope": "link", "per_page": 0}, "invalid_page"),
        ({"scope": "link", "page": "two"}, "invalid_page"),
        ({"scope": "link", "order": "random"}, "bad_request"),
        ({"scope": "link", "query": " ".join("abcdefghijk")}, "bad_request"),
        ({"scope": "link", "query": "x" * 201}, "bad_request"),
    ]
    for query, code in cases:
        assert error_code(ctx.call("search", status=400, query=query)) == code, query


# Edge cases an earlier audit found answered wrongly (all fixed; kept as regressions).


def test_search_created_filter_out_of_range_is_invalid_filter(ctx: Ctx) -> None:
    query = {"scope": "link", "filters": {"created": "0001-01-01T00:00:00+01:00"}}
    ctx.call("search", status=400, query=query)
