"""PromptPay: sources, pending charges, QR codes, and the test-mode completions."""

from __future__ import annotations

from typing import Any

from factories import TestAccount, auth, link, pay
from starlette.testclient import TestClient

from paylinks.sources.promptpay import crc16_ccitt, payload


def source(client: TestClient, key: str, amount: int = 100000, currency: str = "thb") -> Any:
    body = {"type": "promptpay", "amount": amount, "currency": currency}
    return client.post("/sources", auth=auth(key), json=body)


def promptpay_charge(client: TestClient, account: TestAccount, link_id: str) -> dict[str, Any]:
    src = source(client, account.test.public_key).json()
    body = {"source": src["id"], "link": link_id}
    response = client.post("/charges", auth=auth(account.test.secret_key), json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_emvco_payload_is_well_formed() -> None:
    text = payload("0812345678", amount_satang=100050)
    assert text.startswith("000201010212")
    assert "0016A000000677010111" in text and "01130066812345678" in text
    assert "5303764" in text and "54071000.50" in text and "5802TH" in text
    assert text[-8:-4] == "6304" and text[-4:] == crc16_ccitt(text[:-4])
    assert "0213" + "1234567890123" in payload("1234567890123", amount_satang=2000)


def test_source_with_either_key(client: TestClient, account: TestAccount) -> None:
    for key in (account.test.public_key, account.test.secret_key):
        src = source(client, key).json()
        assert src["object"] == "source" and src["id"].startswith("src_test_")
        assert (src["type"], src["flow"], src["amount"]) == ("promptpay", "offline", 100000)
        assert src["scannable_code"]["type"] == "qr"
        assert src["scannable_code"]["raw_data"] == payload("0812345678", amount_satang=100000)
    fetched = client.get(f"/sources/{src['id']}", auth=auth(account.test.public_key))
    assert fetched.json()["id"] == src["id"]


def test_promptpay_is_thb_only(client: TestClient, account: TestAccount) -> None:
    response = source(client, account.test.public_key, amount=5000, currency="usd")
    assert response.status_code == 400 and "THB" in response.json()["message"]
    unknown = client.post(
        "/sources",
        auth=auth(account.test.public_key),
        json={"type": "bitcoin", "amount": 5000, "currency": "thb"},
    )
    assert unknown.status_code == 400


def test_qr_images_are_served(client: TestClient, account: TestAccount) -> None:
    src = source(client, account.test.public_key).json()
    svg = client.get(f"/sources/{src['id']}/qr.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in svg.content
    png = client.get(f"/sources/{src['id']}/qr.png")
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    assert client.get("/sources/src_test_nope/qr.svg").status_code == 404


def test_pending_charge_completed_by_mark_as_paid(client: TestClient, account: TestAccount) -> None:
    invoice = link(client, account)
    charge = promptpay_charge(client, account, invoice["id"])
    assert (charge["status"], charge["paid"]) == ("pending", False)
    assert charge["source"]["type"] == "promptpay" and charge["link"] == invoice["id"]
    key = account.test.secret_key
    assert client.get(f"/links/{invoice['id']}", auth=auth(key)).json()["used"] is False
    paid = client.post(f"/charges/{charge['id']}/mark_as_paid", auth=auth(key), content=b"")
    assert paid.status_code == 200 and paid.json()["status"] == "successful"
    assert paid.json()["paid_at"] is not None
    assert client.get(f"/links/{invoice['id']}", auth=auth(key)).json()["used"] is True
    again = client.post(f"/charges/{charge['id']}/mark_as_paid", auth=auth(key))
    assert again.status_code == 400 and again.json()["code"] == "invalid_charge"


def test_mark_as_failed(client: TestClient, account: TestAccount) -> None:
    invoice = link(client, account)
    charge = promptpay_charge(client, account, invoice["id"])
    key = account.test.secret_key
    failed = client.post(f"/charges/{charge['id']}/mark_as_failed", auth=auth(key), content=b"null")
    assert failed.json()["status"] == "failed" and failed.json()["failure_code"]
    assert client.get(f"/links/{invoice['id']}", auth=auth(key)).json()["active"] is True


def test_card_payment_first_wins_over_a_pending_promptpay(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(client, account)
    pending = promptpay_charge(client, account, invoice["id"])
    assert pay(client, account, invoice["id"]).json()["status"] == "successful"
    late = client.post(f"/charges/{pending['id']}/mark_as_paid", auth=auth(account.test.secret_key))
    assert late.status_code == 400 and late.json()["code"] == "link_not_payable"


def test_source_is_single_use_and_must_match(client: TestClient, account: TestAccount) -> None:
    src = source(client, account.test.public_key, amount=50000).json()
    key = account.test.secret_key
    mismatch = client.post(
        "/charges", auth=auth(key), json={"source": src["id"], "amount": 60000, "currency": "thb"}
    )
    assert mismatch.status_code == 400
    body = {"source": src["id"], "amount": 50000, "currency": "thb"}
    assert client.post("/charges", auth=auth(key), json=body).status_code == 200
    reused = client.post("/charges", auth=auth(key), json=body)
    assert reused.status_code == 400 and "already used" in reused.json()["message"]
