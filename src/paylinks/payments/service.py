"""The steps of a payment, each one transaction (see `payments.flow`, which drives a card payment
through them, and `payments.settlement`, which finishes one whose request died):

1. `open_charge`: check the request, *claim* the link (`links.claims`), consume the token or
   the source, insert the charge as `pending`; committed before any processor is called;
2. (the processor is called, with no transaction open);
3. `settle_charge`: record the processor's answer once, give the claim back after a decline,
   record the events.

A PromptPay charge stops after step 1 and is completed by the customer's bank (`mark_as_paid`,
`mark_as_failed` in test mode). A unique partial index makes a second successful charge on a
single-use link impossible even if this code regresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.charges.service import Charge, NewCharge, get_charge
from paylinks.clock import to_micros
from paylinks.errors import BadRequest, InvalidAmount, InvalidCharge, MissingCard
from paylinks.eventlog import Recorder
from paylinks.hot import insert
from paylinks.ids import new_id
from paylinks.links import service as links_service
from paylinks.links.claims import claim_link, ensure_payable, release_link
from paylinks.links.service import Link
from paylinks.models import charges
from paylinks.money import check_amount, parse_currency
from paylinks.processors.protocol import Outcome
from paylinks.sources import service as sources_service
from paylinks.tokens import service as tokens_service

# Omise: an uncaptured card authorization is cancelled after 7 days; a PromptPay QR is valid
# for 24 hours.
AUTHORIZATION_HOLD = timedelta(days=7)
QR_LIFETIME = timedelta(hours=24)
# How long a 3-D Secure customer has to authenticate (`payments.three_d_secure`).
AUTHENTICATION_WINDOW = timedelta(minutes=15)


def _customer_amount(new: NewCharge, link: Link) -> tuple[int, str]:
    """A customer-decided link's charge: the amount the customer chose, within its bounds."""
    if new.amount is None:
        raise InvalidAmount("this link's customer decides the amount: send amount")
    if new.currency is not None and parse_currency(new.currency).code != link.currency:
        raise InvalidCharge(f"currency does not match the link's currency {link.currency}")
    currency = parse_currency(link.currency)
    check_amount(new.amount, currency)
    low = link.amount_min if link.amount_min is not None else currency.minimum
    high = link.amount_max if link.amount_max is not None else currency.maximum
    if not low <= new.amount <= high:
        raise InvalidAmount(f"amount must be between {low} and {high} for this link")
    return new.amount, link.currency


def _amount_and_currency(new: NewCharge, link: Link | None) -> tuple[int, str]:
    if link is not None and link.customer_decides:
        return _customer_amount(new, link)
    if link is not None:
        if new.amount is not None and new.amount != link.amount:
            raise InvalidCharge(
                f"amount {new.amount} does not match the link's amount {link.amount}"
            )
        if new.currency is not None and parse_currency(new.currency).code != link.currency:
            raise InvalidCharge(f"currency does not match the link's currency {link.currency}")
        return link.amount, link.currency
    if new.amount is None or new.currency is None:
        raise InvalidCharge("amount and currency are required (or a link to take them from)")
    currency = parse_currency(new.currency)
    return check_amount(new.amount, currency), currency.code


@dataclass(frozen=True)
class Opened:
    """A charge as its first transaction left it. `card_ref` is set for a card charge that now
    waits, pending, for the processor (then `settle_charge`); None when the charge needs
    nothing more from this request (a PromptPay charge waits for the customer's bank)."""

    charge: Charge
    card_ref: str | None = None

    @property
    def id(self) -> str:
        """The charge's id: what an Idempotency-Key is bound to when this commits."""
        return self.charge.id


