"""Tokens: validate a card, hand it to the processor's vault, keep only what may be kept."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.clock import format_time, from_micros, to_micros
from paylinks.db import dialect_insert
from paylinks.errors import InvalidCardToken, NotFound, UsedToken
from paylinks.hot import Hot
from paylinks.ids import new_id
from paylinks.models import charges, tokens
from paylinks.pagination import bound_scope, scope_params
from paylinks.tokens import cards

if TYPE_CHECKING:
    from paylinks.tokens.schemas import CardInput


@dataclass(frozen=True)
class Token:
    pk: int
    id: str
    livemode: bool
    used: bool
    card: dict[str, Any]
    charge_status: str
    created_at: datetime


@dataclass(frozen=True)
class VaultedCard:
    """What a charge needs from a token it has just consumed."""

    card: dict[str, Any]
    processor_ref: str


def card_object(
    card: CardInput, valid: ValidCard, *, livemode: bool, now: datetime
) -> dict[str, Any]:
    """Omise's card object (omise-compat §4.4): brand, last digits, keyed fingerprint."""
    return {
        "object": "card",
        "id": new_id("card", livemode=livemode),
        "livemode": livemode,
        "location": None,
        "deleted": False,
        **{field: card.address.get(field) for field in
           ("street1", "street2", "city", "state", "phone_number", "postal_code")},
        "country": (card.address.get("country") or "").lower() or None,
        "financing": "credit",
        "bank": None,
        "brand": valid.facts.brand,
        "fingerprint": valid.facts.fingerprint,
        "first_digits": None,
        "last_digits": valid.facts.last_digits,
        "name": card.name,
        "expiration_month": valid.expiration_month,
        "expiration_year": valid.expiration_year,
        "security_code_check": valid.code_given,
        "tokenization_method": None,
        "created_at": format_time(now),
    }  # fmt: skip


@dataclass(frozen=True)
class ValidCard:
    digits: str  # for the processor's vault only; never stored
    facts: cards.CardFacts
    expiration_month: int
    expiration_year: int  # four digits
    code_given: bool

    def __repr__(self) -> str:
        return f"ValidCard(brand={self.facts.brand!r}, last_digits={self.facts.last_digits!r})"


def validate_card(card: CardInput, *, now: datetime, secret: bytes) -> ValidCard:
    """The checked card; `InvalidCard` (never echoing the number) otherwise."""
    digits, facts = cards.check_number(card.number, secret=secret)
    month, year = cards.check_expiry(card.expiration_month, card.expiration_year, now=now)
    code_given = cards.check_security_code(card.security_code, brand=facts.brand)
    return ValidCard(digits, facts, month, year, code_given)


def create_token(
    conn: Connection,
    *,
    principal: Principal,
    card: dict[str, Any],
    processor_ref: str,
    now: datetime,
) -> Token:
    """Store a token for a card the processor has already vaulted."""
    token_id = new_id("tokn", livemode=principal.livemode)
    pk = conn.execute(
        tokens.insert()
        .values(
            id=token_id,
            account_pk=principal.account_pk,
            livemode=principal.livemode,
            used=False,
            card=orjson.dumps(card).decode(),
            processor_ref=processor_ref,
            created_at=to_micros(now),
        )
        .returning(tokens.c.pk)
    ).scalar_one()
    return Token(pk, token_id, principal.livemode, False, card, "unknown", now)


TOKEN_ID = re.compile(r"^tokn_(?:test_)?[0-9a-z]{19}$")


def check_token_id(token_id: str) -> str:
    """The id if it looks like a token id. Anything else is refused without being echoed: a
    card number sent where a token belongs must not come back in an error."""
    if not TOKEN_ID.match(token_id):
        raise InvalidCardToken("card must be a token id (tokn_…) created with POST /tokens")
    return token_id


def get_token(conn: Connection, *, principal: Principal, token_id: str) -> Token:
    if not TOKEN_ID.match(token_id):
        raise NotFound("token was not found")
    row = conn.execute(
        sa.select(tokens, charges.c.status.label("charge_status"))
        .outerjoin(charges, charges.c.token_pk == tokens.c.pk)
        .where(
            tokens.c.id == token_id,
            tokens.c.account_pk == principal.account_pk,
            tokens.c.livemode == principal.livemode,
        )
    ).first()
    if row is None:
        raise NotFound.for_object("token", token_id)
    return Token(
        row.pk,
        row.id,
        bool(row.livemode),
        bool(row.used),
        orjson.loads(row.card),
        row.charge_status or "unknown",
        from_micros(row.created_at),  # type: ignore[arg-type]
    )


# Every test-mode card payment runs it: a hot statement (paylinks.hot).
_CONSUME_TOKEN = Hot(
    tokens.update()
    .where(
        tokens.c.id == sa.bindparam("token_id"),
        *bound_scope(tokens),
        tokens.c.used == sa.false(),
    )
    .values(used=sa.true())
    .returning(tokens.c.pk, tokens.c.card, tokens.c.processor_ref)
)


def consume_token(
    conn: Connection, *, principal: Principal, token_id: str
) -> tuple[int, VaultedCard]:
    """Mark the token used (once only) and return its card; `UsedToken`/`InvalidCardToken`."""
    check_token_id(token_id)
    row = _CONSUME_TOKEN.first(conn, {"token_id": token_id, **scope_params(principal)})
    if row is not None:
        pk, card, processor_ref = row
        return pk, VaultedCard(orjson.loads(card), processor_ref)
    exists = conn.execute(
        sa.select(tokens.c.pk).where(
            tokens.c.id == token_id,
            tokens.c.account_pk == principal.account_pk,
            tokens.c.livemode == principal.livemode,
        )
    ).first()
    if exists is not None:
        raise UsedToken(f"token {token_id} was already used")
    raise InvalidCardToken(f"token {token_id} was not found")


def adopt_upstream_token(
    conn: Connection, *, principal: Principal, token_id: str, now: datetime
) -> tuple[int, VaultedCard]:
    """A live charge's token, made at Omise by Omise.js (paylinks never sees the card): kept as
    used at once, so that a token is charged once however many requests name it (`UsedToken`
    for the second). Its card is known only from Omise's answer to the charge."""
    check_token_id(token_id)
    kept = conn.execute(
        dialect_insert(conn, tokens)
        .values(
            id=token_id,
            account_pk=principal.account_pk,
            livemode=principal.livemode,
            used=True,
            card="{}",
            processor_ref=f"omise:{token_id}",
            created_at=to_micros(now),
        )
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(tokens.c.pk)
    ).first()
    if kept is None:
        raise UsedToken(f"token {token_id} was already used")
    return kept.pk, VaultedCard({}, f"omise:{token_id}")
