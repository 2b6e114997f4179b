"""What one page request does in one transaction, composed from the link, token, source and
charge runtime. The payment rules stay in those runtime; this module adds only the page's
idempotency: an attempt is named by its form nonce, kept in the charge's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.branding.service import Branding, get_branding
from paylinks.charges import service as charges_service
from paylinks.charges.service import Charge, NewCharge
from paylinks.errors import NotFound
from paylinks.eventlog import Recorder
from paylinks.links import claims
from paylinks.links import service as links_service
from paylinks.links.service import Link
from paylinks.models import charges, links
from paylinks.payments import service as payments
from paylinks.payments.service import Opened
from paylinks.receipts import outbox as receipts
from paylinks.sources import service as sources_service
from paylinks.tokens import service as tokens_service
from paylinks.upstream.connections import connection_of

# Reserved metadata key of charges made on the page: the form nonce that made them.
# Omise: the real hosted page leaves metadata empty; ours shows this one key in the API.
NONCE_KEY = "checkout_nonce"


@dataclass(frozen=True)
class CheckoutLink:
    link: Link
    principal: Principal  # the link's account and mode, as if its secret key had called
    merchant: str  # the branding's display name, else the account's name
    branding: Branding | None = None
    # A card payment holds the link's last place until the processor answers (or the customer
    # authenticates): the page then says a payment is in progress, not "paid".
    held: bool = False
    three_d_secure: bool = False  # the account asks card customers to authenticate
    # A live link's account's Omise public key (its page tokenizes with Omise.js); None when
    # the account has not connected an Omise account, and for test links.
    omise_public_key: str | None = None


def find_link(conn: Connection, *, link_id: str) -> CheckoutLink | None:
    found = links_service.find_checkout_link(conn, link_id=link_id)
    if found is None:
        return None
    link, principal = found.link, found.principal
    branding = get_branding(conn, account_pk=principal.account_pk)
    merchant = (branding.display_name if branding else None) or found.account_name
    held = link.used or link.usage_limit is not None
    if held:  # only then can a payment in progress be what stops it
        held = claims.is_held(conn, link=link)
    omise = connection_of(conn, account_pk=principal.account_pk) if link.livemode else None
    return CheckoutLink(
        link, principal, merchant, branding, held, found.three_d_secure,
        omise.public_key if omise else None,
    )  # fmt: skip


def find_attempt(conn: Connection, *, checkout: CheckoutLink, nonce: str) -> Charge | None:
    """The charge an earlier submission of this form made on the link, if any."""
    pattern = f'%"{NONCE_KEY}":"{nonce}"%'  # the nonce is hex: no LIKE wildcards in it
    rows = conn.execute(
        sa.select(charges.c.id, charges.c.metadata).where(
            charges.c.link_pk == checkout.link.pk, charges.c.metadata.like(pattern)
        )
    ).all()
    for row in rows:
        if orjson.loads(row.metadata).get(NONCE_KEY) == nonce:
            return charges_service.get_charge(conn, principal=checkout.principal, charge_id=row.id)
    return None


def _serialise_attempts(conn: Connection, checkout: CheckoutLink) -> None:
    """Make concurrent submissions of one form take turns, so the second finds the first's
    charge. SQLite's write transaction already holds the database lock."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(links.c.pk).where(links.c.pk == checkout.link.pk).with_for_update())


def _new_charge(
    checkout: CheckoutLink, nonce: str, email: str | None, amount: int | None, **payment: str | None
) -> NewCharge:
    """`amount` is the customer's, for a link whose customer decides it (None: the link's)."""
    fields: dict[str, Any] = {"token_id": None, "source_id": None, "return_uri": None, **payment}
    return NewCharge(
        amount=amount,
        currency=None,
        link_id=checkout.link.id,
        description=None,
        metadata={NONCE_KEY: nonce},
        customer_email=email,
        **fields,
    )


def _hold_receipt(
    conn: Connection, opened: Opened, email: str | None, language: str | None, now: datetime
) -> None:
    """The receipt e-mail the customer asked for, held until the charge is paid (released by
    the event recorder in the paying transaction). `language` None: this installation sends no
    receipts."""
    if email and language:
        receipts.hold(conn, charge_pk=opened.charge.pk, email=email, language=language, now=now)


