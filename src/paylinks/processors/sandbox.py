"""The deterministic test processor behind test-mode keys: Omise's test cards and what each
does; every other number is refused, so that no real card is ever taken in test mode."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

from paylinks.errors import TestModeLiveCard
from paylinks.processors.protocol import Attempt, Call, Outcome

# Omise: failure messages as the real API words them (omise-compat §6.1).
FAILURE_MESSAGES = {
    "insufficient_fund": (
        "insufficient funds in the account or the card has reached the credit limit"
    ),
    "stolen_or_lost_card": "card is stolen or lost",
    "failed_processing": "failed processing",
    "payment_rejected": "payment rejected",
    "failed_fraud_check": "failed fraud check",
    "invalid_account_number": "the account number is invalid",
}

# Omise's published test cards (any expiry, any security code) and what each one does.
TEST_CARDS: dict[str, str | None] = {
    **dict.fromkeys(
        (
            "4242424242424242", "4111111111111111", "5555555555554444", "5454545454545454",
            "3530111333300000", "3566111111111113", "378282246310005", "6447032400000000001",
            "36021042000004", "6250947000000006",
        ),
        None,
    ),
    **dict.fromkeys(
        ("4111111111140011", "5555551111110011", "3530111111190011", "6250947000000014"),
        "insufficient_fund",
    ),
    **dict.fromkeys(
        ("4111111111130012", "5555551111100012", "3530111111180012", "6250947000000022"),
        "stolen_or_lost_card",
    ),
    **dict.fromkeys(
        (
            "4111111111120013", "5555551111190013", "3530111111170013", "377138160000009",
            "6447032400001111005", "36021042111108", "6250947000000030",
        ),
        "failed_processing",
    ),
    **dict.fromkeys(
        ("4111111111110014", "5555551111180014", "3530111111160014"), "payment_rejected"
    ),
    "4111111111190016": "failed_fraud_check",
    "4111111111180017": "invalid_account_number",
    # Omise: the seed's failing card is Stripe's decline card, not Omise's; we honour the seed.
    "4000000000000002": "payment_rejected",
    # 3-D Secure test cards: charged like any good card unless the charge asks for 3-D Secure.
    "4111111111150002": "3ds_enrollment_fails",
    **dict.fromkeys(
        ("4111111111140003", "5555551111110003", "3530111111190003"), "3ds_validation_fails"
    ),
}  # fmt: skip
THREE_D_SECURE_CARDS = ("3ds_enrollment_fails", "3ds_validation_fails")


class TestProcessor:
    """Deterministic outcomes for Omise's test cards; every other number is refused.

    It remembers every call (`calls`), and with a `journal` appends each as a JSON line to that
    file, so that tests of several server processes can count the calls that really happened
    (`PAYLINKS_TEST_PROCESSOR_JOURNAL`). It only knows its own process's calls: after a crash,
    `lookup` finds nothing, and the sweeper fails the interrupted charge (no money moves in
    test mode)."""

    __test__ = False
    settle_after = timedelta(seconds=10)  # it answers at once: ten seconds is long dead

    def __init__(self, journal: Path | None = None) -> None:
        self._lock = threading.Lock()
        self.calls: list[Call] = []
        self._outcomes: dict[str, Outcome] = {}
        self.journal = journal

    @property
    def charges_made(self) -> int:
        """How often `charge` ran in this process (captures, reversals and refunds apart)."""
        return sum(1 for call in self.calls if call.action in ("charge", "authorize"))

    def vault(self, digits: str) -> str:
        if digits not in TEST_CARDS:
            raise TestModeLiveCard(
                "your request was in test mode, but used a card number that is not a test card; "
                "use one of Omise's test cards, such as 4242 4242 4242 4242"
            )
        return f"test:{TEST_CARDS[digits] or 'success'}"

    async def charge(
        self, *, charge_id: str, card_ref: str, amount: int, currency: str, capture: bool = True,
        link_id: str | None = None, return_uri: str | None = None,
    ) -> Outcome:  # fmt: skip
        action = "charge" if capture else "authorize"
        code = card_ref.removeprefix("test:")
        outcome = (
            Outcome(successful=True)
            if code == "success" or code in THREE_D_SECURE_CARDS
            else Outcome(False, code, FAILURE_MESSAGES.get(code, code.replace("_", " ")))
        )
        self._note(Call(charge_id, card_ref, amount, currency, action), outcome)
        return outcome

    async def capture(
        self, *, charge_id: str, amount: int, currency: str, upstream_id: str | None = None
    ) -> Outcome:
        self._note(Call(charge_id, "", amount, currency, "capture"), None)
        return Outcome(successful=True)

    async def reverse(
        self, *, charge_id: str, amount: int, currency: str, upstream_id: str | None = None
    ) -> Outcome:
        self._note(Call(charge_id, "", amount, currency, "reverse"), None)
        return Outcome(successful=True)

    async def expire(
        self, *, charge_id: str, amount: int, currency: str, upstream_id: str | None = None
    ) -> Outcome:
        # A test-mode QR never reached this processor (the customer's bank is simulated by
        # `mark_as_paid`): expiring it is paylinks' own business, so nothing is noted.
        return Outcome(successful=True)

    async def refund(
        self, *, charge_id: str, refund_id: str, amount: int, currency: str,
        upstream_id: str | None = None,
    ) -> Outcome:  # fmt: skip
        self._note(Call(charge_id, "", amount, currency, "refund", refund_id), None)
        return Outcome(successful=True)

    def _note(self, call: Call, outcome: Outcome | None) -> None:
        with self._lock:
            self.calls.append(call)
            if outcome is not None:
                self._outcomes[call.charge_id] = outcome
            if self.journal is not None:
                line = json.dumps({**asdict(call), "pid": os.getpid()}) + "\n"
                with self.journal.open("a") as out:  # one short append: whole lines
                    out.write(line)

    async def lookup(self, attempt: Attempt) -> Outcome | None:
        with self._lock:
            return self._outcomes.get(attempt.charge_id)

    async def find_refund(self, *, charge_id: str, refund_id: str, upstream_id: str | None) -> bool:
        with self._lock:
            return any(c.action == "refund" and c.reference == refund_id for c in self.calls)


def read_journal(path: Path) -> list[Call]:
    """The calls a journal recorded, from every process that wrote it."""
    if not path.exists():
        return []
    calls = []
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        entry.pop("pid", None)
        calls.append(Call(**entry))
    return calls


def enrolled_in_three_d_secure(card_ref: str) -> bool:
    """Test mode: every test card takes part in 3-D Secure but Omise's unenrolled one."""
    return card_ref != "test:3ds_enrollment_fails"


def passes_three_d_secure(card_ref: str) -> bool:
    """Test mode: authentication succeeds unless the card is one whose validation fails."""
    return card_ref != "test:3ds_validation_fails"
