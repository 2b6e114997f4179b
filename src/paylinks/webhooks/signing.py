"""Webhook signatures: the seed's and Omise's `Omise-Signature`, and Standard Webhooks headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as random_source

# Who posts a delivery, as the worker and `paylinks listen` both say (next to the signature
# headers they both send, so that a receiver tried with `listen` sees what the worker sends).
USER_AGENT = "paylinks-webhooks"


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(random_source.token_bytes(32)).decode()


def shown_secret(secret: str, scheme: str) -> str:
    """The secret as its endpoint's owner is given it (API, CLI, dashboard) under `scheme`.

    The stored value is always `whsec_` + base64 and is never rewritten, so the 32 key bytes
    stay the same when an endpoint changes scheme; only how it is shown depends on the scheme
    of the moment. The seed scheme keys its HMAC with this very text, so it must stay whole."""
    if scheme == "omise":
        # Omise: the dashboard shows the key's plain base64, and receivers written from Omise's
        # documentation base64-decode the string as given: no `whsec_` (omise-compat §5).
        return secret.removeprefix("whsec_")
    return secret


def _key_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def _hex(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signature_headers(
    body: bytes, *, secrets: list[str], scheme: str, message_id: str, timestamp: int
) -> dict[str, str]:
    """Every header of one delivery attempt, signed with each secret (current first)."""
    if scheme == "omise":
        # Omise: HMAC of "timestamp.body" keyed with the base64-decoded secret (omise-compat §5).
        omise = [_hex(_key_bytes(s), f"{timestamp}.".encode() + body) for s in secrets]
    else:
        # The seed's verifyWebhook: HMAC of the raw body keyed with the secret as text.
        omise = [_hex(s.encode(), body) for s in secrets]
    standard = [
        "v1,"
        + base64.b64encode(
            hmac.new(
                _key_bytes(s), f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256
            ).digest()
        ).decode()
        for s in secrets
    ]
    return {
        "Content-Type": "application/json",
        "Omise-Signature": ",".join(omise),
        "Omise-Signature-Timestamp": str(timestamp),
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(standard),
    }
