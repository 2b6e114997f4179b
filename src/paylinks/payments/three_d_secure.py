"""3-D Secure in test mode: paylinks plays the card issuer's authentication step.

A card charge with a `return_uri` (or any card payment on the hosted page of an account with
3-D Secure on) opens as usual — link claimed, token consumed — and then waits, `pending`, with an
`authorize_uri` for the customer instead of going to the processor:

    pending, authentication pending --Authenticate--> authentication passed → processor → settled
                                    --Fail----------> failed (failed_3ds)
                                    --15 minutes----> expired (the link is given back)

A card that is not enrolled (Omise's 4111 1111 1115 0002) fails at once; one whose validation
fails (4111 1111 1114 0003 and its siblings) fails whichever button is pressed. Each step is one
conditional UPDATE, so a double-clicked button settles the charge once.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.charges.service import Charge, get_charge
from paylinks.clock import to_micros
from paylinks.errors import NotFound
from paylinks.eventlog import Recorder
from paylinks.models import accounts, charges, tokens
from paylinks.payments.service import Opened, settle_charge
from paylinks.processors import sandbox
from paylinks.processors.protocol import Outcome

# Omise: failure code of a charge that failed 3-D Secure (paylinks' choice; see compatibility).
FAILURE_CODE = "failed_3ds"
NOT_ENROLLED = Outcome(False, FAILURE_CODE, "the card is not enrolled in 3-D Secure")
NOT_AUTHENTICATED = Outcome(False, FAILURE_CODE, "3-D Secure authentication failed")


def card_ref_of(conn: Connection, charge: Charge) -> str:
    ref = conn.execute(
        sa.select(tokens.c.processor_ref)
        .join(charges, charges.c.token_pk == tokens.c.pk)
        .where(charges.c.pk == charge.pk)
    ).scalar_one()
    return str(ref)


def _mark(conn: Connection, charge: Charge, result: str, now: datetime) -> bool:
    """Record the authentication's result, once, while the charge still waits for it."""
    done = conn.execute(
        charges.update()
        .where(
            charges.c.pk == charge.pk,
            charges.c.status == "pending",
            charges.c.authentication == "pending",
            sa.or_(charges.c.expires_at.is_(None), charges.c.expires_at > to_micros(now)),
        )
        .values(authentication=result, expires_at=None)
    )
    return done.rowcount == 1


def _fail(
    conn: Connection, principal: Principal, charge: Charge, outcome: Outcome, now: datetime,
    record: Recorder,
) -> Charge:  # fmt: skip
    if not _mark(conn, charge, "failed", now):
        return get_charge(conn, principal=principal, charge_id=charge.id)
    return settle_charge(
        conn, principal=principal, charge_id=charge.id, outcome=outcome, now=now, record=record
    )


def refuse_unenrolled(
    conn: Connection, *, principal: Principal, charge_id: str, now: datetime, record: Recorder
) -> Charge:
    """Fail a charge whose card cannot do 3-D Secure (test mode: Omise's unenrolled card)."""
    charge = get_charge(conn, principal=principal, charge_id=charge_id)
    return _fail(conn, principal, charge, NOT_ENROLLED, now, record)


def authenticate(
    conn: Connection,
    *,
    charge_id: str,
    passed: bool,
    now: datetime,
    record: Recorder,
) -> tuple[Principal, Opened]:
    """The customer's answer on the authentication page. Passed: the charge is ready for the
    processor (`Opened` with its card reference). Failed: the charge fails now. A charge that no
    longer waits for authentication is returned as it is (`card_ref` None)."""
    principal = _owner(conn, charge_id)
    charge = get_charge(conn, principal=principal, charge_id=charge_id)
    if charge.authentication != "pending" or charge.status != "pending":
        return principal, Opened(charge)
    card_ref = card_ref_of(conn, charge)
    if not passed or not sandbox.passes_three_d_secure(card_ref):
        return principal, Opened(_fail(conn, principal, charge, NOT_AUTHENTICATED, now, record))
    if not _mark(conn, charge, "passed", now):
        return principal, Opened(get_charge(conn, principal=principal, charge_id=charge_id))
    return principal, Opened(get_charge(conn, principal=principal, charge_id=charge_id), card_ref)


def waiting(conn: Connection, *, charge_id: str) -> tuple[Charge, str]:
    """A test-mode 3-D Secure charge and its merchant's name, for the authentication page (404
    for anything else)."""
    principal = _owner(conn, charge_id)
    name = conn.execute(
        sa.select(accounts.c.name).where(accounts.c.pk == principal.account_pk)
    ).scalar_one()
    return get_charge(conn, principal=principal, charge_id=charge_id), str(name)


def _owner(conn: Connection, charge_id: str) -> Principal:
    """Who a test-mode card charge belongs to: the authentication page has no API key, the
    charge's unguessable id is its credential (as a link's id is the payment page's)."""
    row = conn.execute(
        sa.select(charges.c.account_pk, accounts.c.id.label("account_id"))
        .join(accounts, accounts.c.pk == charges.c.account_pk)
        .where(
            charges.c.id == charge_id,
            charges.c.livemode == sa.false(),
            charges.c.token_pk.is_not(None),
            charges.c.authentication.is_not(None),
        )
    ).first()
    if row is None:
        raise NotFound.for_object("charge", charge_id)
    return Principal(row.account_pk, row.account_id, False, "secret", "")
