"""A test delivery: the "Send test event" button of an endpoint's page. Omise has no ping event,
so paylinks records one of its own, `test.webhook`, whose data is the endpoint itself, and queues
it for that endpoint only. It then goes the way every event goes (the outbox row, the worker,
the endpoint's signature scheme and secrets, retries, the delivery log), so what the merchant
sees in the log is what a real event would meet.

The key is kept out of `EVENT_KEYS` on purpose: no endpoint can subscribe to it, `enqueue` never
fans it out, and a receiver that switches on Omise's keys sees a key it can tell is a test."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.errors import BadRequest
from paylinks.eventlog import record_event
from paylinks.models import events
from paylinks.webhooks.schemas import endpoint_to_wire
from paylinks.webhooks.service import get_endpoint, insert_delivery

TEST_KEY = "test.webhook"


def send_test(conn: Connection, *, principal: Principal, endpoint_id: str, now: datetime) -> str:
    """Record a `test.webhook` event and queue one delivery of it to `endpoint_id`; the event's
    id. A disabled endpoint is refused, as a redelivery to it is."""
    endpoint = get_endpoint(conn, principal=principal, endpoint_id=endpoint_id)
    if not endpoint.enabled:
        raise BadRequest(f"webhook endpoint {endpoint_id} is disabled; enable it first")
    data = endpoint_to_wire(endpoint)  # never the secret: with_secret stays False
    event_pk = record_event(conn, principal=principal, key=TEST_KEY, data=data, now=now)
    insert_delivery(conn, principal=principal, event_pk=event_pk, endpoint=endpoint, now=now)
    return str(conn.execute(sa.select(events.c.id).where(events.c.pk == event_pk)).scalar_one())