def open_charge(
    conn: Connection, *, principal: Principal, new: NewCharge, now: datetime, record: Recorder
) -> Opened:
    """The first step of a payment, committed before any processor is called: check the request,
    claim the link (card payments), consume the token or source, and insert the charge as
    pending. Nothing is written when an error is raised."""
    if (new.token_id is None) == (new.source_id is None):
        raise MissingCard("send either card (a token id) or source (a source id)")
    link = None
    if new.link_id is not None:
        link = links_service.get_link(conn, principal=principal, link_id=new.link_id)
    amount, currency = _amount_and_currency(new, link)
    values: dict[str, Any] = {
        "amount": amount,
        "currency": currency,
        "link_pk": link.pk if link else None,
        "single_use_link": link is not None and not link.multiple,
        "status": "pending",
        "capture": new.capture,
        "return_uri": new.return_uri,
    }
    card_ref = None
    if new.source_id is not None and principal.livemode:
        # Omise's source: the link is claimed now, as for a card (the QR is paid at Omise,
        # where the link's rules cannot be checked again), and Omise is asked next.
        if link is not None:
            claim_link(conn, principal=principal, link=link, now=now)
        source = sources_service.adopt_upstream_source(
            conn, principal=principal, source_id=new.source_id, amount=amount, currency=currency,
            now=now,
        )  # fmt: skip
        card_ref = f"omise:{source.id}"
        values.update(source_pk=source.pk, expires_at=to_micros(now + QR_LIFETIME))
    elif new.source_id is not None:
        source = sources_service.consume_source(conn, principal=principal, source_id=new.source_id)
        if (source.amount, source.currency) != (amount, currency):
            raise InvalidCharge("the source's amount and currency must match the charge's")
        if link is not None:
            ensure_payable(link, now)
        # Omise: a PromptPay QR can be paid for 24 hours; then the charge expires.
        values.update(source_pk=source.pk, expires_at=to_micros(now + QR_LIFETIME))
    else:
        assert new.token_id is not None
        if link is not None:
            claim_link(conn, principal=principal, link=link, now=now)  # before the processor
        token_pk, vaulted = _take_token(conn, principal, new.token_id, now)
        card_ref = vaulted.processor_ref
        # A live card is known from the processor's answer (`settle_charge`), not before.
        card = orjson.dumps(vaulted.card).decode() if vaulted.card else None
        values.update(token_pk=token_pk, card=card)
        if new.return_uri is not None and not principal.livemode:
            # 3-D Secure: the customer authenticates before the processor is asked.
            window = to_micros(now + AUTHENTICATION_WINDOW)
            values.update(authentication="pending", expires_at=window)
    charge_id = new_id("chrg", livemode=principal.livemode)
    _INSERT_CHARGE.execute(
        conn,
        {
            **_OPTIONAL_COLUMNS,
            "id": charge_id,
            "account_pk": principal.account_pk,
            "livemode": principal.livemode,
            "description": new.description,
            "metadata": orjson.dumps(new.metadata).decode(),
            "customer_email": new.customer_email,
            "created_at": to_micros(now),
            **values,
        },
    )
    charge = get_charge(conn, principal=principal, charge_id=charge_id)
    if not _announced_when_settled(charge):
        # A source's or a 3-D Secure charge: visible as pending to the merchant from now on.
        record(conn, key="charge.create", principal=principal, subject=charge, now=now)
    return Opened(charge, card_ref)


# A hot statement (paylinks.hot): every column a new charge may be given, those it is not
# given NULL.
_OPTIONAL_COLUMNS = dict.fromkeys(("source_pk", "expires_at", "token_pk", "card", "authentication"))
_INSERT_CHARGE = insert(
    charges,
    *("id", "account_pk", "livemode", "description", "metadata", "customer_email", "created_at"),
    *("amount", "currency", "link_pk", "single_use_link", "status", "capture", "return_uri"),
    *_OPTIONAL_COLUMNS,
)


def _announced_when_settled(charge: Charge) -> bool:
    """Whether a charge's `charge.create` waits for the processor's answer: a card charge that
    goes to the processor at once. A source's charge (it waits for the customer's bank) and a
    test 3-D Secure charge (for its customer) are announced when they open; a live card charge
    that Omise sends to 3-D Secure, when Omise says so (`_note_upstream`)."""
    return charge.source is None and charge.authentication is None


def _take_token(
    conn: Connection, principal: Principal, token_id: str, now: datetime
) -> tuple[int, tokens_service.VaultedCard]:
    """Test mode: paylinks' own token, consumed. Live mode: Omise's, made by Omise.js against
    the account's Omise (3-D Secure, if any, is then Omise's too: `return_uri` goes upstream)."""
    if principal.livemode:
        return tokens_service.adopt_upstream_token(
            conn, principal=principal, token_id=token_id, now=now
        )
    return tokens_service.consume_token(conn, principal=principal, token_id=token_id)


def settle_charge(
    conn: Connection,
    *,
    principal: Principal,
    charge_id: str,
    outcome: Outcome,
    now: datetime,
    record: Recorder,
) -> Charge:
    """The last step of a card payment: record the processor's answer on the pending charge,
    give the link back after a decline, and record `charge.create` and its outcome. Done once:
    a charge already settled (by the request or by the sweeper, whichever came second) is
    returned as it is."""
    charge = get_charge(conn, principal=principal, charge_id=charge_id)
    if outcome.pending:  # nothing final at the processor yet: only what it said so far
        _note_upstream(conn, charge, outcome, record, principal, now)
        return get_charge(conn, principal=principal, charge_id=charge_id)
    values = {**_settled_values(charge, outcome, principal, now), **_upstream_values(outcome)}
    if charge.authentication == "pending":  # a live charge back from Omise's 3-D Secure
        values["authentication"] = "passed" if outcome.successful else "failed"
    done = conn.execute(
        charges.update()
        .where(
            charges.c.pk == charge.pk,
            charges.c.status == "pending",
            charges.c.authorized_at.is_(None),
        )
        .values(**values)
    )
    if done.rowcount != 1:
        return charge
    if not outcome.successful and charge.link_id is not None:
        link = links_service.get_link(conn, principal=principal, link_id=charge.link_id)
        release_link(conn, link=link)
    settled = get_charge(conn, principal=principal, charge_id=charge_id)
    if _announced_when_settled(charge):
        record(conn, key="charge.create", principal=principal, subject=settled, now=now)
    if settled.status != "pending":  # an authorization has no outcome until it is captured
        _record_outcome(conn, record, principal, settled, now)
    return settled


