"""The card processor seam: what paylinks asks of whoever moves the money.

A processor receives the card number once, at tokenization, and hands back an opaque reference;
charges then name that reference, so nothing in paylinks needs the number after the token
exists. Every charge is named by the paylinks charge id it is for, so that the processor can be
asked later what it did for that charge (`lookup`), when the request that called it died before
it could record the answer. `sandbox.TestProcessor` is the one behind test-mode keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Outcome:
    successful: bool
    failure_code: str | None = None
    failure_message: str | None = None


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
    def vault(self, digits: str) -> str:
        """An opaque reference to the card; raises an `ApiError` for a card it will not take."""
        ...

    def charge(
        self, *, charge_id: str, card_ref: str, amount: int, currency: str, capture: bool = True
    ) -> Outcome:
        """Charge the card for the paylinks charge `charge_id` (only authorize it when
        `capture` is false)."""
        ...

    def capture(self, *, charge_id: str, amount: int, currency: str) -> Outcome:
        """Capture what an earlier `charge(capture=False)` authorized."""
        ...

    def reverse(self, *, charge_id: str, amount: int, currency: str) -> Outcome:
        """Release an authorization that was never captured."""
        ...

    def refund(self, *, charge_id: str, refund_id: str, amount: int, currency: str) -> Outcome:
        """Give `amount` of a captured charge back; `refund_id` names this refund."""
        ...

    def lookup(self, charge_id: str) -> Outcome | None:
        """What the processor did for `charge_id`, or None when it never charged for it."""
        ...
