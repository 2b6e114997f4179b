"""Payment sources: PromptPay (THB), paid by scanning a QR code of an EMVCo payload."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.clock import from_micros, to_micros
from paylinks.db import dialect_insert
from paylinks.errors import BadRequest, NotFound
from paylinks.ids import new_id
from paylinks.models import accounts, sources
from paylinks.sources import promptpay

SOURCE_TYPES = ("promptpay",)
PROMPTPAY_CURRENCY = "thb"  # PromptPay moves baht only; the capability object says so too


@dataclass(frozen=True)
class Source:
    pk: int
    id: str
    livemode: bool
    type: str
    amount: int
    currency: str
    payload: str
    used: bool
    created_at: datetime
    # A live source's QR image, as Omise serves it (then `payload` is what Omise told, if any).
    image_uri: str | None = None


def _from_row(row: sa.Row) -> Source:  # type: ignore[type-arg]
    return Source(
        row.pk, row.id, bool(row.livemode), row.type, row.amount, row.currency, row.payload,
        bool(row.used), from_micros(row.created_at),  # type: ignore[arg-type]
        row.upstream_image_uri,
    )  # fmt: skip


def promptpay_id_of(conn: Connection, principal: Principal) -> str:
    configured = conn.execute(
        sa.select(accounts.c.promptpay_id).where(accounts.c.pk == principal.account_pk)
    ).scalar()
    return configured or promptpay.TEST_PROMPTPAY_ID


def create_source(
    conn: Connection, *, principal: Principal, type: str, amount: int, currency: str, now: datetime
) -> Source:
    """A PromptPay source for a THB amount, with its QR payload."""
    if type not in SOURCE_TYPES:
        raise BadRequest(f"source type {type!r} is not supported; supported: promptpay")
    if currency != PROMPTPAY_CURRENCY:
        raise BadRequest("promptpay sources take THB only")
    payload = promptpay.payload(promptpay_id_of(conn, principal), amount_satang=amount)
    source_id = new_id("src", livemode=principal.livemode)
    pk = conn.execute(
        sources.insert()
        .values(
            id=source_id, account_pk=principal.account_pk, livemode=principal.livemode,
            type=type, amount=amount, currency=currency, payload=payload, used=False,
            created_at=to_micros(now),
        )
        .returning(sources.c.pk)
    ).scalar_one()  # fmt: skip
    return Source(pk, source_id, principal.livemode, type, amount, currency, payload, False, now)


def get_source(conn: Connection, *, principal: Principal, source_id: str) -> Source:
    row = conn.execute(
        sa.select(sources).where(
            sources.c.id == source_id,
            sources.c.account_pk == principal.account_pk,
            sources.c.livemode == principal.livemode,
        )
    ).first()
    if row is None:
        raise NotFound.for_object("source", source_id)
    return _from_row(row)


def sources_by_pk(conn: Connection, *, pks: set[int]) -> dict[int, Source]:
    """The sources with these primary keys (those charges were paid with)."""
    if not pks:
        return {}
    rows = conn.execute(sa.select(sources).where(sources.c.pk.in_(pks)))
    return {row.pk: _from_row(row) for row in rows}


def find_source(conn: Connection, *, source_id: str) -> Source | None:
    """A source by id alone: for serving its QR image, whose URL is the only secret."""
    row = conn.execute(sa.select(sources).where(sources.c.id == source_id)).first()
    return None if row is None else _from_row(row)


SOURCE_ID = re.compile(r"^src_(?:test_)?[0-9a-z]{19}$")


def adopt_upstream_source(
    conn: Connection, *, principal: Principal, source_id: str, amount: int, currency: str,
    now: datetime,
) -> Source:  # fmt: skip
    """A live charge's source, made at Omise (by Omise.js, or by the hosted page with the
    account's key): kept as used at once, so that it pays one charge however many requests
    name it. Omise checks its amount against the charge's; its QR comes with Omise's answer."""
    if not SOURCE_ID.match(source_id):
        # Never echoed: whatever was sent where a source id belongs.
        raise BadRequest("source must be an Omise source id (src_…) made with the Omise public key")
    kept = conn.execute(
        dialect_insert(conn, sources)
        .values(
            id=source_id, account_pk=principal.account_pk, livemode=principal.livemode,
            type="promptpay", amount=amount, currency=currency, payload="", used=True,
            created_at=to_micros(now),
        )
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(sources.c.pk)
    ).first()  # fmt: skip
    if kept is None:
        raise BadRequest(f"source {source_id} was already used by a charge")
    return Source(kept.pk, source_id, principal.livemode, "promptpay", amount, currency, "",
                  True, now)  # fmt: skip


def note_upstream_qr(conn: Connection, *, source_pk: int, image_uri: str, data: str | None) -> None:
    """What Omise said of a live source's QR: its image, and its text when Omise gives it."""
    values: dict[str, str] = {"upstream_image_uri": image_uri}
    if data:
        values["payload"] = data
    conn.execute(sources.update().where(sources.c.pk == source_pk).values(**values))


def consume_source(conn: Connection, *, principal: Principal, source_id: str) -> Source:
    """Mark the source used by a charge (once only)."""
    source = get_source(conn, principal=principal, source_id=source_id)
    done = conn.execute(
        sources.update()
        .where(sources.c.pk == source.pk, sources.c.used == sa.false())
        .values(used=True)
    )
    if done.rowcount != 1:
        raise BadRequest(f"source {source_id} was already used by a charge")
    return source
