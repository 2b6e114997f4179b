"""Webhook endpoints, their delivery logs, the events browser, and API keys.

A new or rolled secret is shown once, in the answer to the POST that made it (never in a URL or
a later page); the page carries `Cache-Control: no-store` like every dashboard page."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy.engine import Connection
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from paylinks.accounts import service as accounts
from paylinks.auth import Principal
from paylinks.dashboard import delivery_log, event_objects
from paylinks.dashboard.access import reauthenticated
from paylinks.dashboard.pages import MerchantVisit, page, redirect
from paylinks.errors import ApiError, BadRequest
from paylinks.eventlog import EVENT_KEYS
from paylinks.events import service as events_service
from paylinks.pagination import MAX_OFFSET, ListQuery
from paylinks.params import clamped_integer
from paylinks.webhooks import addresses, probe, service
from paylinks.webhooks.service import Changes

PER_PAGE = 25


def routes() -> list[BaseRoute]:
    return [
        Route("/dashboard/developers", page(endpoints_page), methods=["GET"]),
        Route("/dashboard/developers/endpoints", page(add_endpoint), methods=["POST"]),
        Route(
            "/dashboard/developers/endpoints/{endpoint_id}", page(endpoint_page), methods=["GET"]
        ),
        Route(
            "/dashboard/developers/endpoints/{endpoint_id}", page(change_endpoint), methods=["POST"]
        ),
        Route("/dashboard/developers/endpoints/{endpoint_id}/roll", page(roll), methods=["POST"]),
        Route(
            "/dashboard/developers/endpoints/{endpoint_id}/delete", page(remove), methods=["POST"]
        ),
        Route(
            "/dashboard/developers/endpoints/{endpoint_id}/test", page(send_test), methods=["POST"]
        ),
        Route("/dashboard/developers/events", page(events_page), methods=["GET"]),
        Route("/dashboard/developers/events/{event_id}", page(event_page), methods=["GET"]),
        Route(
            "/dashboard/developers/events/{event_id}/redeliver", page(redeliver), methods=["POST"]
        ),
        Route("/dashboard/developers/keys", page(keys_page), methods=["GET"]),
        Route("/dashboard/developers/keys/roll", page(roll_keys), methods=["POST"]),
    ]


# -- endpoints ----------------------------------------------------------------------------------


def _endpoints(
    conn: Connection, *, principal: Principal
) -> tuple[list[service.Endpoint], dict[int, delivery_log.Health]]:
    found = service.list_endpoints(conn, principal=principal)
    return found, delivery_log.health_of(conn, endpoint_pks=[e.pk for e in found])


async def endpoints_page(
    visit: MerchantVisit, *, error: str | None = None, status: int = 200
) -> Response:
    found, health = await visit.runtime.db.read(_endpoints, principal=visit.principal)
    return visit.render(
        "developers.html", status=status, title="Developers", endpoints=found, health=health,
        keys=EVENT_KEYS, error=error,
    )  # fmt: skip


async def _checked_url(visit: MerchantVisit, url: str) -> None:
    """The API's URL rules (see `addresses`); `ValueError` says what is wrong."""
    policy = addresses.Policy(
        visit.principal.livemode, visit.runtime.settings.allow_private_webhooks
    )
    await asyncio.to_thread(addresses.check_webhook_url, url, policy=policy)


def _chosen_keys(visit: MerchantVisit) -> list[str] | None:
    assert visit.form is not None
    chosen = [k for k in visit.form.getlist("events") if isinstance(k, str)]
    return chosen or None  # none ticked: every event


async def add_endpoint(visit: MerchantVisit) -> Response:
    url = visit.field("url").strip()
    try:
        await _checked_url(visit, url)
        made = await visit.runtime.db.write(
            service.create_endpoint,
            principal=visit.principal,
            url=url,
            keys=_chosen_keys(visit),
            scheme=visit.field("scheme") or "seed",
            now=visit.now(),
            limit=visit.runtime.settings.max_webhook_endpoints,
        )
    except (ValueError, ApiError) as problem:
        message = problem.message if isinstance(problem, ApiError) else str(problem)
        return await endpoints_page(visit, error=message, status=400)
    return visit.render(
        "secret_once.html", title="Endpoint added", endpoint=made, secret=made.shown_secret
    )


async def endpoint_page(
    visit: MerchantVisit, *, error: str | None = None, status: int = 200,
    notice: str | None = None,
) -> Response:  # fmt: skip
    endpoint = await visit.runtime.db.read(
        service.get_endpoint,
        principal=visit.principal,
        endpoint_id=visit.path_param("endpoint_id"),
    )
    offset = _offset(visit)
    attempts, total = await visit.runtime.db.read(
        delivery_log.attempts_of, endpoint_pk=endpoint.pk, limit=PER_PAGE, offset=offset
    )
    health = await visit.runtime.db.read(delivery_log.health_of, endpoint_pks=[endpoint.pk])
    return visit.render(
        "endpoint_page.html", status=status, title=endpoint.url, endpoint=endpoint,
        health=health[endpoint.pk], attempts=attempts, total=total, offset=offset,
        per_page=PER_PAGE, keys=EVENT_KEYS, error=error, notice=notice,
    )  # fmt: skip


def _offset(visit: MerchantVisit) -> int:
    # Clamped like the links list's page number: the database only ever sees a 64-bit offset.
    raw = visit.request.query_params.get("offset", "0")
    return clamped_integer(raw, low=0, high=MAX_OFFSET, default=0)


