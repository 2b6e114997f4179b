"""The card processor seam: what paylinks asks of whoever moves the money.

A processor receives the card number once, at tokenization, and hands back an opaque reference;
charges then name that reference, so nothing in paylinks needs the number after the token
exists. Every charge is named by the paylinks charge id it is for, so that the processor can be
asked later what it did for that charge (`lookup`), when the request that called it died before
it could record the answer. `sandbox.TestProcessor` is the one behind test-mode keys;
`upstream.processor.OmiseProcessor` the one behind a connected account's live keys.

The calls are coroutines: a live processor is an HTTP call away. Besides an `Outcome`, a call may
raise `Refused` (the processor said no and did nothing: the merchant is told its code) or
`Unknown` (no answer that says what happened: the charge stays pending, never retried blindly,
until `lookup` can tell — see `payments.settlement`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol


@dataclass(frozen=True)
class Outcome:
    """What the processor did. `pending`: nothing final yet (a live charge waiting at the
    processor: asked again later). `upstream_id`: the processor's own id for the charge;
    `card`: the card as the processor describes it (brand, last digits …, never the number)."""

    successful: bool
    failure_code: str | None = None
    failure_message: str | None = None
    upstream_id: str | None = None
    card: dict[str, Any] | None = field(default=None, compare=False)
    pending: bool = False
    held: bool = False  # successful as an authorization only: not captured (yet)
    # Pending on the customer: where they authenticate (3-D Secure at the processor).
    authorize_uri: str | None = None
    # Pending on the customer's bank: the QR a PromptPay customer scans (the processor's image
    # of it, and its text when the processor tells).
    qr_image: str | None = None
    qr_data: str | None = field(default=None, compare=False)
    expired: bool = False  # failed because its time ran out at the processor


class Refused(Exception):
    """The processor refused the call and did nothing (its own error code and message)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status


class Unknown(Exception):
    """The call may or may not have taken effect: it must not be repeated before `lookup`."""


@dataclass(frozen=True)
class Attempt:
    """A pending charge the processor is asked about: its paylinks id, when it was made (to
    look for it by time), and the processor's id for it when one was recorded."""

    charge_id: str
    made_at: datetime
    upstream_id: str | None = None


@dataclass(frozen=True)
class Call:
    """One thing the processor was asked to do (never with the card number: its reference).
    `action`: "charge" (authorize and capture), "authorize" (capture=false), "capture",
    "reverse" or "refund" (then `reference` is the refund's id)."""

    charge_id: str
    card_ref: str
    amount: int
    currency: str
    action: str = "charge"
    reference: str | None = None


class Processor(Protocol):
    # How long a charge may wait for this processor's answer: a pending charge older than this
    # has no request working on it any more, and is settled from `lookup`.
    settle_after: timedelta

    async def charge(
        self, *, charge_id: str, card_ref: str, amount: int, currency: str, capture: bool = True,
        link_id: str | None = None, return_uri: str | None = None,
    ) -> Outcome:  # fmt: skip
        """Charge the card for the paylinks charge `charge_id` (only authorize it when
        `capture` is false). `card_ref`: what pays, as the processor knows it — a card it
        vaulted, or at Omise a token or a source (`omise:src_…`: a pending charge whose QR the
        customer's bank pays). `return_uri`: where the processor's own 3-D Secure step sends the
        customer back (a live processor; the test one authenticates before it is called)."""
        ...

    async def expire(
        self, *, charge_id: str, amount: int, currency: str, upstream_id: str | None = None
    ) -> Outcome:
        """End a pending charge that is waiting for its customer's bank (a PromptPay QR)."""
        ...

    async def capture(
        self, *, charge_id: str, amount: int, currency: str, upstream_id: str | None = None
    ) -> Outcome:
        """Capture what an earlier `charge(capture=False)` authorized."""
        ...

    async def reverse(
        self, *, charge_id: str, amount: int, currency: str, upstream_id: str | None = None
    ) -> Outcome:
        """Release an authorization that was never captured."""
        ...

    async def refund(
        self, *, charge_id: str, refund_id: str, amount: int, currency: str,
        upstream_id: str | None = None,
    ) -> Outcome:  # fmt: skip
        """Give `amount` of a captured charge back; `refund_id` names this refund."""
        ...

    async def lookup(self, attempt: Attempt) -> Outcome | None:
        """What the processor did for the attempt's charge, or None when it never charged."""
        ...

    async def find_refund(self, *, charge_id: str, refund_id: str, upstream_id: str | None) -> bool:
        """Whether the processor made the refund `refund_id` of the charge (a refund whose
        answer was lost)."""
        ...
