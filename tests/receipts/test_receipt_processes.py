"""Receipt e-mails between real processes: `serve` with its own mailer off takes the payment,
and `paylinks worker`, on the same database, sends the receipt (the deployment of several API
processes and separate workers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from factories import CARD, VISA_OK, form_tokens
from mailboxes import mailbox
from servers import backend_url, live_server, worker_process


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield backend_url(request, tmp_path)


def test_a_worker_sends_the_receipt_of_a_payment_taken_by_serve(database_url: str) -> None:
    # serve knows another SMTP server: had its mailer run, the receipt would arrive there.
    with mailbox() as box, mailbox() as serves_box:
        serve_env = {"PAYLINKS_SMTP_URL": serves_box.url, "PAYLINKS_SEND_RECEIPTS": "false"}
        with live_server(database_url, env=serve_env) as server:
            with httpx.Client(base_url=server.url, timeout=10, follow_redirects=True) as client:
                made = client.post(
                    "/links", auth=(server.secret_key, ""),
                    data={"amount": 42000, "currency": "thb", "title": "Tea set"},
                )  # fmt: skip
                link_id = made.json()["id"]
                page = client.get(f"/pay/{link_id}").text
                assert 'name="email"' in page  # asked: this installation sends receipts
                body = {**CARD, "number": VISA_OK, "email": "nok@example.com"}
                body["card_token"] = form_tokens(page)["card_token"]
                paid = client.post(f"/pay/{link_id}", data=body)
                assert "Payment successful" in paid.text
            worker_env = {"PAYLINKS_SMTP_URL": box.url, "PAYLINKS_SMTP_FROM": "r@shop.example"}
            with worker_process(server.database_url, env=worker_env):
                [message] = box.wait_for(1)
        assert serves_box.messages == []
    plain = message.get_body(("plain",))
    assert (
        message["To"] == "nok@example.com" and message["From"] == "Contract tests <r@shop.example>"
    )
    assert plain is not None and "Tea set" in plain.get_content()
