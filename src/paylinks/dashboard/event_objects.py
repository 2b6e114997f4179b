"""Where an event's object is shown in the dashboard, so that the events browser and an event's
page can link its id there: a link's events go to the link's page; a charge's and a refund's to
the page of the link the charge paid (the dashboard shows charges there, it has no page per
charge); an endpoint's to the endpoint's page. A charge made without a link, or an endpoint since
deleted, has no page: its id stays plain text."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.events.service import Event
from paylinks.models import charges, events, links, webhook_endpoints
from paylinks.pagination import scoped


def pages_of(conn: Connection, *, principal: Principal, found: list[Event]) -> dict[str, str]:
    """Each event's object page by event id (events whose object has none are left out); at
    most two statements for a page of events."""
    pages: dict[str, str] = {}
    if not found:
        return pages
    link_pk = sa.func.coalesce(events.c.link_pk, charges.c.link_pk)
    rows = conn.execute(
        sa.select(events.c.id, links.c.id.label("link_id"))
        .select_from(events)
        .outerjoin(charges, charges.c.pk == events.c.charge_pk)
        .join(links, links.c.pk == link_pk)
        .where(events.c.pk.in_([e.pk for e in found]), *scoped(links, principal))
    ).all()
    pages.update({row.id: f"/dashboard/links/{row.link_id}" for row in rows})
    endpoint_ids = {
        e.id: e.data.get("id") for e in found if e.data.get("object") == "webhook_endpoint"
    }
    if endpoint_ids:
        live = set(
            conn.execute(
                sa.select(webhook_endpoints.c.id).where(
                    webhook_endpoints.c.id.in_(endpoint_ids.values()),
                    webhook_endpoints.c.deleted_at.is_(None),
                    *scoped(webhook_endpoints, principal),
                )
            ).scalars()
        )
        for event_id, endpoint_id in endpoint_ids.items():
            if endpoint_id in live:
                pages[event_id] = f"/dashboard/developers/endpoints/{endpoint_id}"
    return pages
