"""Contract scenarios of links: create, list, get, update, delete, a link's charges and its
stats."""

from __future__ import annotations

from checker import (
    FORM,
    Ctx,
    error_code,
    same_link,
    scenario,
    soon,
)
from factories import VISA_NO_FUNDS

# --- createLink


@scenario("createLink", 200)
def create_json_with_every_field(ctx: Ctx) -> None:
    metadata = {"invoice_id": "INV-001", "nested": {"a": 1}, "items": [1, 2], "flag": True}
    body = {
        "amount": 250000,
        "currency": "thb",
        "title": "Invoice #INV-001",
        "description": "Payment for consulting services",
        "multiple": True,
        "metadata": metadata,
        "expires_at": soon(),
        "usage_limit": 10,
    }
    link = ctx.call("createLink", status=200, json=body).json()
    assert link["metadata"] == metadata and link["usage_limit"] == 10 and link["active"] is True
    assert "amount_type" not in link  # only customer-decided links carry it
    custom = {
        "amount": 50000,
        "currency": "thb",
        "title": "Tip jar",
        "multiple": True,
        "amount_type": "customer",
        "amount_min": 2000,
        "amount_max": 500000,
    }
    tip = ctx.call("createLink", status=200, json=custom).json()
    assert (tip["amount_type"], tip["amount_min"], tip["amount_max"]) == ("customer", 2000, 500000)


@scenario("createLink", 200)
def create_form_with_bracket_metadata(ctx: Ctx) -> None:
    form = {
        "amount": "150000",
        "currency": "THB",
        "title": "Consultation Booking",
        "multiple": "1",
        "metadata": {"service_type": "consultation", "duration": "60_minutes"},
    }
    link = ctx.call("createLink", status=200, form=form).json()
    assert link["amount"] == 150000 and link["currency"] == "thb" and link["multiple"] is True
    assert link["metadata"] == {"service_type": "consultation", "duration": "60_minutes"}


@scenario("createLink", 200)
def create_with_nulls_and_sdk_number_forms(ctx: Ctx) -> None:
    body = {
        "amount": 100000.0,
        "currency": "usd",
        "title": "International Product",
        "description": None,
        "metadata": None,
        "multiple": None,
        "expires_at": "",
    }
    link = ctx.call("createLink", status=200, json=body).json()
    assert link["description"] is None and link["metadata"] == {} and link["expires_at"] is None


@scenario("createLink", 200)
def create_in_live_mode_and_in_yen(ctx: Ctx) -> None:
    body = {"amount": 1500, "currency": "jpy", "title": "Sticker pack"}
    link = ctx.call("createLink", status=200, key=ctx.account.live.secret_key, json=body).json()
    assert link["livemode"] is True and not link["id"].startswith("payl_test_")


@scenario("createLink", 400)
def create_with_bad_amounts(ctx: Ctx) -> None:
    base = {"currency": "thb", "title": "Bad amount"}
    for amount in (0, -5, "abc", 1.5, 100, 10**12, None):
        response = ctx.call("createLink", status=400, json={**base, "amount": amount})
        assert error_code(response) == "invalid_amount", amount


@scenario("createLink", 400)
def create_with_unknown_currency(ctx: Ctx) -> None:
    body = {"amount": 100000, "currency": "xyz", "title": "Bad currency"}
    assert error_code(ctx.call("createLink", status=400, json=body)) == "invalid_currency"


@scenario("createLink", 400)
def create_with_bad_other_parameters(ctx: Ctx) -> None:
    base = {"amount": 100000, "currency": "thb", "title": "Bad"}
    for body in (
        {"amount": 100000, "currency": "thb"},
        {**base, "title": "   "},
        {**base, "title": "x" * 201},
        {**base, "description": "x" * 1001},
        {**base, "multiple": "maybe"},
        {**base, "usage_limit": 5},
        {**base, "metadata": {f"k{i}": i for i in range(51)}},
        {**base, "metadata": "not an object"},
        {**base, "expires_at": "2001-01-01T00:00:00Z"},
    ):
        assert error_code(ctx.call("createLink", status=400, json=body)) == "bad_request", body
    malformed = ctx.call(
        "createLink",
        status=400,
        content=b'{"amount": 100000',
        headers={"content-type": "application/json"},
    )
    assert error_code(malformed) == "bad_request"
    plain = ctx.call(
        "createLink", status=400, content=b"amount=1", headers={"content-type": "text/plain"}
    )
    assert error_code(plain) == "bad_request"


@scenario("createLink", 422)
def create_over_the_active_link_cap(ctx: Ctx) -> None:
    capped = ctx.make_client(max_active_links=1)
    ctx.new_link(client=capped)
    body = {"amount": 100000, "currency": "thb", "title": "One too many"}
    refused = ctx.call("createLink", status=422, client=capped, json=body)
    assert error_code(refused) == "limit_exceeded"


# --- listLinks


