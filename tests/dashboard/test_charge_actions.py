"""Refund, capture and reverse from a link's page in the dashboard: the API's rules and its one
processor call each; a refund form sent twice refunds once; another link's charge, or a form
without its CSRF token, is refused."""

from __future__ import annotations

import re
from typing import Any

from factories import TestAccount, auth, link, pay, sign_in
from starlette.testclient import TestClient


def charge_of(client: TestClient, account: TestAccount, charge_id: str) -> dict[str, Any]:
    found: dict[str, Any] = client.get(
        f"/charges/{charge_id}", auth=auth(account.test.secret_key)
    ).json()
    return found


def processor_actions(client: TestClient, charge_id: str) -> list[str]:
    calls = client.app.state.runtime.test_processor.calls  # type: ignore[attr-defined]
    return [c.action for c in calls if c.charge_id == charge_id]


def test_refunds_from_the_link_page_and_a_resent_form(
    client: TestClient, account: TestAccount
) -> None:
    csrf = sign_in(client, account.test.secret_key)
    product = link(client, account, multiple=True)
    paid = pay(client, account, product["id"]).json()
    page = client.get(f"/dashboard/links/{product['id']}").text
    field = re.search(rf'<input id="refund-{paid["id"]}"[^>]*>', page)
    assert field is not None and 'value="1000.00"' in field.group(0)
    action = f"/dashboard/links/{product['id']}/charges/{paid['id']}/refund"
    form = {"csrf": csrf, "amount": "250.00", "refunded_before": "0"}
    done = client.post(action, data=form, follow_redirects=False)
    assert done.status_code == 303
    assert charge_of(client, account, paid["id"])["refunded_amount"] == 25000
    again = client.post(action, data=form, follow_redirects=False)  # a double click
    assert again.status_code == 400 and "refunded meanwhile" in again.text
    assert charge_of(client, account, paid["id"])["refunded_amount"] == 25000
    assert processor_actions(client, paid["id"]) == ["charge", "refund"]
    after = client.get(f"/dashboard/links/{product['id']}").text
    assert "฿250.00 refunded" in after and 'value="750.00"' in after
    too_much = {"csrf": csrf, "amount": "750.01", "refunded_before": "25000"}
    refused = client.post(action, data=too_much, follow_redirects=False)
    assert refused.status_code == 400 and "more than the 75000 left" in refused.text
    garbled = client.post(action, data={**too_much, "amount": "lots"}, follow_redirects=False)
    assert garbled.status_code == 400 and "Enter the amount to refund" in garbled.text
    rest = client.post(action, data={**too_much, "amount": "750"}, follow_redirects=False)
    assert rest.status_code == 303
    assert charge_of(client, account, paid["id"])["refunded_amount"] == 100000
    assert f'id="refund-{paid["id"]}"' not in client.get(f"/dashboard/links/{product['id']}").text


def test_capture_and_reverse_from_the_link_page(client: TestClient, account: TestAccount) -> None:
    csrf = sign_in(client, account.test.secret_key)
    product = link(client, account, multiple=True)
    held = pay(client, account, product["id"], capture=False).json()
    released = pay(client, account, product["id"], capture=False).json()
    page = client.get(f"/dashboard/links/{product['id']}").text
    base = f"/dashboard/links/{product['id']}/charges"
    assert f'action="{base}/{held["id"]}/capture"' in page and ", authorized" in page
    captured = client.post(
        f"{base}/{held['id']}/capture", data={"csrf": csrf}, follow_redirects=False
    )
    assert captured.status_code == 303
    assert charge_of(client, account, held["id"])["status"] == "successful"
    twice = client.post(f"{base}/{held['id']}/capture", data={"csrf": csrf}, follow_redirects=False)
    assert twice.status_code == 400 and "already been captured" in twice.text
    reversed_ = client.post(
        f"{base}/{released['id']}/reverse", data={"csrf": csrf}, follow_redirects=False
    )
    assert reversed_.status_code == 303
    assert charge_of(client, account, released["id"])["status"] == "reversed"
    assert processor_actions(client, held["id"]) == ["authorize", "capture"]
    assert processor_actions(client, released["id"]) == ["authorize", "reverse"]


def test_another_links_charge_and_forged_forms_are_refused(
    client: TestClient, account: TestAccount
) -> None:
    csrf = sign_in(client, account.test.secret_key)
    one, other = link(client, account, multiple=True), link(client, account, multiple=True)
    paid = pay(client, account, one["id"]).json()
    form = {"csrf": csrf, "amount": "1", "refunded_before": "0"}
    wrong = client.post(
        f"/dashboard/links/{other['id']}/charges/{paid['id']}/refund", data=form,
        follow_redirects=False,
    )  # fmt: skip
    assert wrong.status_code == 404
    forged = client.post(
        f"/dashboard/links/{one['id']}/charges/{paid['id']}/refund",
        data={"amount": "1", "refunded_before": "0"}, follow_redirects=False,
    )  # fmt: skip
    assert forged.status_code == 403
    assert charge_of(client, account, paid["id"])["refunded_amount"] == 0
