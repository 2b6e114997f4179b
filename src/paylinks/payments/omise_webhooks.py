"""Omise's webhooks to paylinks (`POST /omise/webhooks/{account_id}`, one endpoint per connected
account): how a live charge that waits at Omise (a lost answer, 3-D Secure, a PromptPay QR) is
completed as soon as Omise knows, without waiting for the sweeper.

A webhook is believed only when its signature is right and fresh: `Omise-Signature` (one or more
hex HMAC-SHA256, comma-separated while Omise rolls its secret) of `timestamp.body`, keyed with
the base64-decoded secret the merchant gave at connect time, and `Omise-Signature-Timestamp`
within five minutes of now. Anything else is a 401 and changes nothing. Even then the body is
only a hint: the charge it names (a refund's event names its charge) is fetched from Omise,
and the local charge is settled, and its pending refunds that Omise lists are closed, from what
Omise answers (`payments.service.settle_charge`, which settles a charge once whoever comes
first: this webhook, the request's own answer or the sweeper).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import time
from datetime import datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from paylinks.api.pipeline import error_response, json_response, read_body
from paylinks.auth import Principal
from paylinks.charges.service import Charge, get_charge
from paylinks.errors import (
    ApiError,
    AuthenticationFailure,
    BadRequest,
    NotFound,
    ProcessorUnavailable,
)
from paylinks.payments import service
from paylinks.processors.protocol import Refused, Unknown
from paylinks.refunds import service as refunds_service
from paylinks.runtime import Runtime
from paylinks.upstream.connections import SEALING_KEY, connection_of_account
from paylinks.upstream.omise_client import CHARGE_KEY
from paylinks.upstream.processor import REFUND_KEY, OmiseProcessor, outcome_of

log = logging.getLogger("paylinks.upstream")
TOLERANCE_SECONDS = 300  # Omise: five minutes either way


def signed_by(secret: str, *, body: bytes, signatures: str, timestamp: str, now: float) -> bool:
    """Whether one of `signatures` is Omise's for this body and timestamp, and it is fresh."""
    try:
        key = base64.b64decode(secret, validate=True)
        stamp = int(timestamp)
    except (binascii.Error, ValueError):
        return False
    if abs(now - stamp) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(key, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, given.strip()) for given in signatures.split(","))


def named_charge(event: Any) -> str | None:
    """The Omise charge an event is about: its data when a charge, a refund's charge, else
    none (other events need nothing of paylinks)."""
    data = event.get("data") if isinstance(event, dict) else None
    if not isinstance(data, dict):
        raise BadRequest("the body is not an Omise event")
    if data.get("object") == "charge":
        named = data.get("id")
    elif data.get("object") == "refund":
        named = data.get("charge")
    else:
        return None
    return named if isinstance(named, str) and named.startswith("chrg_") else None


async def receive(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    try:
        body = await read_body(request, runtime.settings.max_body_bytes)
        account_id = request.path_params["account_id"]
        principal = await _verified(runtime, request, account_id, body)
        try:
            event = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise BadRequest("the body is not JSON") from None
        upstream_id = named_charge(event)
        if upstream_id is not None:
            await _confirm(runtime, principal, upstream_id)
        return json_response({"object": "ok", "received": True}, 200, {})
    except ApiError as error:
        return error_response(error)


async def _verified(runtime: Runtime, request: Request, account_id: str, body: bytes) -> Principal:
    """The live principal of the account the webhook is for, once its signature holds."""
    found = await runtime.db.read(connection_of_account, account_id=account_id)
    secret = None
    if found is not None:
        secret = found.webhook_secret(await runtime.keyring.get(SEALING_KEY))
    signed = secret is not None and signed_by(
        secret,
        body=body,
        signatures=request.headers.get("omise-signature", ""),
        timestamp=request.headers.get("omise-signature-timestamp", ""),
        now=time.time(),
    )
    if found is None or not signed:
        # One answer for an unknown account, a missing secret and a wrong signature.
        raise AuthenticationFailure("the webhook's signature is not Omise's for this account")
    return Principal(found.account_pk, found.account_id, True, "secret", "")


async def _confirm(runtime: Runtime, principal: Principal, upstream_id: str) -> None:
    """Settle the local charge, and close its refunds, from the Omise charge as Omise holds it
    now (a refund's events name its charge too)."""
    omise = await runtime.processor_of(principal)
    if not isinstance(omise, OmiseProcessor):  # disconnected between the check and now
        raise AuthenticationFailure("this account is no longer connected to Omise")
    try:
        charge = await omise.fetch(upstream_id)
    except Unknown as lost:  # Omise delivers the webhook again later
        raise ProcessorUnavailable(f"Omise could not be asked about {upstream_id}") from lost
    except Refused:
        log.warning("Omise webhook for %s: Omise does not know that charge", upstream_id)
        return
    charge_id = (charge.get("metadata") or {}).get(CHARGE_KEY)
    if not isinstance(charge_id, str):
        return  # not a charge paylinks made (the merchant's own, on the same Omise account)
    try:
        local = await runtime.db.read(get_charge, principal=principal, charge_id=charge_id)
    except NotFound:
        log.warning("Omise charge %s names %s, which is not this account's", upstream_id, charge_id)
        return
    now = principal.clock(runtime.clock.now())
    # Waiting for Omise's answer, for the customer at Omise's 3-D Secure step, or for the bank
    # that pays its QR (an authorization waiting for its capture is left as it is).
    if local.livemode and local.status == "pending" and not local.authorized:
        await runtime.db.write(
            service.settle_charge, principal=principal, charge_id=charge_id,
            outcome=outcome_of(charge), now=now, record=runtime.recorder,
        )  # fmt: skip
    await _close_made_refunds(runtime, principal, local, charge, now)


async def _close_made_refunds(
    runtime: Runtime, principal: Principal, local: Charge, charge: dict[str, Any], now: datetime
) -> None:
    """The charge's pending refunds that Omise's charge lists as made: closed now (a refund Omise
    does not list is left to the sweeper, which may look further than this one page)."""
    waiting = {r.id for r in local.refunds if r.status == "pending"}
    if not waiting:
        return
    listed = (charge.get("refunds") or {}).get("data") or []
    made = {(r.get("metadata") or {}).get(REFUND_KEY) for r in listed if isinstance(r, dict)}
    for refund_id in sorted(waiting & made):
        await runtime.db.write(
            refunds_service.confirm_refund, principal=principal, refund_id=refund_id, now=now,
            record=runtime.recorder,
        )  # fmt: skip