def open_card_payment(
    conn: Connection,
    *,
    checkout: CheckoutLink,
    nonce: str,
    email: str | None,
    now: datetime,
    record: Recorder,
    receipt_language: str | None = None,
    card: dict[str, Any] | None = None,
    processor_ref: str | None = None,
    omise_token: str | None = None,
    amount: int | None = None,
    return_uri: str | None = None,
) -> Charge | Opened:
    """The first step of paying by card (see `payments.flow`): a token and a pending charge,
    with the link claimed; or the charge this form already made. Test mode: a token for the
    `card` the processor has vaulted (`processor_ref`). Live mode: `omise_token`, made in the
    customer's browser by Omise.js (the number never reached this server), adopted as used by
    `open_charge`, so that it pays once however often it is posted. With `return_uri` the
    customer authenticates (3-D Secure: ours in test mode, Omise's in live mode) and is sent
    back there. Raises what `open_charge` raises (`LinkNotPayable`, ...), writing nothing then."""
    _serialise_attempts(conn, checkout)
    earlier = find_attempt(conn, checkout=checkout, nonce=nonce)
    if earlier is not None:
        return earlier
    token_id = omise_token
    if token_id is None:
        assert card is not None and processor_ref is not None
        token_id = tokens_service.create_token(
            conn, principal=checkout.principal, card=card, processor_ref=processor_ref, now=now
        ).id
    opened = payments.open_charge(
        conn,
        principal=checkout.principal,
        new=_new_charge(checkout, nonce, email, amount, token_id=token_id, return_uri=return_uri),
        now=now,
        record=record,
    )
    _hold_receipt(conn, opened, email, receipt_language, now)
    return opened


def start_promptpay(
    conn: Connection,
    *,
    checkout: CheckoutLink,
    nonce: str,
    email: str | None,
    now: datetime,
    record: Recorder,
    receipt_language: str | None = None,
    amount: int | None = None,
    omise_source: str | None = None,
) -> Charge | Opened:
    """A PromptPay source and its pending charge; or the charge this form already made. Test
    mode: paylinks' own source, and the charge waits for `complete_promptpay`. Live mode:
    `omise_source`, made at the account's Omise, and the charge opened for Omise to be asked
    (`payments.flow.finish`). Raises what `open_charge` raises, writing nothing then."""
    _serialise_attempts(conn, checkout)
    earlier = find_attempt(conn, checkout=checkout, nonce=nonce)
    if earlier is not None:
        return earlier
    link = checkout.link
    source_id = omise_source
    if source_id is None:
        source_id = sources_service.create_source(
            conn,
            principal=checkout.principal,
            type="promptpay",
            amount=amount if amount is not None else link.amount,
            currency=link.currency,
            now=now,
        ).id
    opened = payments.open_charge(
        conn,
        principal=checkout.principal,
        new=_new_charge(checkout, nonce, email, amount, source_id=source_id),
        now=now,
        record=record,
    )
    _hold_receipt(conn, opened, email, receipt_language, now)
    return opened


def find_charge(conn: Connection, *, checkout: CheckoutLink, charge_id: str) -> Charge | None:
    """A charge of this link (another link's, or an unknown id: None)."""
    try:
        charge = charges_service.get_charge(conn, principal=checkout.principal, charge_id=charge_id)
    except NotFound:
        return None
    return charge if charge.link_id == checkout.link.id else None


def complete_promptpay(
    conn: Connection,
    *,
    checkout: CheckoutLink,
    charge_id: str,
    paid: bool,
    now: datetime,
    record: Recorder,
) -> Charge:
    """Test mode: end a pending charge of this link as paid or failed, as the API's
    mark_as_paid / mark_as_failed do. A charge already ended is returned as it is."""
    principal = checkout.principal
    charge = find_charge(conn, checkout=checkout, charge_id=charge_id)
    if charge is None:
        raise NotFound.for_object("charge", charge_id)
    if charge.status != "pending":
        return charge
    complete = payments.mark_as_paid if paid else payments.mark_as_failed
    return complete(conn, principal=principal, charge_id=charge_id, now=now, record=record)
