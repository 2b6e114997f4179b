"""Signatures: the seed's verifyWebhook, the real Omise scheme and the standardwebhooks package
all verify what we send, for 1000 random bodies; any tampering fails."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import time

import orjson
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from paylinks.webhooks.signing import new_secret, signature_headers

ALPHABET = "abcxyz019 \"'\\{}[]<>&สวัสดีครับ ภาษาไทย ¥฿€😀\n\t"


def random_bodies(count: int) -> list[bytes]:
    rng = random.Random(20261123)
    bodies = [b"{}"]
    while len(bodies) < count:
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 400)))
        bodies.append(orjson.dumps({"key": "charge.complete", "data": {"note": text}}))
    return bodies


def seed_verify(body: bytes, signature: str, secret: str) -> bool:
    computed = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return computed == signature


def omise_verify(body: bytes, header: str, timestamp: str, secret: str) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, candidate) for candidate in header.split(","))


def test_thousand_bodies_verify_in_every_scheme() -> None:
    secret = new_secret()
    now = int(time.time())
    for i, body in enumerate(random_bodies(1000)):
        message_id = f"evnt_test_{i:019d}"
        seed = signature_headers(body, secrets=[secret], scheme="seed", message_id=message_id,
                                 timestamp=now)  # fmt: skip
        assert seed["Content-Type"] == "application/json"
        assert seed_verify(body, seed["Omise-Signature"], secret)
        omise = signature_headers(body, secrets=[secret], scheme="omise", message_id=message_id,
                                  timestamp=now)  # fmt: skip
        assert omise_verify(
            body, omise["Omise-Signature"], omise["Omise-Signature-Timestamp"], secret
        )
        Webhook(secret).verify(body, seed)  # raises if it does not verify


@pytest.mark.parametrize("tamper", ["body", "id", "timestamp"])
def test_tampering_fails_everywhere(tamper: str) -> None:
    secret = new_secret()
    body = orjson.dumps({"key": "charge.create", "data": {"amount": 100000}})
    now = int(time.time())
    seed = signature_headers(
        body, secrets=[secret], scheme="seed", message_id="evnt_a", timestamp=now
    )
    omise = signature_headers(
        body, secrets=[secret], scheme="omise", message_id="evnt_a", timestamp=now
    )
    if tamper == "body":
        forged = body.replace(b"100000", b"100001")
        assert not seed_verify(forged, seed["Omise-Signature"], secret)
        assert not omise_verify(forged, omise["Omise-Signature"], str(now), secret)
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(forged, seed)
    elif tamper == "id":
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body, {**seed, "webhook-id": "evnt_b"})
    else:
        assert not omise_verify(body, omise["Omise-Signature"], str(now + 1), secret)
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body, {**seed, "webhook-timestamp": str(now + 1)})


def test_a_stale_timestamp_fails_standard_webhooks() -> None:
    secret = new_secret()
    body = b'{"key":"charge.complete"}'
    old = signature_headers(body, secrets=[secret], scheme="seed", message_id="evnt_a",
                            timestamp=int(time.time()) - 301)  # fmt: skip
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, old)


def test_both_secrets_sign_while_a_secret_is_rolled() -> None:
    old, new = new_secret(), new_secret()
    body = b'{"key":"charge.failed"}'
    now = int(time.time())
    seed = signature_headers(body, secrets=[new, old], scheme="seed", message_id="e", timestamp=now)
    omise = signature_headers(
        body, secrets=[new, old], scheme="omise", message_id="e", timestamp=now
    )
    current, previous = seed["Omise-Signature"].split(",")
    assert seed_verify(body, current, new) and seed_verify(body, previous, old)
    assert omise_verify(body, omise["Omise-Signature"], str(now), old)
    assert len(seed["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(body, seed)


def test_a_secret_is_32_random_bytes() -> None:
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