@scenario("listLinks", 200)
def list_with_query_parameters(ctx: Ctx) -> None:
    ids = [ctx.new_link(title=f"Link {i}")["id"] for i in range(3)]
    query = {
        "limit": 2,
        "offset": 1,
        "order": "reverse_chronological",
        "from": "2020-01-01",
        "to": "2100-12-31T23:59:59Z",
    }
    listing = ctx.call("listLinks", status=200, query=query).json()
    assert [link["id"] for link in listing["data"]] == ids[::-1][1:3]
    assert listing["total"] == 3 and listing["from"] == "2020-01-01T00:00:00Z"


@scenario("listLinks", 200)
def list_with_a_json_body_on_get_as_the_python_sdk_sends(ctx: Ctx) -> None:
    ctx.new_link()
    body = {"from": None, "limit": 100, "offset": 0, "order": None, "to": None}
    listing = ctx.call("listLinks", status=200, json=body).json()
    assert listing["limit"] == 100 and listing["total"] == 1


@scenario("listLinks", 200)
def list_with_a_form_body_and_node_empty_values(ctx: Ctx) -> None:
    ctx.new_link()
    ctx.new_link()
    assert ctx.call("listLinks", status=200, form={"limit": "1"}).json()["limit"] == 1
    node = {"limit": 20, "offset": 0, "order": "reverse_chronological", "from": "", "to": ""}
    assert ctx.call("listLinks", status=200, query=node).json()["total"] == 2


@scenario("listLinks", 200)
def list_clamps_large_limits_and_allows_zero(ctx: Ctx) -> None:
    ctx.new_link()
    assert ctx.call("listLinks", status=200, query={"limit": 500}).json()["limit"] == 100
    empty = ctx.call("listLinks", status=200, query={"limit": 0}, slash=True).json()
    assert empty["data"] == [] and empty["total"] == 1
    far = ctx.call("listLinks", status=200, query={"offset": 2**53}).json()
    assert far["data"] == [] and far["offset"] == 2**53


@scenario("listLinks", 200)
def list_shows_deleted_links_and_live_mode_separately(ctx: Ctx) -> None:
    link = ctx.new_link()
    ctx.call("deleteLink", status=200, link_id=link["id"])
    listing = ctx.call("listLinks", status=200).json()
    assert listing["data"][0]["deleted"] is True and listing["data"][0]["deleted_at"]
    live = ctx.call("listLinks", status=200, key=ctx.account.live.secret_key).json()
    assert live["total"] == 0


@scenario("listLinks", 400)
def list_with_bad_parameters(ctx: Ctx) -> None:
    for query in (
        {"limit": -1},
        {"limit": "ten"},
        {"offset": -1},
        {"offset": 2**53 + 1},
        {"order": "sideways"},
        {"from": "yesterday"},
        {"from": "2026-02-01", "to": "2026-01-01"},
    ):
        assert error_code(ctx.call("listLinks", status=400, query=query)) == "bad_request", query


# --- getLink


@scenario("getLink", 200)
def get_a_link_in_every_way_clients_ask(ctx: Ctx) -> None:
    link = ctx.new_link(description="Premium widget purchase")
    assert same_link(ctx.call("getLink", status=200, link_id=link["id"]).json(), link)
    assert same_link(ctx.call("getLink", status=200, link_id=link["id"], slash=True).json(), link)
    # The Python SDK sends `{}` on every GET: read and ignored (not a documented body).
    got = ctx.call("getLink", status=200, link_id=link["id"], json={}, check_request=False)
    assert got.json()["id"] == link["id"]


@scenario("getLink", 200)
def get_a_deleted_link(ctx: Ctx) -> None:
    link = ctx.new_link()
    ctx.call("deleteLink", status=200, link_id=link["id"])
    got = ctx.call("getLink", status=200, link_id=link["id"]).json()
    assert got["deleted"] is True and got["active"] is False


@scenario("getLink", 400)
def get_with_a_malformed_body(ctx: Ctx) -> None:
    link = ctx.new_link()
    response = ctx.call(
        "getLink",
        status=400,
        link_id=link["id"],
        content=b"{nope",
        headers={"content-type": "application/json"},
    )
    assert error_code(response) == "bad_request"


@scenario("getLink", 404)
def get_links_that_are_not_the_callers(ctx: Ctx) -> None:
    link = ctx.new_link()
    ctx.call("getLink", status=404, link_id="payl_test_0000000000000000000")
    ctx.call("getLink", status=404, link_id=link["id"], key=ctx.other_account.test.secret_key)
    response = ctx.call("getLink", status=404, link_id=link["id"], key=ctx.account.live.secret_key)
    assert error_code(response) == "not_found"


# --- updateLink


