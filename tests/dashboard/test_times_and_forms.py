"""Times and forms in the dashboard (issue 16, item 11): times in the account's time zone
(Asia/Bangkok unless it chose another), a link's expiry picked in that zone, every problem of
the new-link form at once, bounds of a fixed amount ignored, and metadata as key/value rows
that give back what they were given."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from factories import TestAccount, auth, link, sign_in
from starlette.testclient import TestClient

from paylinks.clock import FrozenClock
from paylinks.db import Database
from paylinks.models import accounts

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def signed_in(make_client: Any, account: TestAccount) -> tuple[TestClient, str]:
    client: TestClient = make_client(clock=FrozenClock(NOW))
    return client, sign_in(client, account.test.secret_key)


def choose_zone(client: TestClient, csrf: str, zone: str) -> None:
    saved = client.post(
        "/dashboard/settings", data={"csrf": csrf, "time_zone": zone}, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text


def create(client: TestClient, csrf: str, **fields: str) -> Any:
    form = {"csrf": csrf, "title": "Seat", "amount": "500", "currency": "thb", **fields}
    return client.post(
        "/dashboard/links/new", data={**form, "action": "create"}, follow_redirects=False
    )


def api_link(client: TestClient, account: TestAccount, made: Any) -> dict[str, Any]:
    assert made.status_code == 303, made.text
    link_id = made.headers["location"].rsplit("/", 1)[1]
    found: dict[str, Any] = client.get(
        f"/links/{link_id}", auth=auth(account.test.secret_key)
    ).json()
    return found


def test_times_are_shown_in_the_accounts_zone(
    make_client: Any, account: TestAccount, db: Database
) -> None:
    client, csrf = signed_in(make_client, account)
    made = link(client, account, title="Bowl")  # created at 08:00 UTC
    page = client.get(f"/dashboard/links/{made['id']}").text
    assert "2026-06-01 15:00 UTC+07" in page and "08:00 UTC" not in page  # the default
    choose_zone(client, csrf, "Asia/Tokyo")
    assert "2026-06-01 17:00 JST" in client.get(f"/dashboard/links/{made['id']}").text
    assert "2026-06-01 17:00 JST" in client.get("/dashboard/links").text
    choose_zone(client, csrf, "America/New_York")  # summer time: EDT
    assert "2026-06-01 04:00 EDT" in client.get("/dashboard/links").text
    refused = client.post("/dashboard/settings", data={"csrf": csrf, "time_zone": "Mars/Olympus"})
    assert refused.status_code == 400 and "unknown time zone" in refused.text
    choose_zone(client, csrf, "Asia/Bangkok")  # the default again: stored as NULL
    with db.transaction() as conn:
        stored = conn.execute(sa.select(accounts.c.time_zone).where(accounts.c.pk == account.pk))
        assert stored.scalar_one() is None
    settings = client.get("/dashboard/settings").text
    assert '<option value="Asia/Bangkok" selected>Asia/Bangkok (default)' in settings


def test_the_expiry_is_picked_in_the_accounts_zone(make_client: Any, account: TestAccount) -> None:
    client, csrf = signed_in(make_client, account)
    form = client.get("/dashboard/links/new").text
    assert 'type="datetime-local"' in form and 'min="2026-06-01T15:00"' in form
    bangkok = api_link(client, account, create(client, csrf, expires_at="2026-12-31T23:59"))
    assert bangkok["expires_at"] == "2026-12-31T16:59:00Z"
    choose_zone(client, csrf, "America/New_York")  # winter time there: UTC-5
    new_york = api_link(client, account, create(client, csrf, expires_at="2026-12-31T23:59"))
    assert new_york["expires_at"] == "2027-01-01T04:59:00Z"
    page = client.get(f"/dashboard/links/{new_york['id']}").text
    assert "2026-12-31 23:59 EST" in page
    typed = api_link(client, account, create(client, csrf, expires_at="2026-12-31 23:59"))
    assert typed["expires_at"] == "2027-01-01T04:59:00Z"  # a browser without the picker


def test_every_problem_of_the_form_is_shown_at_once(make_client: Any, account: TestAccount) -> None:
    client, csrf = signed_in(make_client, account)
    refused = create(
        client, csrf, title="", amount="lots", usage_limit="5", expires_at="2020-01-01T00:00",
        amount_type="customer", amount_min="1", meta_value_0="orphan",
    )  # fmt: skip
    assert refused.status_code == 400
    page = refused.text
    expected = {
        "title": "title is required",
        "amount": "enter amounts in THB",
        "usage_limit": "usage_limit applies to multi-use links only",
        "expires_at": "expires_at must be a future time",
        "amount_min": "amount must be at least 2000",
        "metadata": "needs a key",
    }
    for field, message in expected.items():
        beside = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page)
        assert beside is not None and message in html.unescape(beside.group(1)), field
    summary = re.search(r'<div class="alert error-summary" role="alert">(.*?)</div>', page, re.S)
    assert summary is not None and "6 things to fix" in summary.group(1)
    assert summary.group(1).count("<li>") == 6 and 'href="#meta_key_0"' in summary.group(1)
    assert 'id="amount" name="amount" value="lots"' in page  # the form as typed
    assert 'aria-invalid="true" aria-describedby="title-error"' in page
    assert client.get("/links", auth=auth(account.test.secret_key)).json()["total"] == 0


def test_the_rule_between_fields_is_the_amounts_problem(
    make_client: Any, account: TestAccount
) -> None:
    client, csrf = signed_in(make_client, account)
    outside = create(
        client, csrf, amount="1000", amount_type="customer", amount_min="100", amount_max="500"
    )
    assert outside.status_code == 400
    assert re.search(r'id="amount-error">the suggested amount must lie between', outside.text)


def test_bounds_of_a_fixed_amount_are_ignored(make_client: Any, account: TestAccount) -> None:
    # Without the script the bounds stay enabled and are sent; they only mean something when
    # the customer decides.
    client, csrf = signed_in(make_client, account)
    fixed = api_link(
        client, account, create(client, csrf, amount_type="fixed", amount_min="x", amount_max="1")
    )
    assert (fixed["amount"], fixed.get("amount_type", "fixed")) == (50000, "fixed")
    page = client.get("/dashboard/links/new").text
    assert page.count("data-customer-only") == 2  # the script disables them for a fixed amount


def edit_fields(page: str) -> dict[str, str]:
    """The metadata fields of a link's edit form, as a browser would send them."""
    form = re.search(r'<form method="post" action="[^"]*/edit".*?</form>', page, re.S)
    assert form is not None
    found = re.findall(r'name="(meta_\w+)" value="([^"]*)"', form.group(0))
    return {name: html.unescape(value) for name, value in found}


