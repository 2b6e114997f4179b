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
    """One charge the processor was asked to make (never the card number: its reference)."""

    charge_id: str
    card_ref: str
    amount: int
    currency: str


class Processor(Protocol):
    def vault(self, digits: str) -> str:
        """An opaque reference to the card; raises an `ApiError` for a card it will not take."""
        ...

    def charge(self, *, charge_id: str, card_ref: str, amount: int, currency: str) -> Outcome:
        """Charge the card for the paylinks charge `charge_id`."""
        ...

    def lookup(self, charge_id: str) -> Outcome | None:
        """What the processor did for `charge_id`, or None when it never charged for it."""
        ...