@scenario("updateLink", 200)
def update_with_json_form_and_nothing(ctx: Ctx) -> None:
    link = ctx.new_link(metadata={"old": "value"})
    body = {"description": "Updated description", "metadata": {"reason": "price_change"}}
    updated = ctx.call("updateLink", status=200, link_id=link["id"], json=body).json()
    assert updated["description"] == "Updated description"
    assert updated["metadata"] == {"reason": "price_change"}
    form = {"metadata": {"updated_by": "admin"}}
    updated = ctx.call("updateLink", status=200, link_id=link["id"], form=form).json()
    assert updated["metadata"] == {"updated_by": "admin"}
    unchanged = ctx.call("updateLink", status=200, link_id=link["id"]).json()
    assert same_link(unchanged, updated)
    emptied = ctx.call("updateLink", status=200, link_id=link["id"], json={"metadata": {}})
    assert emptied.json()["metadata"] == {}


@scenario("updateLink", 400)
def update_what_cannot_be_updated(ctx: Ctx) -> None:
    link = ctx.new_link()
    for body in (
        {"amount": 5000},
        {"title": "New title", "description": "ok"},
        {"description": "x" * 1001},
        {"metadata": "not an object"},
    ):
        response = ctx.call("updateLink", status=400, link_id=link["id"], json=body)
        assert error_code(response) == "bad_request", body
    ctx.call("deleteLink", status=200, link_id=link["id"])
    gone = ctx.call("updateLink", status=400, link_id=link["id"], json={"description": "late"})
    assert error_code(gone) == "bad_request"


@scenario("updateLink", 404)
def update_a_missing_link(ctx: Ctx) -> None:
    body = {"description": "nobody"}
    ctx.call("updateLink", status=404, link_id="payl_test_missing", json=body)


# --- deleteLink


@scenario("deleteLink", 200)
def delete_twice(ctx: Ctx) -> None:
    link = ctx.new_link()
    first = ctx.call("deleteLink", status=200, link_id=link["id"]).json()
    assert first["deleted"] is True and first["deleted_at"] is not None
    again = ctx.call("deleteLink", status=200, link_id=link["id"], slash=True).json()
    assert same_link(again, first)


@scenario("deleteLink", 400)
def delete_with_a_malformed_body(ctx: Ctx) -> None:
    link = ctx.new_link()
    response = ctx.call(
        "deleteLink",
        status=400,
        link_id=link["id"],
        content=b"\xff\xfe",
        headers={"content-type": FORM},
    )
    assert error_code(response) == "bad_request"


@scenario("deleteLink", 404)
def delete_another_accounts_link(ctx: Ctx) -> None:
    link = ctx.new_link()
    other = ctx.other_account.test.secret_key
    ctx.call("deleteLink", status=404, link_id=link["id"], key=other)
    assert ctx.call("getLink", status=200, link_id=link["id"]).json()["deleted"] is False


# --- listLinkCharges


@scenario("listLinkCharges", 200)
def list_the_charges_of_a_link(ctx: Ctx) -> None:
    link = ctx.new_link()
    query = {"limit": 100, "offset": 0, "order": "chronological", "from": "2020-01-01"}
    charges = ctx.call("listLinkCharges", status=200, link_id=link["id"], query=query).json()
    assert charges["location"] == f"/links/{link['id']}/charges" and charges["limit"] == 100
    slash = ctx.call("listLinkCharges", status=200, link_id=link["id"], slash=True).json()
    assert slash["total"] == 0


@scenario("listLinkCharges", 400)
def list_charges_with_bad_parameters(ctx: Ctx) -> None:
    link = ctx.new_link()
    for query in ({"limit": -1}, {"order": "random"}, {"to": "soon"}):
        ctx.call("listLinkCharges", status=400, link_id=link["id"], query=query)


@scenario("listLinkCharges", 404)
def list_charges_of_a_missing_link(ctx: Ctx) -> None:
    ctx.call("listLinkCharges", status=404, link_id="payl_test_missing")


# --- getLinkStats


@scenario("getLinkStats", 200)
def stats_of_a_link_with_charges(ctx: Ctx) -> None:
    product = ctx.new_link(multiple=True)
    ctx.new_charge(link=product["id"])
    ctx.new_charge(link=product["id"], card=ctx.new_token(VISA_NO_FUNDS))
    stats = ctx.call("getLinkStats", status=200, link_id=product["id"]).json()
    assert stats["charges"] == {"total": 2, "successful": 1, "failed": 1, "pending": 0}
    assert stats["revenue"] == 100000 and stats["conversion"] is None
    ctx.call("getLinkStats", status=200, link_id=ctx.new_link()["id"], slash=True)


@scenario("getLinkStats", 400)
def stats_with_a_malformed_body(ctx: Ctx) -> None:
    link = ctx.new_link()
    headers = {"content-type": "application/json"}
    ctx.call("getLinkStats", status=400, link_id=link["id"], content=b"[", headers=headers)


@scenario("getLinkStats", 404)
def stats_of_a_missing_link(ctx: Ctx) -> None:
    ctx.call("getLinkStats", status=404, link_id="payl_test_missing")


# Edge cases an earlier audit found answered wrongly (all fixed; kept as regressions).


def test_list_echoes_early_dates_as_valid_timestamps(ctx: Ctx) -> None:
    ctx.call("listLinks", status=200, query={"from": "0999-06-01"})