async def change_endpoint(visit: MerchantVisit) -> Response:
    changes = Changes(
        keys=_chosen_keys(visit) or ["*"],
        enabled=visit.field("enabled") == "on",
        scheme=visit.field("scheme") or None,
    )
    try:
        await visit.runtime.db.write(
            service.update_endpoint, principal=visit.principal,
            endpoint_id=visit.path_param("endpoint_id"), changes=changes,
        )  # fmt: skip
    except BadRequest as problem:
        return await endpoint_page(visit, error=problem.message, status=400)
    return redirect(f"/dashboard/developers/endpoints/{visit.path_param('endpoint_id')}")


async def roll(visit: MerchantVisit) -> Response:
    endpoint = await visit.runtime.db.write(
        service.roll_secret, principal=visit.principal,
        endpoint_id=visit.path_param("endpoint_id"), now=visit.now(),
    )  # fmt: skip
    return visit.render(
        "secret_once.html", title="Secret rolled", endpoint=endpoint, secret=endpoint.shown_secret
    )


async def send_test(visit: MerchantVisit) -> Response:
    """Queue a signed `test.webhook` delivery to this endpoint alone (see `probe`); the page
    then shows it in the delivery log once the worker has sent it."""
    try:
        event_id = await visit.runtime.db.write(
            probe.send_test, principal=visit.principal,
            endpoint_id=visit.path_param("endpoint_id"), now=visit.now(),
        )  # fmt: skip
    except BadRequest as problem:
        return await endpoint_page(visit, error=problem.message, status=400)
    return await endpoint_page(visit, notice=f"Test event {event_id} queued.")


async def remove(visit: MerchantVisit) -> Response:
    await visit.runtime.db.write(
        service.delete_endpoint, principal=visit.principal,
        endpoint_id=visit.path_param("endpoint_id"), now=visit.now(),
    )  # fmt: skip
    return redirect("/dashboard/developers")


# -- events -------------------------------------------------------------------------------------


def _events(
    conn: Connection, *, principal: Principal, offset: int, key: str
) -> tuple[Any, int, dict[str, str]]:
    query = ListQuery(PER_PAGE, offset, "reverse_chronological", None, None)
    found, total = events_service.list_events(
        conn, principal=principal, query=query, key=key or None
    )
    return found, total, event_objects.pages_of(conn, principal=principal, found=found)


async def events_page(visit: MerchantVisit) -> Response:
    key = visit.request.query_params.get("key", "")
    offset = _offset(visit)
    found, total, object_pages = await visit.runtime.db.read(
        _events, principal=visit.principal, offset=offset, key=key
    )
    return visit.render(
        "events_list.html", title="Events", events=found, total=total, offset=offset,
        per_page=PER_PAGE, key=key, keys=EVENT_KEYS, object_pages=object_pages,
    )  # fmt: skip


async def event_page(visit: MerchantVisit, *, notice: str | None = None) -> Response:
    event = await visit.runtime.db.read(
        events_service.get_event, principal=visit.principal, event_id=visit.path_param("event_id")
    )
    tries = await visit.runtime.db.read(delivery_log.attempts_of_event, event_pk=event.pk)
    found = await visit.runtime.db.read(service.list_endpoints, principal=visit.principal)
    object_pages = await visit.runtime.db.read(
        event_objects.pages_of, principal=visit.principal, found=[event]
    )
    return visit.render(
        "event_page.html", title=event.key, event=event, attempts=tries, endpoints=found,
        payload=json.dumps(event.data, ensure_ascii=False, indent=2), notice=notice,
        object_page=object_pages.get(event.id),
    )  # fmt: skip


async def redeliver(visit: MerchantVisit) -> Response:
    try:
        queued = await visit.runtime.db.write(
            service.redeliver, principal=visit.principal, event_id=visit.path_param("event_id"),
            endpoint_id=visit.field("endpoint") or None, now=visit.now(),
        )  # fmt: skip
    except BadRequest as problem:
        return await event_page(visit, notice=problem.message)
    back = visit.field("back")
    if back.startswith("/dashboard/developers/"):
        return redirect(back)
    return await event_page(
        visit, notice=f"Queued {queued} new deliver{'y' if queued == 1 else 'ies'}."
    )


# -- keys -----------------------------------------------------------------------------------------


def _public_keys(conn: Connection, *, account_pk: int) -> dict[str, str]:
    return next((keys for a, keys in accounts.list_accounts(conn) if a.pk == account_pk), {})


async def keys_page(
    visit: MerchantVisit, *, error: str | None = None, status: int = 200
) -> Response:
    keys = await visit.runtime.db.read(_public_keys, account_pk=visit.session.account_pk)
    confirming = visit.request.query_params.get("roll") == "1" or error is not None
    return visit.render(
        "keys.html", status=status, title="API keys", public_keys=keys, confirming=confirming,
        error=error,
    )  # fmt: skip


async def roll_keys(visit: MerchantVisit) -> Response:
    """Roll the mode's keys, once the person at the keyboard has proved again who they are (the
    current secret key, or the user's password): a stolen session alone must not be able to
    take the account's keys. A session opened with the old key ends with it."""
    if visit.field("confirm") != "yes":
        return redirect("/dashboard/developers/keys?roll=1")
    if not await reauthenticated(visit):
        return await keys_page(
            visit, error="That did not match: enter the current secret key or your password.",
            status=403,
        )  # fmt: skip
    pair = await visit.runtime.db.write(
        accounts.roll_keys, account_id=visit.session.account_id,
        livemode=visit.session.livemode, now=visit.runtime.clock.now(),
    )  # fmt: skip
    return visit.render("keys_rolled.html", title="New keys", pair=pair)
