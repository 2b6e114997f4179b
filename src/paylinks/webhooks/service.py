"""Webhook endpoints and the outbox's writes: an account's receivers, per mode, each with its own
signing secret, event filter and signature scheme; and the delivery rows queued for them.

Delivery rows are written in the transaction of the change (`enqueue`, called by the event
recorder), so a rolled-back change is never delivered; a redelivery queues new rows with the
same event (the same `webhook-id`), leaving every other delivery as it is. Deleting an endpoint
is soft (the delivery log keeps pointing at the row). Sending is `delivery` and `worker`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.accounts.service import lock_account
from paylinks.auth import Principal
from paylinks.clock import from_micros, to_micros
from paylinks.db import note_outbox
from paylinks.errors import BadRequest, LimitExceeded, NotFound
from paylinks.eventlog import EVENT_KEYS
from paylinks.events.service import get_event
from paylinks.hot import Hot, insert
from paylinks.ids import new_id
from paylinks.models import events, webhook_deliveries, webhook_endpoints
from paylinks.pagination import ListQuery, bound_scope, page_of, scope_params, scoped
from paylinks.webhooks import signing

SCHEMES = ("seed", "omise")
ROLL_OVERLAP = timedelta(hours=24)


@dataclass(frozen=True)
class Endpoint:
    pk: int
    id: str
    account_pk: int
    livemode: bool
    url: str
    events: list[str] | None  # None: every event
    enabled: bool
    scheme: str
    # Kept out of repr so that an endpoint in a log line or traceback never shows a secret.
    secret: str = field(repr=False)
    previous_secret: str | None = field(repr=False)
    previous_secret_until: datetime | None
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, then the previous one while its roll-over window lasts."""
        if self.previous_secret and self.previous_secret_until and now < self.previous_secret_until:
            return [self.secret, self.previous_secret]
        return [self.secret]

    @property
    def shown_secret(self) -> str:
        """The current secret as the owner is given it under the endpoint's scheme of now."""
        return signing.shown_secret(self.secret, self.scheme)

    def wants(self, key: str) -> bool:
        return self.enabled and (self.events is None or key in self.events)

    @property
    def owner(self) -> Principal:
        """The account and mode the endpoint belongs to, for work done on its behalf (the
        worker has no caller): only the account's key and the mode matter there."""
        return Principal(self.account_pk, "", self.livemode, "secret", "")


def from_row(row: Any) -> Endpoint:
    return Endpoint(
        pk=row.pk,
        id=row.id,
        account_pk=row.account_pk,
        livemode=bool(row.livemode),
        url=row.url,
        events=orjson.loads(row.events) if row.events else None,
        enabled=bool(row.enabled),
        scheme=row.scheme,
        secret=row.secret,
        previous_secret=row.previous_secret,
        previous_secret_until=from_micros(row.previous_secret_until),
        disabled_reason=row.disabled_reason,
        failing_since=from_micros(row.failing_since),
        created_at=from_micros(row.created_at),  # type: ignore[arg-type]
    )


def _scoped(principal: Principal) -> list[sa.ColumnElement[bool]]:
    """The caller's endpoints that are not deleted."""
    return [*scoped(webhook_endpoints, principal), webhook_endpoints.c.deleted_at.is_(None)]


def check_event_keys(keys: list[str] | None) -> list[str] | None:
    """The keys sorted and without repeats; None (every event) for None or `["*"]`."""
    if keys is None or keys == ["*"]:
        return None
    if not keys:
        raise BadRequest('events must list at least one event key (or "*" for every event)')
    unknown = [k for k in keys if k not in EVENT_KEYS]
    if unknown:
        raise BadRequest(f"unknown event key {unknown[0]!r}; keys are {', '.join(EVENT_KEYS)}")
    return sorted(set(keys))


def _encode_keys(keys: list[str] | None) -> str | None:
    checked = check_event_keys(keys)
    return None if checked is None else orjson.dumps(checked).decode()


