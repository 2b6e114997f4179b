"""Webhook health in the dashboard, on both backends: each endpoint's last response and next
retry (in the list and on its page, read in two statements however many endpoints), the "Send
test event" button (one signed delivery, to that endpoint alone, through the worker), the
receiver's answer in the delivery logs, and event object ids linking to their pages."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from factories import TestAccount, add_endpoint, deliveries, drain, link, pay, sign_in
from receivers import receiver
from starlette.testclient import TestClient

from paylinks.clock import FrozenClock, to_micros
from paylinks.dashboard import delivery_log
from paylinks.db import Database
from paylinks.models import events, webhook_deliveries

pytestmark = pytest.mark.usefixtures("empty_outbox")

NEXT_RETRY = datetime(2026, 6, 3, 5, 15, tzinfo=UTC)  # the same date in UTC and in Asia


def signed_in(make_client: Any, account: TestAccount, **kw: Any) -> tuple[TestClient, str]:
    client: TestClient = make_client(**kw)
    return client, sign_in(client, account.test.secret_key)


def row_of(page: str, endpoint_id: str) -> str:
    """The endpoints list's table row of one endpoint."""
    found = re.search(rf"<tr>\s*<td><a href=\"[^\"]*{endpoint_id}\".*?</tr>", page, re.S)
    assert found is not None, f"no row for {endpoint_id}"
    return found.group(0)


def test_the_list_and_the_page_show_the_last_response_and_the_next_retry(
    make_client: Any, account: TestAccount, db: Database
) -> None:
    clock = FrozenClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    client, _ = signed_in(make_client, account, clock=clock)
    with receiver() as failing, receiver() as fine:
        bad = add_endpoint(db, account, failing.url, keys=["link.create"])
        good = add_endpoint(db, account, fine.url, keys=["link.create"])
        idle = add_endpoint(db, account, "http://127.0.0.1:9/never", keys=["charge.complete"])
        failing.script = [(500, {"Content-Type": "text/plain"})]
        link(client, account)
        assert drain(db, clock, rounds=1) == 2
    # Where the retry lands is the worker's business (tests/webhooks): pin it to check the page.
    with db.transaction() as conn:
        conn.execute(
            webhook_deliveries.update()
            .where(webhook_deliveries.c.endpoint_pk == bad.pk)
            .values(next_attempt_at=to_micros(NEXT_RETRY))
        )
    listed = client.get("/dashboard/developers").text
    bad_row, good_row = row_of(listed, bad.id), row_of(listed, good.id)
    assert '<span class="failing">500 Internal Server Error</span>' in bad_row
    assert re.search(r"next retry 2026-06-03 \d\d:\d\d", bad_row)
    assert "200 OK" in good_row and "next retry" not in good_row and "failing" not in good_row
    assert "never sent" in row_of(listed, idle.id)
    page = client.get(f"/dashboard/developers/endpoints/{bad.id}").text
    health = re.search(r'<p class="health">.*?</p>', page, re.S)
    assert health is not None
    assert "500 Internal Server Error" in health.group(0)
    assert re.search(r"next retry 2026-06-03 \d\d:\d\d", health.group(0))
    # The delivery log shows the receiver's answer: its status and the excerpt of its body.
    assert '<code class="excerpt">ok</code>' in page and "link.create" in page


