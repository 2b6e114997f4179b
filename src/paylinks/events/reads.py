"""Events as the API shows them, each with its delivery attempts: one, a page, a charge's."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.charges import service as charges_service
from paylinks.events import schemas, service
from paylinks.events.service import Event
from paylinks.pagination import ListQuery

Rendered = list[dict[str, Any]]


def _render(conn: Connection, found: list[Event]) -> Rendered:
    attempts = service.deliveries_of(conn, event_pks=[e.pk for e in found])
    return [schemas.event_to_wire(e, attempts.get(e.pk, [])) for e in found]


def read_events(
    conn: Connection, *, principal: Principal, query: ListQuery, charge_id: str | None = None
) -> tuple[Rendered, int]:
    charge_pk = None
    if charge_id is not None:
        charge_pk = charges_service.get_charge(conn, principal=principal, charge_id=charge_id).pk
    found, total = service.list_events(conn, principal=principal, query=query, charge_pk=charge_pk)
    return _render(conn, found), total


def read_event(conn: Connection, *, principal: Principal, event_id: str) -> dict[str, Any]:
    return _render(conn, [service.get_event(conn, principal=principal, event_id=event_id)])[0]