def test_metadata_rows_give_back_what_they_were_given(
    make_client: Any, account: TestAccount
) -> None:
    client, csrf = signed_in(make_client, account)
    metadata = {"sku": "MUG-7", "note": 'a "quoted" <b>', "count": 3, "tags": ["a", "b"]}
    made = link(client, account, metadata=metadata)
    url = f"/dashboard/links/{made['id']}"
    fields = edit_fields(client.get(url).text)
    assert fields["meta_key_0"] == "sku" and fields["meta_type_2"] == "json"
    assert fields["meta_key_4"] == "" and fields["meta_key_6"] == ""  # three empty rows
    saved = client.post(f"{url}/edit", data={"csrf": csrf, **fields}, follow_redirects=False)
    assert saved.status_code == 303
    api = client.get(f"/links/{made['id']}", auth=auth(account.test.secret_key)).json()
    assert api["metadata"] == metadata  # numbers and lists stay what they were
    changed = {**fields, "meta_key_1": "", "meta_value_1": "", "meta_value_2": "4"}
    changed |= {"meta_key_9": "added", "meta_value_9": "by the script"}
    client.post(f"{url}/edit", data={"csrf": csrf, **changed})
    api = client.get(f"/links/{made['id']}", auth=auth(account.test.secret_key)).json()
    assert api["metadata"] == {
        "sku": "MUG-7",
        "count": 4,
        "tags": ["a", "b"],
        "added": "by the script",
    }
    broken = client.post(f"{url}/edit", data={"csrf": csrf, **fields, "meta_value_3": "[1,"})
    assert broken.status_code == 400 and "must stay valid JSON" in broken.text
    assert 'value="[1,"' in broken.text  # the rows as typed, not as stored


def test_the_new_link_form_takes_rows_added_by_the_script(
    make_client: Any, account: TestAccount
) -> None:
    client, csrf = signed_in(make_client, account)
    page = client.get("/dashboard/links/new").text
    assert page.count('class="meta-row"') == 3 and "data-add-row hidden" in page
    rows = {f"meta_key_{n}": f"k{n}" for n in range(6)}
    rows |= {f"meta_value_{n}": f"v{n}" for n in range(6)}
    made = api_link(client, account, create(client, csrf, **rows))
    assert made["metadata"] == {f"k{n}": f"v{n}" for n in range(6)}
    twice = create(client, csrf, meta_key_0="k", meta_value_0="1", meta_key_1="k")
    assert twice.status_code == 400 and "is there twice" in html.unescape(twice.text)