def _check_scheme(scheme: str) -> str:
    if scheme not in SCHEMES:
        raise BadRequest(f"signature_scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    return scheme


def create_endpoint(
    conn: Connection,
    *,
    principal: Principal,
    url: str,
    keys: list[str] | None,
    scheme: str,
    now: datetime,
    limit: int,
) -> Endpoint:
    """A new endpoint with a fresh signing secret (shown to the caller once); `LimitExceeded`
    when the account already has `limit` endpoints in this mode (0: no cap). The URL must have
    been checked by the caller (see `addresses`): that may need DNS, which is not done here."""
    if limit > 0:
        lock_account(conn, account_pk=principal.account_pk)
        count = conn.execute(
            sa.select(sa.func.count()).select_from(webhook_endpoints).where(*_scoped(principal))
        ).scalar_one()
        if count >= limit:
            mode = "live" if principal.livemode else "test"
            raise LimitExceeded(
                f"this account already has {count} webhook endpoints in {mode} mode, the most "
                f"it may have (PAYLINKS_MAX_WEBHOOK_ENDPOINTS={limit}); delete one first"
            )
    endpoint_id = new_id("wbhk", livemode=principal.livemode)
    conn.execute(
        webhook_endpoints.insert().values(
            id=endpoint_id,
            account_pk=principal.account_pk,
            livemode=principal.livemode,
            url=url,
            events=_encode_keys(keys),
            enabled=True,
            scheme=_check_scheme(scheme),
            secret=signing.new_secret(),
            created_at=to_micros(now),
        )
    )
    return get_endpoint(conn, principal=principal, endpoint_id=endpoint_id)


def get_endpoint(conn: Connection, *, principal: Principal, endpoint_id: str) -> Endpoint:
    row = conn.execute(
        sa.select(webhook_endpoints).where(
            webhook_endpoints.c.id == endpoint_id, *_scoped(principal)
        )
    ).first()
    if row is None:
        raise NotFound.for_object("webhook endpoint", endpoint_id)
    return from_row(row)


# Every event asks for its account's endpoints (`enqueue`): a hot statement (paylinks.hot).
_LIST_ENDPOINTS = Hot(
    sa.select(webhook_endpoints)
    .where(*bound_scope(webhook_endpoints), webhook_endpoints.c.deleted_at.is_(None))
    .order_by(webhook_endpoints.c.pk),
    named=True,
)


def list_endpoints(conn: Connection, *, principal: Principal) -> list[Endpoint]:
    """The account's endpoints in this mode that are not deleted, oldest first."""
    return [from_row(r) for r in _LIST_ENDPOINTS.rows(conn, scope_params(principal))]


def page_endpoints(
    conn: Connection, *, principal: Principal, query: ListQuery
) -> tuple[list[Endpoint], int]:
    """A page of endpoints, oldest first by default, and how many match in all."""
    select = sa.select(webhook_endpoints)
    rows, total = page_of(
        conn, select, table=webhook_endpoints, where=_scoped(principal), query=query
    )
    return [from_row(r) for r in rows], total


@dataclass(frozen=True)
class Changes:
    """A PATCH: each field None when not given. `keys` uses `["*"]` for every event."""

    url: str | None = None
    keys: list[str] | None = None
    enabled: bool | None = None
    scheme: str | None = None


def update_endpoint(
    conn: Connection, *, principal: Principal, endpoint_id: str, changes: Changes
) -> Endpoint:
    endpoint = get_endpoint(conn, principal=principal, endpoint_id=endpoint_id)
    values: dict[str, Any] = {}
    if changes.url is not None:
        values["url"] = changes.url
    if changes.keys is not None:
        values["events"] = _encode_keys(changes.keys)
    if changes.scheme is not None:
        values["scheme"] = _check_scheme(changes.scheme)
    if changes.enabled is True and not endpoint.enabled:
        # A fresh start: the five-day failure clock begins again.
        values.update(enabled=True, disabled_reason=None, failing_since=None)
    if values:
        conn.execute(
            webhook_endpoints.update().where(webhook_endpoints.c.pk == endpoint.pk).values(values)
        )
    if changes.enabled is False and endpoint.enabled:
        disable(conn, endpoint_pk=endpoint.pk, reason="disabled by the account")
    return get_endpoint(conn, principal=principal, endpoint_id=endpoint_id)


def disable(conn: Connection, *, endpoint_pk: int, reason: str) -> None:
    """Stop delivering to an endpoint: its pending deliveries are cancelled, not kept for later
    (redeliver them once it works again)."""
    conn.execute(
        webhook_endpoints.update()
        .where(webhook_endpoints.c.pk == endpoint_pk)
        .values(enabled=False, disabled_reason=reason)
    )
    pending = (
        webhook_deliveries.c.endpoint_pk == endpoint_pk,
        webhook_deliveries.c.status == "pending",
    )
    if conn.dialect.name == "postgresql":
        # In primary-key order, as a worker recording deliveries locks them
        # (`delivery.record_delivered`): two orders could deadlock.
        rows = sa.select(webhook_deliveries.c.pk).where(*pending).order_by(webhook_deliveries.c.pk)
        conn.execute(rows.with_for_update())
    conn.execute(
        webhook_deliveries.update()
        .where(*pending)
        .values(status="cancelled", next_attempt_at=None, locked_until=None)
    )


def delete_endpoint(
    conn: Connection, *, principal: Principal, endpoint_id: str, now: datetime
) -> Endpoint:
    """Delete for good: gone from the API; its delivery log stays with the events."""
    endpoint = get_endpoint(conn, principal=principal, endpoint_id=endpoint_id)
    disable(conn, endpoint_pk=endpoint.pk, reason="deleted")
    conn.execute(
        webhook_endpoints.update()
        .where(webhook_endpoints.c.pk == endpoint.pk)
        .values(deleted_at=to_micros(now))
    )
    return endpoint


def roll_secret(
    conn: Connection, *, principal: Principal, endpoint_id: str, now: datetime
) -> Endpoint:
    """A new secret; the old one keeps signing (beside the new) for 24 hours."""
    endpoint = get_endpoint(conn, principal=principal, endpoint_id=endpoint_id)
    conn.execute(
        webhook_endpoints.update()
        .where(webhook_endpoints.c.pk == endpoint.pk)
        .values(
            secret=signing.new_secret(),
            previous_secret=endpoint.secret,
            previous_secret_until=to_micros(principal.real(now) + ROLL_OVERLAP),
        )
    )
    return get_endpoint(conn, principal=principal, endpoint_id=endpoint_id)


def insert_delivery(
    conn: Connection, *, principal: Principal, event_pk: int, endpoint: Endpoint, now: datetime
) -> None:
    """Deliveries run on real time, whatever the account's test clock says: advancing the clock
    pulls their schedule forward instead (`testclock.service.advance`)."""
    micros = to_micros(principal.real(now))
    note_outbox(conn)
    _INSERT_DELIVERY.execute(
        conn,
        {
            "id": new_id("whdl", livemode=endpoint.livemode),
            "event_pk": event_pk,
            "endpoint_pk": endpoint.pk,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": micros,
            "created_at": micros,
        },
    )


_INSERT_DELIVERY = insert(
    webhook_deliveries,
    *("id", "event_pk", "endpoint_pk", "status", "attempts", "next_attempt_at", "created_at"),
)


def enqueue(
    conn: Connection, *, principal: Principal, event_pk: int, key: str, now: datetime
) -> int:
    """One delivery row per enabled endpoint of the account and mode that wants `key`, in the
    caller's transaction; how many."""
    wanting = [e for e in list_endpoints(conn, principal=principal) if e.wants(key)]
    for endpoint in wanting:
        insert_delivery(conn, principal=principal, event_pk=event_pk, endpoint=endpoint, now=now)
    return len(wanting)


def _targets(
    conn: Connection, *, principal: Principal, key: str, endpoint_id: str | None
) -> list[Endpoint]:
    """Where a redelivery goes: the endpoint named (whatever its filter), else every enabled
    endpoint that wants the key now."""
    if endpoint_id is None:
        return [e for e in list_endpoints(conn, principal=principal) if e.wants(key)]
    endpoint = get_endpoint(conn, principal=principal, endpoint_id=endpoint_id)
    if not endpoint.enabled:
        raise BadRequest(f"webhook endpoint {endpoint_id} is disabled; enable it first")
    return [endpoint]


def redeliver(
    conn: Connection,
    *,
    principal: Principal,
    event_id: str,
    endpoint_id: str | None,
    now: datetime,
) -> int:
    """Send an event again as a new delivery (same `webhook-id`); other deliveries, and other
    endpoints' state, are left as they are. How many deliveries were queued."""
    event = get_event(conn, principal=principal, event_id=event_id)
    targets = _targets(conn, principal=principal, key=event.key, endpoint_id=endpoint_id)
    if not targets:
        raise BadRequest(f"no enabled webhook endpoint receives {event.key} events")
    for endpoint in targets:
        insert_delivery(conn, principal=principal, event_pk=event.pk, endpoint=endpoint, now=now)
    return len(targets)


def redeliver_range(
    conn: Connection,
    *,
    principal: Principal,
    start: datetime,
    end: datetime,
    endpoint_id: str | None,
    now: datetime,
) -> int:
    """Redeliver every event created in [start, end]; how many deliveries were queued."""
    rows = conn.execute(
        sa.select(events.c.pk, events.c.key)
        .where(
            events.c.account_pk == principal.account_pk,
            events.c.livemode == principal.livemode,
            events.c.created_at >= to_micros(start),
            events.c.created_at <= to_micros(end),
        )
        .order_by(events.c.created_at, events.c.pk)
    ).all()
    queued = 0
    for row in rows:
        for endpoint in _targets(conn, principal=principal, key=row.key, endpoint_id=endpoint_id):
            insert_delivery(conn, principal=principal, event_pk=row.pk, endpoint=endpoint, now=now)
            queued += 1
    return queued