def test_health_is_read_in_two_statements_however_many_endpoints(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    made = [add_endpoint(db, account, f"http://127.0.0.1:9/e{n}") for n in range(4)]
    link(client, account)  # a delivery for each, not yet tried

    def statements_for(pks: list[int]) -> tuple[int, dict[int, delivery_log.Health]]:
        seen: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
            seen.append(statement)

        with db.snapshot() as conn:
            sa.event.listen(conn, "before_cursor_execute", count)
            found = delivery_log.health_of(conn, endpoint_pks=pks)
        return len(seen), found

    one, _ = statements_for([made[0].pk])
    many, found = statements_for([e.pk for e in made])
    assert one == many == 2
    assert set(found) == {e.pk for e in made}
    # Never tried: no last answer, and a first attempt is not a retry.
    assert all(h.last_at is None and h.next_retry_at is None for h in found.values())


def test_send_test_event_delivers_a_signed_test_to_that_endpoint_only(
    make_client: Any, account: TestAccount, db: Database
) -> None:
    client, csrf = signed_in(make_client, account)
    with receiver() as chosen, receiver() as other:
        endpoint = add_endpoint(db, account, chosen.url)  # every event
        bystander = add_endpoint(db, account, other.url)  # every event too
        url = f"/dashboard/developers/endpoints/{endpoint.id}/test"
        assert client.post(url, data={}).status_code == 403  # the CSRF token is required
        sent = client.post(url, data={"csrf": csrf})
        assert sent.status_code == 200
        queued = re.search(r"Test event (evnt_test_\w+) queued\.", sent.text)
        assert queued is not None
        (delivery,) = deliveries(db, account)  # one row, for the chosen endpoint alone
        assert delivery.endpoint_pk == endpoint.pk
        assert drain(db) == 1
    (got,) = chosen.received
    assert other.received == []
    body = orjson.loads(got.body)
    assert (body["key"], body["id"]) == ("test.webhook", queued.group(1))
    assert body["data"]["id"] == endpoint.id and "secret" not in body["data"]
    assert got.headers["webhook-id"] == queued.group(1)
    expected = hmac.new(endpoint.secret.encode(), got.body, hashlib.sha256).hexdigest()
    assert got.headers["omise-signature"] == expected  # signed as every delivery is
    page = client.get(f"/dashboard/developers/endpoints/{endpoint.id}").text
    assert "test.webhook" in page and "200 OK" in page
    assert "test.webhook" not in client.get(f"/dashboard/developers/endpoints/{bystander.id}").text
    # The test event's object is the endpoint: its id links to the endpoint's page.
    event_page = client.get(f"/dashboard/developers/events/{queued.group(1)}").text
    to_endpoint = f'<a href="/dashboard/developers/endpoints/{endpoint.id}">{endpoint.id}</a>'
    assert to_endpoint in event_page


def test_a_disabled_endpoint_gets_no_test_event(
    make_client: Any, account: TestAccount, db: Database
) -> None:
    client, csrf = signed_in(make_client, account)
    endpoint = add_endpoint(db, account, "http://127.0.0.1:9/off")
    page = f"/dashboard/developers/endpoints/{endpoint.id}"
    assert "Send test event" in client.get(page).text
    client.post(page, data={"csrf": csrf, "scheme": "seed"})  # no "enabled" box: disabled
    assert "Send test event" not in client.get(page).text
    refused = client.post(f"{page}/test", data={"csrf": csrf})
    assert refused.status_code == 400 and "is disabled" in refused.text
    assert deliveries(db, account) == []
    with db.snapshot() as conn:
        tests = conn.execute(
            sa.select(sa.func.count())
            .select_from(events)
            .where(events.c.account_pk == account.pk, events.c.key == "test.webhook")
        ).scalar_one()
    assert tests == 0  # refused before anything was recorded


def test_event_object_ids_link_to_their_pages(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    sign_in(client, account.test.secret_key)
    made = link(client, account, title="Linked")
    charge = pay(client, account, made["id"]).json()
    listed = client.get("/dashboard/developers/events").text
    to_link = f'<a href="/dashboard/links/{made["id"]}">'
    assert f"{to_link}{made['id']}</a>" in listed  # link.create: the link's page
    # charge.create / charge.complete: the charge is shown on its link's page.
    assert f"{to_link}{charge['id']}</a>" in listed
    event_id = re.search(r"/dashboard/developers/events/(evnt_test_\w+)", listed)
    assert event_id is not None
    page = client.get(f"/dashboard/developers/events/{event_id.group(1)}").text
    assert to_link in page
