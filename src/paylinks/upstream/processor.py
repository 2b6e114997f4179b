"""The live processor: a connected account's charges, captures, reversals and refunds made at its
own Omise, behind the same seam as the test processor (`processors.protocol`).

`payments.flow` calls it only after the local charge (and its link's claim) is committed, and
never twice for one paylinks charge: an answer that says nothing (`Unknown`) leaves the charge
pending until `lookup` finds out at Omise what happened — by the Omise id when one was recorded,
otherwise by the paylinks id every charge carries in its metadata. Should Omise ever hold two
charges for one paylinks charge, the extra one is given back (refunded or reversed) at once
and logged as an error for the operator.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, TypeVar

import httpx

from paylinks.auth import Principal
from paylinks.config import Settings
from paylinks.db import Database
from paylinks.keyring import Keyring
from paylinks.processors.protocol import Attempt, Outcome, Processor, Refused, Unknown
from paylinks.upstream.connections import SEALING_KEY, connection_of
from paylinks.upstream.omise_api import UpstreamRefused
from paylinks.upstream.omise_client import OmiseClient, UpstreamUnknown

T = TypeVar("T")
log = logging.getLogger("paylinks.upstream")
LINK_KEY = "paylinks_link_id"
REFUND_KEY = "paylinks_refund_id"
# What of Omise's card object a charge keeps (never more than Omise shows: no number exists).
CARD_FIELDS = (
    "object", "id", "livemode", "location", "deleted", "street1", "street2", "city", "state",
    "phone_number", "postal_code", "country", "financing", "bank", "brand", "fingerprint",
    "first_digits", "last_digits", "name", "expiration_month", "expiration_year",
    "security_code_check", "tokenization_method", "created_at",
)  # fmt: skip
# Omise's clock and ours differ a little; the window of a lost charge is widened by this.
CLOCK_MARGIN = timedelta(minutes=5)


def outcome_of(charge: dict[str, Any]) -> Outcome:
    """An Omise charge as the seam's outcome: successful (or authorized, for capture=false),
    failed with Omise's code, or pending (3-D Secure, or not final yet at Omise)."""
    status = charge.get("status")
    upstream_id = str(charge.get("id"))
    card = charge.get("card")
    kept = {k: card.get(k) for k in CARD_FIELDS if k in card} if isinstance(card, dict) else None
    if status == "successful":
        return Outcome(True, upstream_id=upstream_id, card=kept)
    if status == "pending" and charge.get("authorized"):
        return Outcome(True, upstream_id=upstream_id, card=kept, held=True)
    if status in ("failed", "expired", "reversed"):
        code = str(charge.get("failure_code") or status)
        message = str(charge.get("failure_message") or code.replace("_", " "))
        return Outcome(
            False, code, message, upstream_id=upstream_id, card=kept, expired=status == "expired"
        )
    authorize_uri = charge.get("authorize_uri")
    image, data = _scannable(charge)
    return Outcome(
        False, upstream_id=upstream_id, card=kept, pending=True,
        authorize_uri=authorize_uri if isinstance(authorize_uri, str) and authorize_uri else None,
        qr_image=image, qr_data=data,
    )  # fmt: skip


def _scannable(charge: dict[str, Any]) -> tuple[str | None, str | None]:
    """A pending source charge's QR, as Omise describes it: its image's address (Omise serves
    it), and its text when Omise gives it."""
    source = charge.get("source")
    code = source.get("scannable_code") if isinstance(source, dict) else None
    if not isinstance(code, dict) or not isinstance(code.get("image"), dict):
        return None, None
    uri, data = code["image"].get("download_uri"), code.get("raw_data")
    if not isinstance(uri, str) or not uri.startswith(("https://", "http://")):
        return None, None
    return uri, data if isinstance(data, str) else None