def _upstream_values(outcome: Outcome) -> dict[str, Any]:
    """What a live processor said of the charge: its own id, and the card as it describes it."""
    values: dict[str, Any] = {}
    if outcome.upstream_id is not None:
        values["upstream_id"] = outcome.upstream_id
    if outcome.card:
        values["card"] = orjson.dumps(outcome.card).decode()
    return values


def _note_upstream(
    conn: Connection, charge: Charge, outcome: Outcome, record: Recorder, principal: Principal,
    now: datetime,
) -> None:  # fmt: skip
    """What a live processor said of a charge still pending. When Omise asks for 3-D Secure the
    charge now waits for its customer, and is announced (`charge.create`, with its
    `authorize_uri`) as a test-mode 3-D Secure charge is when it opens: once."""
    values = _upstream_values(outcome)
    if values:
        conn.execute(
            charges.update()
            .where(charges.c.pk == charge.pk, charges.c.status == "pending")
            .values(**values)
        )
    if charge.source is not None:  # PromptPay: the QR the customer scans, as Omise made it
        if outcome.qr_image is not None:
            sources_service.note_upstream_qr(
                conn, source_pk=charge.source.pk, image_uri=outcome.qr_image, data=outcome.qr_data
            )
        return
    if outcome.authorize_uri is None:
        return
    waits = conn.execute(
        charges.update()
        .where(
            charges.c.pk == charge.pk,
            charges.c.status == "pending",
            charges.c.authentication.is_(None),
        )
        .values(authentication="pending", upstream_authorize_uri=outcome.authorize_uri)
    )
    if waits.rowcount == 1:
        announced = get_charge(conn, principal=principal, charge_id=charge.id)
        record(conn, key="charge.create", principal=principal, subject=announced, now=now)


def _settled_values(
    charge: Charge, outcome: Outcome, principal: Principal, now: datetime
) -> dict[str, Any]:
    if outcome.expired:  # its time ran out at the processor (a QR never paid)
        return {"status": "expired", "expired_at": to_micros(now)}
    if not outcome.successful:
        return {
            "status": "failed",
            "failure_code": outcome.failure_code,
            "failure_message": outcome.failure_message,
        }
    if not charge.capture:  # authorized only: captured or reversed later, or it lapses
        return {"authorized_at": to_micros(now), "expires_at": to_micros(now + AUTHORIZATION_HOLD)}
    return {
        "status": "successful",
        "authorized_at": to_micros(now),
        "paid_at": to_micros(now),
        "transaction_id": new_id("trxn", livemode=principal.livemode),
    }


def _record_outcome(
    conn: Connection, record: Recorder, principal: Principal, charge: Charge, now: datetime
) -> None:
    """The seed's keys: `charge.complete` when a charge succeeds, `charge.failed` when it fails;
    Omise's `charge.expire` when its time ran out."""
    keys = {"successful": "charge.complete", "expired": "charge.expire"}
    key = keys.get(charge.status, "charge.failed")
    record(conn, key=key, principal=principal, subject=charge, now=now)


def _pending(conn: Connection, principal: Principal, charge_id: str, action: str) -> Charge:
    # Found first: another mode's (or account's) charge is a 404, like any other route.
    charge = get_charge(conn, principal=principal, charge_id=charge_id)
    if principal.livemode:
        raise BadRequest(f"{action} is available in test mode only")
    if charge.status != "pending":
        raise InvalidCharge(f"charge {charge_id} is {charge.status}, not pending")
    if charge.source is None:
        raise InvalidCharge(f"charge {charge_id} is a card charge; {action} completes sources")
    return charge


def mark_as_paid(
    conn: Connection, *, principal: Principal, charge_id: str, now: datetime, record: Recorder
) -> Charge:
    """Complete a pending (PromptPay) charge as the customer's bank would (test mode)."""
    charge = _pending(conn, principal, charge_id, "mark_as_paid")
    if charge.link_id is not None:
        link = links_service.get_link(conn, principal=principal, link_id=charge.link_id)
        claim_link(conn, principal=principal, link=link, now=now)
    conn.execute(
        charges.update()
        .where(charges.c.pk == charge.pk, charges.c.status == "pending")
        .values(
            status="successful",
            authorized_at=to_micros(now),
            paid_at=to_micros(now),
            transaction_id=new_id("trxn", livemode=principal.livemode),
        )
    )
    paid = get_charge(conn, principal=principal, charge_id=charge_id)
    _record_outcome(conn, record, principal, paid, now)
    return paid


def mark_as_failed(
    conn: Connection, *, principal: Principal, charge_id: str, now: datetime, record: Recorder
) -> Charge:
    """Fail a pending charge (test mode): the customer never paid."""
    charge = _pending(conn, principal, charge_id, "mark_as_failed")
    conn.execute(
        charges.update()
        .where(charges.c.pk == charge.pk, charges.c.status == "pending")
        .values(
            status="failed", failure_code="payment_rejected", failure_message="payment rejected"
        )
    )
    failed = get_charge(conn, principal=principal, charge_id=charge_id)
    _record_outcome(conn, record, principal, failed, now)
    return failed
