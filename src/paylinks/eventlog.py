"""The event log: one row per state change, written in the transaction of the change.

Services that change state take a `Recorder` and call it with the changed object; what an event
holds (the object's wire form) and where it is delivered is the recorder's business
(`recording.EventRecorder`), so services need no renderer and no outbox. `record_event` writes
the row itself. Nothing here knows a resource.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import orjson
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.clock import to_micros
from paylinks.hot import insert
from paylinks.ids import new_id
from paylinks.models import events

LINK_KEYS = ("link.create", "link.update", "link.destroy")
# charge.complete / charge.failed: the seed's outcome keys; charge.capture, charge.reverse,
# charge.expire and charge.update: Omise's for what happens to a charge afterwards.
CHARGE_KEYS = (
    "charge.create", "charge.complete", "charge.failed", "charge.capture", "charge.reverse",
    "charge.expire", "charge.update",
)  # fmt: skip
REFUND_KEYS = ("refund.create",)
# Recorded when paylinks itself disables an endpoint (410 Gone, five days of failures).
ENDPOINT_KEYS = ("webhook_endpoint.disable",)
EVENT_KEYS = CHARGE_KEYS + REFUND_KEYS + LINK_KEYS + ENDPOINT_KEYS


class Recorder(Protocol):
    def __call__(
        self, conn: Connection, *, key: str, principal: Principal, subject: Any, now: datetime
    ) -> None:
        """Record `key` for `subject` (a link, a charge or a refund) in the caller's
        transaction."""
        ...


def record_event(
    conn: Connection,
    *,
    principal: Principal,
    key: str,
    data: dict[str, Any],
    now: datetime,
    charge_pk: int | None = None,
    link_pk: int | None = None,
) -> int:
    """Insert one event; its primary key."""
    return int(
        _INSERT_EVENT.scalar(
            conn,
            {
                "id": new_id("evnt", livemode=principal.livemode),
                "account_pk": principal.account_pk,
                "livemode": principal.livemode,
                "key": key,
                "data": orjson.dumps(data).decode(),
                "charge_pk": charge_pk,
                "link_pk": link_pk,
                "created_at": to_micros(now),
            },
        )
    )


# Every state change writes one: a hot statement (paylinks.hot).
_INSERT_EVENT = insert(
    events,
    *("id", "account_pk", "livemode", "key", "data", "charge_pk", "link_pk", "created_at"),
    returning=events.c.pk,
)