class OmiseProcessor:
    """One connected account's Omise, as a processor."""

    def __init__(self, client: OmiseClient, *, settle_after: timedelta) -> None:
        self._omise = client
        self.settle_after = settle_after

    async def _ask(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except UpstreamRefused as refused:
            raise Refused(refused.code, refused.message, refused.status) from None
        except UpstreamUnknown as lost:
            raise Unknown(lost.message) from None

    async def charge(
        self, *, charge_id: str, card_ref: str, amount: int, currency: str, capture: bool = True,
        link_id: str | None = None, return_uri: str | None = None,
    ) -> Outcome:  # fmt: skip
        # Omise: with `return_uri`, Omise runs 3-D Secure when the card or the account needs it,
        # and answers a pending charge with the `authorize_uri` to send the customer to.
        extra: dict[str, Any] = {"return_uri": return_uri} if return_uri else {}
        paid_with = card_ref.removeprefix("omise:")
        if paid_with.startswith("src_"):  # PromptPay: pending until the customer's bank pays
            extra["source"] = paid_with
        else:
            extra.update(card=paid_with, capture=capture)
        made = await self._ask(self._omise.create_charge(
            paylinks_charge_id=charge_id, amount=amount, currency=currency,
            metadata={LINK_KEY: link_id} if link_id else {}, **extra,
        ))  # fmt: skip
        return outcome_of(made)

    async def expire(
        self, *, charge_id: str, amount: int, currency: str, upstream_id: str | None = None
    ) -> Outcome:
        return outcome_of(await self._ask(self._omise.expire_charge(_known(upstream_id))))

    async def make_source(self, *, amount: int, currency: str) -> str:
        """A PromptPay source at Omise (the hosted page's, which has no Omise.js for it)."""
        made = await self._ask(
            self._omise.create_source(type="promptpay", amount=amount, currency=currency)
        )
        return str(made.get("id"))

    async def capture(
        self, *, charge_id: str, amount: int, currency: str, upstream_id: str | None = None
    ) -> Outcome:
        return outcome_of(await self._ask(self._omise.capture_charge(_known(upstream_id))))

    async def reverse(
        self, *, charge_id: str, amount: int, currency: str, upstream_id: str | None = None
    ) -> Outcome:
        await self._ask(self._omise.reverse_charge(_known(upstream_id)))
        return Outcome(True, upstream_id=upstream_id)

    async def refund(
        self, *, charge_id: str, refund_id: str, amount: int, currency: str,
        upstream_id: str | None = None,
    ) -> Outcome:  # fmt: skip
        await self._ask(self._omise.refund_charge(
            _known(upstream_id), amount=amount, metadata={REFUND_KEY: refund_id}
        ))  # fmt: skip
        return Outcome(True, upstream_id=upstream_id)

    async def find_refund(self, *, charge_id: str, refund_id: str, upstream_id: str | None) -> bool:
        made = await self._ask(self._omise.refunds_of(_known(upstream_id)))
        return any((r.get("metadata") or {}).get(REFUND_KEY) == refund_id for r in made)

    async def fetch(self, upstream_id: str) -> dict[str, Any]:
        """The Omise charge as Omise holds it now (what its webhooks are confirmed by)."""
        return await self._ask(self._omise.retrieve_charge(upstream_id))

    async def lookup(self, attempt: Attempt) -> Outcome | None:
        if attempt.upstream_id is not None:
            return outcome_of(await self._ask(self._omise.retrieve_charge(attempt.upstream_id)))
        found = await self._ask(self._omise.find_charges(
            paylinks_charge_id=attempt.charge_id,
            around=attempt.made_at,
            window=self.settle_after + CLOCK_MARGIN,
        ))  # fmt: skip
        if not found:
            return None
        # Never more than one, by construction; if ever, keep a successful one, give back the rest.
        found.sort(key=lambda c: c.get("status") != "successful")
        for extra in found[1:]:
            await self._give_back(attempt.charge_id, extra)
        return outcome_of(found[0])

    async def _give_back(self, charge_id: str, extra: dict[str, Any]) -> None:
        log.error(
            "Omise holds more than one charge for paylinks charge %s: giving back %s (%s)",
            charge_id, extra.get("id"), extra.get("status"),
        )  # fmt: skip
        upstream_id = str(extra.get("id"))
        if extra.get("status") == "successful":
            amount = int(extra.get("amount", 0)) - int(extra.get("refunded_amount", 0) or 0)
            if amount > 0:
                await self._ask(self._omise.refund_charge(
                    upstream_id, amount=amount, metadata={REFUND_KEY: "duplicate"}
                ))  # fmt: skip
        elif extra.get("status") == "pending" and extra.get("authorized"):
            await self._ask(self._omise.reverse_charge(upstream_id))


def _known(upstream_id: str | None) -> str:
    if upstream_id is None:  # a live charge settled without Omise's id: nothing to name
        raise Refused("invalid_charge", "this charge has no Omise charge to act on")
    return upstream_id


class LiveProcessors:
    """The processor behind each account's live keys, read at every use (so that disconnecting
    stops live payments at once), over one HTTP client for the process, closed with it."""

    def __init__(self, db: Database, *, settings: Settings, keyring: Keyring) -> None:
        self._db = db
        self._settings = settings
        self._keyring = keyring
        self._http: httpx.AsyncClient | None = None
        # Asked only after every call could have answered (see `settings`).
        self._settle_after = timedelta(
            seconds=max(settings.omise_settle_after_seconds, settings.omise_timeout_seconds + 1)
        )

    async def __call__(self, principal: Principal) -> Processor | None:
        found = await self._db.read(connection_of, account_pk=principal.account_pk)
        if found is None:
            return None
        if self._http is None:  # made on first use, on the loop that uses it
            self._http = httpx.AsyncClient()
        secret_key = found.secret_key(await self._keyring.get(SEALING_KEY))
        client = OmiseClient(
            self._http,
            api_url=self._settings.omise_api_url,
            secret_key=secret_key,
            timeout=self._settings.omise_timeout_seconds,
        )
        return OmiseProcessor(client, settle_after=self._settle_after)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
