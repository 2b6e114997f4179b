"""Wiring, beside the app factory: the recorder every state-changing service is given
(`eventlog.Recorder`). An event holds the object's wire form as the API shows it at that moment
(a link with its embedded charges, a charge with its card or source), and gets one delivery row
per webhook endpoint that wants it, in the same transaction as the change (the outbox). It knows
every resource that has events, which is why no resource holds it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.charges.schemas import charge_to_wire
from paylinks.charges.service import Charge, embedded_charges
from paylinks.eventlog import record_event
from paylinks.links.schemas import link_with_charges_to_wire
from paylinks.links.service import Link
from paylinks.receipts import outbox as receipts_outbox
from paylinks.refunds.schemas import refund_to_wire
from paylinks.refunds.service import Refund
from paylinks.webhooks.service import enqueue

# The keys of a charge becoming paid: paid at once, or an authorization captured.
PAID_KEYS = frozenset({"charge.complete", "charge.capture"})


class EventRecorder:
    def __init__(self, *, public_url: str) -> None:
        self.public_url = public_url

    def __call__(
        self, conn: Connection, *, key: str, principal: Principal, subject: Any, now: datetime
    ) -> None:
        if isinstance(subject, Charge):
            data = charge_to_wire(subject, public_url=self.public_url)
            event_pk = record_event(
                conn, principal=principal, key=key, data=data, now=now, charge_pk=subject.pk
            )
            if subject.customer_email and key in PAID_KEYS and subject.status == "successful":
                # The receipt the customer asked for on the page leaves with the payment.
                receipts_outbox.release(conn, charge_pk=subject.pk, now=now)
        elif isinstance(subject, Refund):
            # Listed with its charge's events (GET /charges/:id/events).
            event_pk = record_event(
                conn,
                principal=principal,
                key=key,
                data=refund_to_wire(subject),
                now=now,
                charge_pk=subject.charge_pk,
            )
        elif isinstance(subject, Link):
            event_pk = record_event(
                conn,
                principal=principal,
                key=key,
                data=self._link(conn, subject, now, new=key == "link.create"),
                now=now,
                link_pk=subject.pk,
            )
        else:
            raise TypeError(f"no event form for {type(subject).__name__}")
        # The outbox: delivery rows commit (or roll back) with the event and the change.
        enqueue(conn, principal=principal, event_pk=event_pk, key=key, now=now)

    def _link(self, conn: Connection, link: Link, now: datetime, *, new: bool) -> dict[str, Any]:
        # A link just created has no charges: no statement to find that out.
        counts = {link.pk: 0} if new else None
        embedded = embedded_charges(conn, link_pks=[link.pk], counts=counts)
        found, total = embedded.get(link.pk, ([], 0))
        return link_with_charges_to_wire(link, found, total, public_url=self.public_url, now=now)
