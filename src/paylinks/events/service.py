"""Events: one row per state change, written in the transaction of the change.

Services that change state take a `Recorder` and call it with the changed object; what an event
holds (the object's wire form) is the recorder's business, so services need no renderer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import orjson
from sqlalchemy.engine import Connection

from paylinks.accounts.service import Principal
from paylinks.clock import to_micros
from paylinks.ids import new_id
from paylinks.models import events

LINK_KEYS = ("link.create", "link.update", "link.destroy")
CHARGE_KEYS = ("charge.create", "charge.complete", "charge.failed")


class Recorder(Protocol):
    def __call__(
        self, conn: Connection, *, key: str, principal: Principal, subject: Any, now: datetime
    ) -> None:
        """Record `key` for `subject` (a link or a charge) in the caller's transaction."""
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
) -> str:
    """Insert one event; its id."""
    event_id = new_id("evnt", livemode=principal.livemode)
    conn.execute(
        events.insert().values(
            id=event_id,
            account_pk=principal.account_pk,
            livemode=principal.livemode,
            key=key,
            data=orjson.dumps(data).decode(),
            charge_pk=charge_pk,
            link_pk=link_pk,
            created_at=to_micros(now),
        )
    )
    return event_id


def no_events(
    conn: Connection, *, key: str, principal: Principal, subject: Any, now: datetime
) -> None:
    """A recorder that records nothing: for tools that write rows outside the API's rules."""
