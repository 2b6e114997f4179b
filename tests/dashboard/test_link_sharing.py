"""Sharing links from the dashboard (issue 16, item 10): every row of the links list and a
link's page carry the payment URL as text, copy and share buttons (the script shows them) and
the payment page; a customer-decides-amount link shows its range, and a closed link says why."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from factories import TestAccount, auth, link, pay, sign_in
from starlette.testclient import TestClient

from paylinks.clock import to_micros
from paylinks.db import Database
from paylinks.models import links


def signed_in(make_client: Any, account: TestAccount) -> tuple[TestClient, str]:
    client: TestClient = make_client()
    return client, sign_in(client, account.test.secret_key)


def row_of(page: str, link_id: str) -> str:
    """The links list's row of one link."""
    found = re.search(rf"<tr>\s*<td><a href=\"/dashboard/links/{link_id}\">.*?</tr>", page, re.S)
    assert found is not None, f"no row for {link_id}"
    return found.group(0)


def test_every_row_and_the_links_page_share_the_payment_url(
    make_client: Any, account: TestAccount
) -> None:
    client, _ = signed_in(make_client, account)
    made = [link(client, account, title=f"Mug {n}") for n in range(2)]
    listed = client.get("/dashboard/links").text
    for one in made:
        row = row_of(listed, one["id"])
        uri = one["payment_uri"]
        assert f'<span class="pay-url">{uri}</span>' in row  # visible without the script
        assert f'data-copy-link="{uri}" hidden' in row
        assert f'data-share-link="{uri}" data-share-title="{one["title"]}" hidden' in row
        assert f'<a href="{uri}" target="_blank" rel="noopener">Open payment page' in row
    page = client.get(f"/dashboard/links/{made[0]['id']}").text
    assert f'value="{made[0]["payment_uri"]}" readonly' in page
    assert f'data-copy-link="{made[0]["payment_uri"]}"' in page
    assert "/dashboard/static/links.js?v=" in page and "<script>" not in page
    script = client.get("/dashboard/static/links.js")
    assert script.status_code == 200 and "navigator.share" in script.text


def test_a_customer_decides_link_shows_its_range(make_client: Any, account: TestAccount) -> None:
    client, _ = signed_in(make_client, account)
    ranged = link(
        client, account, title="Tip", amount=20000, amount_type="customer",
        amount_min=10000, amount_max=500000,
    )  # fmt: skip
    open_ended = link(client, account, title="Donation", amount=20000, amount_type="customer")
    listed = client.get("/dashboard/links").text
    assert "฿100.00 – ฿5,000.00" in row_of(listed, ranged["id"])
    # No bounds of its own: the currency's limits, which the payment page applies.
    assert "฿20.00 – ฿1,000,000.00" in row_of(listed, open_ended["id"])
    page = client.get(f"/dashboard/links/{ranged['id']}").text
    assert "฿100.00 – ฿5,000.00" in page and "suggested ฿200.00" in page
    fixed = link(client, account, title="Bowl", amount=89000)
    assert "฿890.00</td>" in row_of(client.get("/dashboard/links").text, fixed["id"])


def test_a_closed_link_says_why(make_client: Any, account: TestAccount, db: Database) -> None:
    client, _ = signed_in(make_client, account)
    paid = link(client, account, title="Paid once")
    assert pay(client, account, paid["id"]).json()["status"] == "successful"
    full = link(client, account, title="Full", multiple=True, usage_limit=1)
    assert pay(client, account, full["id"]).json()["status"] == "successful"
    expired = link(client, account, title="Expired")
    gone = link(client, account, title="Gone")
    client.delete(f"/links/{gone['id']}", auth=auth(account.test.secret_key))
    open_ = link(client, account, title="Open")
    past = datetime.now(UTC) - timedelta(hours=1)
    with db.transaction() as conn:  # what time does to a link with an expiry
        conn.execute(
            sa.update(links).where(links.c.id == expired["id"]).values(expires_at=to_micros(past))
        )
    listed = client.get("/dashboard/links").text
    for made, why in (
        (paid, "closed: paid"),
        (full, "closed: usage limit reached"),
        (expired, "closed: expired"),
        (gone, "closed: deleted"),
    ):
        row = row_of(listed, made["id"])
        assert f'<span class="state closed">{why}' in row, why
        assert "data-copy-link" not in row and "Open payment page" in row  # nothing to share
        page = client.get(f"/dashboard/links/{made['id']}").text
        assert f'<span class="state closed">{why}' in page, why
    assert '<span class="state active">active</span>' in row_of(listed, open_["id"])
