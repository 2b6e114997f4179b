"""The dashboard's pages and forms, on both backends: the links list and its filters, a link's
page (charges, performance, QR), edits and deletion, creating a link with a preview, the
overview, webhook endpoints, the events browser, and API keys. Every form refuses a missing
CSRF token; another account's ids are a 404 page without their data."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from factories import VISA_NO_FUNDS, TestAccount, auth, link, pay, sign_in
from starlette.testclient import TestClient

from paylinks.clock import to_micros
from paylinks.db import Database
from paylinks.models import webhook_endpoints


def signed_in(make_client: Any, account: TestAccount) -> tuple[TestClient, str]:
    client: TestClient = make_client()
    return client, sign_in(client, account.test.secret_key)


def test_links_list_searches_and_filters(make_client: Any, account: TestAccount) -> None:
    client, _ = signed_in(make_client, account)
    mug = link(client, account, title="Blue mug", metadata={"sku": "MUG-7"})
    cap = link(client, account, title="Red cap", multiple=True)
    pay(client, account, mug["id"])
    page = client.get("/dashboard/links")
    assert page.status_code == 200 and "Blue mug" in page.text and "Red cap" in page.text
    only = client.get("/dashboard/links", params={"q": "MUG-7"}).text
    assert "Blue mug" in only and "Red cap" not in only  # metadata values are searched
    used = client.get("/dashboard/links", params={"used": "on"}).text
    assert "Blue mug" in used and "Red cap" not in used
    multi = client.get("/dashboard/links", params={"multiple": "on"}).text
    assert "Red cap" in multi and "Blue mug" not in multi
    oldest = client.get("/dashboard/links", params={"sort": "oldest"}).text
    assert oldest.index("Blue mug") < oldest.index("Red cap")
    bad = client.get("/dashboard/links", params={"from": "yesterday-ish"})
    assert bad.status_code == 200 and "filters[created]" in bad.text
    assert cap["id"] in multi


def test_a_links_page_shows_charges_stats_chart_and_qr(
    make_client: Any, account: TestAccount
) -> None:
    client, _ = signed_in(make_client, account)
    made = link(client, account, multiple=True, amount=150000)
    pay(client, account, made["id"])
    pay(client, account, made["id"], VISA_NO_FUNDS)
    page = client.get(f"/dashboard/links/{made['id']}")
    assert page.status_code == 200
    text = page.text
    assert "฿1,500.00" in text and "successful" in text and "insufficient_fund" in text
    assert "<svg" in text and 'role="img"' in text  # the chart, drawn on the server
    assert made["payment_uri"] in text and 'src="data:image/svg+xml' in text  # the QR
    assert "<script>" not in text
    for kind, magic in (("png", b"\x89PNG"), ("svg", b"<svg")):
        qr = client.get(f"/dashboard/links/{made['id']}/qr.{kind}")
        assert qr.status_code == 200 and qr.content.startswith(magic)
        assert "attachment" in qr.headers["content-disposition"]


def test_edit_and_delete_with_csrf(make_client: Any, account: TestAccount) -> None:
    client, csrf = signed_in(make_client, account)
    made = link(client, account)
    url = f"/dashboard/links/{made['id']}"
    refused = client.post(f"{url}/edit", data={"description": "x", "meta_key_0": "a"})
    assert refused.status_code == 403
    bad = client.post(f"{url}/edit", data={"csrf": csrf, "description": "x", "meta_value_0": "1"})
    assert bad.status_code == 400 and "needs a key" in bad.text
    edited = client.post(
        f"{url}/edit",
        data={"csrf": csrf, "description": "Handmade", "meta_key_0": "kiln", "meta_value_0": "3"},
        follow_redirects=False,
    )
    assert edited.status_code == 303
    api_view = client.get(url.replace("/dashboard", ""), auth=auth(account.test.secret_key))
    assert api_view.json()["description"] == "Handmade"
    assert api_view.json()["metadata"] == {"kiln": "3"}
    unconfirmed = client.post(f"{url}/delete", data={"csrf": csrf})
    assert unconfirmed.status_code == 400
    client.post(f"{url}/delete", data={"csrf": csrf, "confirm": "yes"})
    gone = client.get(f"/links/{made['id']}", auth=auth(account.test.secret_key)).json()
    assert gone["deleted"] is True


def test_another_accounts_link_is_a_404_page(
    make_client: Any, account: TestAccount, other_account: TestAccount
) -> None:
    client, csrf = signed_in(make_client, account)
    theirs = link(client, other_account, title="Their secret product")
    for path in (f"/dashboard/links/{theirs['id']}", f"/dashboard/links/{theirs['id']}/qr.png"):
        page = client.get(path)
        assert page.status_code == 404 and "Their secret product" not in page.text
    edited = client.post(
        f"/dashboard/links/{theirs['id']}/edit",
        data={"csrf": csrf, "description": "mine"},
    )
    assert edited.status_code == 404
    assert "Their secret product" not in client.get("/dashboard/links").text


def test_creating_a_link_with_a_preview(make_client: Any, account: TestAccount) -> None:
    client, csrf = signed_in(make_client, account)
    assert client.get("/dashboard/links/new").status_code == 200
    form = {
        "csrf": csrf,
        "title": "Workshop seat",
        "amount": "1,250.50",
        "currency": "thb",
        "multiple": "on",
        "usage_limit": "20",
        "meta_key_0": "event",
        "meta_value_0": "w-26",
    }
    preview = client.post("/dashboard/links/new", data={**form, "action": "preview"})
    assert preview.status_code == 200
    # The preview is the hosted page itself, in a frame that runs no script and sends no form.
    frame = re.search(
        r'<iframe class="page-preview"[^>]* src="([^"]+)" sandbox="allow-same-origin"', preview.text
    )
    assert frame is not None
    shown = client.get(html.unescape(frame.group(1)))
    assert shown.status_code == 200 and 'id="pay-form"' in shown.text
    assert "Workshop seat" in shown.text and "Pay ฿1,250.50" in shown.text
    assert "frame-ancestors 'self'" in shown.headers["content-security-policy"]
    assert shown.headers["x-frame-options"] == "SAMEORIGIN"
    thai = client.get(html.unescape(frame.group(1)) + "&locale=th")
    assert "฿1,250.50" in thai.text and '<html lang="th">' in thai.text
    assert client.get("/links", auth=auth(account.test.secret_key)).json()["total"] == 0
    bad = client.post("/dashboard/links/new", data={**form, "amount": "12.345", "action": "create"})
    assert bad.status_code == 400 and "Workshop seat" in bad.text  # the form is kept
    made = client.post(
        "/dashboard/links/new", data={**form, "action": "create"}, follow_redirects=False
    )
    assert made.status_code == 303
    link_id = made.headers["location"].rsplit("/", 1)[1]
    created = client.get(f"/links/{link_id}", auth=auth(account.test.secret_key)).json()
    assert (created["amount"], created["usage_limit"], created["metadata"]) == (
        125050,
        20,
        {"event": "w-26"},
    )
    missing_csrf = client.post("/dashboard/links/new", data={**form, "csrf": ""})
    assert missing_csrf.status_code == 403


def test_the_overview_ranks_links(make_client: Any, account: TestAccount) -> None:
    client, _ = signed_in(make_client, account)
    big = link(client, account, title="Big seller", multiple=True, amount=500000)
    pay(client, account, big["id"])
    page = client.get("/dashboard", params={"days": "7"})
    assert page.status_code == 200
    assert "Big seller" in page.text and "฿5,000.00" in page.text
    assert 'aria-current="page">7 days' in page.text


def test_webhook_endpoints_events_and_redelivery(make_client: Any, account: TestAccount) -> None:
    client, csrf = signed_in(make_client, account)
    added = client.post(
        "/dashboard/developers/endpoints",
        data={"csrf": csrf, "url": "http://127.0.0.1:9/hook", "events": ["link.create"]},
    )
    assert added.status_code == 200
    secret = re.search(r'value="(whsec_[^"]+)"', added.text)
    assert secret is not None
    endpoint_id = re.search(r"/dashboard/developers/endpoints/(wbhk_test_\w+)", added.text)
    assert endpoint_id is not None
    page = client.get(f"/dashboard/developers/endpoints/{endpoint_id.group(1)}")
    assert page.status_code == 200 and secret.group(1) not in page.text  # shown once only
    made = link(client, account)
    events = client.get("/dashboard/developers/events", params={"key": "link.create"}).text
    assert made["id"] in events
    event_id = re.search(r"/dashboard/developers/events/(evnt_test_\w+)", events)
    assert event_id is not None
    event_page = client.get(f"/dashboard/developers/events/{event_id.group(1)}")
    assert made["id"] in event_page.text and "&#34;object&#34;: &#34;link&#34;" in event_page.text
    again = client.post(
        f"/dashboard/developers/events/{event_id.group(1)}/redeliver",
        data={"csrf": csrf, "endpoint": endpoint_id.group(1)},
    )
    assert again.status_code == 200 and "Queued 1 new delivery" in again.text
    changed = client.post(
        f"/dashboard/developers/endpoints/{endpoint_id.group(1)}",
        data={"csrf": csrf, "events": ["charge.complete"], "scheme": "omise"},
        follow_redirects=False,
    )
    assert changed.status_code == 303  # no "enabled" box ticked: disabled
    found = client.get(
        f"/webhook_endpoints/{endpoint_id.group(1)}", auth=auth(account.test.secret_key)
    ).json()
    assert (found["enabled"], found["events"], found["signature_scheme"]) == (
        False,
        ["charge.complete"],
        "omise",
    )
    rolled = client.post(
        f"/dashboard/developers/endpoints/{endpoint_id.group(1)}/roll", data={"csrf": csrf}
    )
    # Now an `omise` endpoint: the new secret is shown in Omise's form, without `whsec_`.
    shown = re.search(r'<input id="secret" value="([^"]+)"', rolled.text)
    assert shown is not None and not shown.group(1).startswith("whsec_")
    assert "whsec_" not in rolled.text
    assert secret.group(1).removeprefix("whsec_") not in rolled.text  # the old key, in any form
    client.post(
        f"/dashboard/developers/endpoints/{endpoint_id.group(1)}/delete", data={"csrf": csrf}
    )
    listed = client.get("/webhook_endpoints", auth=auth(account.test.secret_key)).json()
    assert listed["total"] == 0


def test_live_mode_refuses_unsafe_endpoint_urls(make_client: Any, account: TestAccount) -> None:
    client: TestClient = make_client()
    csrf = sign_in(client, account.live.secret_key)
    refused = client.post(
        "/dashboard/developers/endpoints", data={"csrf": csrf, "url": "https://10.0.0.1/hook"}
    )
    assert refused.status_code == 400 and "webhooks may not reach" in refused.text


def test_keys_page_and_rolling_with_confirmation(make_client: Any, account: TestAccount) -> None:
    client, csrf = signed_in(make_client, account)
    keys = client.get("/dashboard/developers/keys")
    assert account.test.public_key in keys.text and account.test.secret_key not in keys.text
    asked = client.post(
        "/dashboard/developers/keys/roll", data={"csrf": csrf}, follow_redirects=False
    )
    assert asked.status_code == 303 and asked.headers["location"].endswith("roll=1")
    assert "Yes, roll the test keys" in client.get(asked.headers["location"]).text
    roll = {"csrf": csrf, "confirm": "yes"}
    # The session alone is not enough: the current secret key is asked for again.
    for proof in ({}, {"current_secret_key": account.live.secret_key}):
        refused = client.post("/dashboard/developers/keys/roll", data={**roll, **proof})
        assert refused.status_code == 403 and "did not match" in refused.text
        assert client.get("/links", auth=auth(account.test.secret_key)).status_code == 200
    rolled = client.post(
        "/dashboard/developers/keys/roll",
        data={**roll, "current_secret_key": account.test.secret_key},
    )
    new_secret = re.search(r'value="(skey_test_\w+)"', rolled.text)
    assert new_secret is not None
    assert client.get("/links", auth=auth(new_secret.group(1))).status_code == 200
    assert client.get("/links", auth=auth(account.test.secret_key)).status_code == 401
    # The session was opened with the rolled key: it ended with it.
    gone = client.get("/dashboard/developers/keys", follow_redirects=False)
    assert gone.status_code == 303 and "/dashboard/sign-in" in gone.headers["location"]


@pytest.mark.parametrize(
    "path",
    ["/dashboard/links/new", "/dashboard/developers/endpoints", "/dashboard/developers/keys/roll"],
)
def test_forms_need_the_csrf_token(make_client: Any, account: TestAccount, path: str) -> None:
    client, _ = signed_in(make_client, account)
    assert client.post(path, data={"url": "http://127.0.0.1:9/x"}).status_code == 403


def test_a_failing_endpoint_says_so_in_the_list(
    make_client: Any, account: TestAccount, db: Database
) -> None:
    client, csrf = signed_in(make_client, account)
    client.post(
        "/dashboard/developers/endpoints",
        data={"csrf": csrf, "url": "http://127.0.0.1:9/hook", "events": ["link.create"]},
    )
    assert "failing since" not in client.get("/dashboard/developers").text
    # What the worker records after a failed delivery (tests/webhooks cover the worker).
    since = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    with db.transaction() as conn:
        conn.execute(
            webhook_endpoints.update()
            .where(webhook_endpoints.c.account_pk == account.pk)
            .values(failing_since=to_micros(since))
        )
    listed = client.get("/dashboard/developers").text
    # In the account's time zone: Asia/Bangkok unless it chose another.
    assert '<strong class="failing">failing since 2026-12-01 15:30 UTC+07</strong>' in listed
