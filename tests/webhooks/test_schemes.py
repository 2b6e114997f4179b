"""Each endpoint's chosen signature scheme reaches the wire: a real delivery by the worker to a
real receiver, checked by verifiers written here from the schemes' own documents (not with
paylinks' signing code) and by the `standardwebhooks` package for the `webhook-*` headers.

- `omise` (Omise's documented scheme, omise-compat §5): hex HMAC-SHA256 over
  `<Omise-Signature-Timestamp>.<raw body>`, keyed with the base64-decoded secret, several
  signatures comma-separated, timestamps within five minutes.
- `seed` (the seed's `verifyWebhook`): hex HMAC-SHA256 over the raw body, keyed with the secret
  as text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from typing import Any

import orjson
import pytest
from factories import TestAccount, auth, drain
from receivers import Received, receiver
from standardwebhooks.webhooks import Webhook
from starlette.testclient import TestClient

from paylinks.db import Database

pytestmark = pytest.mark.usefixtures("empty_outbox")


def omise_documented_verify(body: bytes, headers: dict[str, str], secret: str) -> bool:
    """A receiver written from Omise's documentation."""
    timestamp = headers["omise-signature-timestamp"]
    if abs(time.time() - int(timestamp)) > 300:
        return False
    # The secret as given: an `omise` endpoint's is plain base64, as Omise's dashboard shows it
    # (test_omise_secret); anything else is not base64 and verifies nothing.
    try:
        key = base64.b64decode(secret, validate=True)
    except binascii.Error:
        return False
    expected = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(
        hmac.compare_digest(expected, given.strip())
        for given in headers["omise-signature"].split(",")
    )


def seed_documented_verify(body: bytes, headers: dict[str, str], secret: str) -> bool:
    """The seed's verifyWebhook."""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["omise-signature"])


def standard_verify(body: bytes, headers: dict[str, str], secret: str) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except Exception:  # the package raises its own WebhookVerificationError
        return False
    return True


def add(client: TestClient, account: TestAccount, url: str, scheme: str) -> dict[str, Any]:
    made = client.post(
        "/webhook_endpoints",
        auth=auth(account.test.secret_key),
        json={"url": url, "signature_scheme": scheme, "events": ["link.create"]},
    )
    assert made.status_code == 200, made.text
    endpoint: dict[str, Any] = made.json()
    return endpoint


def only(received: list[Received]) -> Received:
    (delivery,) = received
    assert orjson.loads(delivery.body)["key"] == "link.create"
    return delivery


def test_each_endpoint_is_signed_with_its_own_scheme(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    with receiver() as omise_rx, receiver() as seed_rx:
        omise = add(client, account, omise_rx.url, "omise")
        seed = add(client, account, seed_rx.url, "seed")
        made = client.post(
            "/links",
            auth=auth(account.test.secret_key),
            json={"amount": 50000, "currency": "thb", "title": "Signed"},
        )
        assert made.status_code == 200
        assert drain(db) == 2
    to_omise, to_seed = only(omise_rx.received), only(seed_rx.received)
    assert to_omise.body == to_seed.body  # the same event; only the signatures differ

    assert omise_documented_verify(to_omise.body, to_omise.headers, omise["secret"])
    assert not seed_documented_verify(to_omise.body, to_omise.headers, omise["secret"])
    assert seed_documented_verify(to_seed.body, to_seed.headers, seed["secret"])
    assert not omise_documented_verify(to_seed.body, to_seed.headers, seed["secret"])
    for delivery, endpoint in ((to_omise, omise), (to_seed, seed)):
        assert standard_verify(delivery.body, delivery.headers, endpoint["secret"])
        assert delivery.headers["webhook-id"] == orjson.loads(delivery.body)["id"]
        tampered = delivery.body.replace(b"Signed", b"Signex")
        assert not standard_verify(tampered, delivery.headers, endpoint["secret"])
        assert not omise_documented_verify(tampered, delivery.headers, endpoint["secret"])
        assert not seed_documented_verify(tampered, delivery.headers, endpoint["secret"])
    # Another endpoint's key verifies nothing (the seed endpoint's, in Omise's form).
    other_key = seed["secret"].removeprefix("whsec_")
    assert not omise_documented_verify(to_omise.body, to_omise.headers, other_key)
    assert not standard_verify(to_seed.body, to_seed.headers, omise["secret"])


def test_changing_the_scheme_changes_the_next_delivery(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    with receiver() as rx:
        endpoint = add(client, account, rx.url, "seed")
        patched = client.patch(
            f"/webhook_endpoints/{endpoint['id']}",
            auth=auth(account.test.secret_key),
            json={"signature_scheme": "omise"},
        )
        assert patched.status_code == 200
        client.post(
            "/links",
            auth=auth(account.test.secret_key),
            json={"amount": 50000, "currency": "thb", "title": "Now Omise's"},
        )
        drain(db)
    delivery = only(rx.received)
    # The key stays; a secret shown in the seed's form serves Omise's scheme without `whsec_`.
    assert endpoint["secret"].startswith("whsec_")
    omise_form = endpoint["secret"].removeprefix("whsec_")
    assert omise_documented_verify(delivery.body, delivery.headers, omise_form)
    assert not seed_documented_verify(delivery.body, delivery.headers, endpoint["secret"])
