"""`paylinks webhooks …`: an account's endpoints from the command line, straight on the
database (the REST API at /webhook_endpoints does the same over HTTP), and redelivery of a
time range of events."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

import click
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.cli_common import (
    account_option,
    database_url_option,
    json_option,
    mode_option,
    open_database,
    principal_for,
    settings_from,
)
from paylinks.clock import SystemClock, parse_time
from paylinks.errors import ApiError
from paylinks.webhooks import addresses, service
from paylinks.webhooks.schemas import endpoint_to_wire
from paylinks.webhooks.service import Endpoint

T = TypeVar("T")


@click.group(name="webhooks")
def webhooks_group() -> None:
    """Webhook endpoints of an account (per mode), and redelivery."""


@contextmanager
def _api_errors_as_usage() -> Iterator[None]:
    try:
        yield
    except ApiError as exc:
        raise click.ClickException(exc.message) from None


def _in_transaction(
    database_url: str | None, account_id: str, mode: str, work: Callable[..., T]
) -> T:
    """Run `work(conn, principal)` in one write transaction as the account's secret key."""
    db = open_database(database_url)
    try:
        with _api_errors_as_usage(), db.transaction() as conn:
            return work(conn, principal_for(conn, account_id, mode))
    finally:
        db.close()


def _show(endpoint: Endpoint, *, as_json: bool, with_secret: bool) -> None:
    if as_json:
        click.echo(json.dumps(endpoint_to_wire(endpoint, with_secret=with_secret)))
        return
    state = "enabled" if endpoint.enabled else f"disabled ({endpoint.disabled_reason})"
    keys = ",".join(endpoint.events or ["all"])
    click.echo(f"{endpoint.id}  {endpoint.url}  {state}  events: {keys}")
    if with_secret:
        click.echo(f"  secret {endpoint.shown_secret}")


@webhooks_group.command("add")
@account_option
@mode_option
@click.option("--url", required=True)
@click.option("--events", "keys", help="Comma-separated event keys (default: every event).")
@click.option("--scheme", type=click.Choice(service.SCHEMES), default="seed", show_default=True)
@database_url_option
@json_option
def webhooks_add(
    account_id: str, mode: str, url: str, keys: str | None, scheme: str,
    database_url: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Add an endpoint; its signing secret is shown once."""
    settings = settings_from(database_url=database_url)
    policy = addresses.Policy(mode == "live", settings.allow_private_webhooks)
    try:
        addresses.check_webhook_url(url, policy=policy)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None

    def add(conn: Connection, principal: Principal) -> Endpoint:
        return service.create_endpoint(
            conn,
            principal=principal,
            url=url,
            keys=keys.split(",") if keys else None,
            scheme=scheme,
            now=SystemClock().now(),
            limit=settings.max_webhook_endpoints,
        )

    endpoint = _in_transaction(database_url, account_id, mode, add)
    _show(endpoint, as_json=as_json, with_secret=True)


@webhooks_group.command("list")
@account_option
@mode_option
@database_url_option
@json_option
def webhooks_list(account_id: str, mode: str, database_url: str | None, as_json: bool) -> None:
    """List an account's endpoints in one mode."""

    def find(conn: Connection, principal: Principal) -> list[Endpoint]:
        return service.list_endpoints(conn, principal=principal)

    found = _in_transaction(database_url, account_id, mode, find)
    if as_json:
        data = [endpoint_to_wire(e) for e in found]
        click.echo(json.dumps({"object": "list", "data": data, "total": len(data)}))
        return
    for endpoint in found:
        _show(endpoint, as_json=False, with_secret=False)


@webhooks_group.command("remove")
@account_option
@mode_option
@click.argument("endpoint_id")
@database_url_option
def webhooks_remove(account_id: str, mode: str, endpoint_id: str, database_url: str | None) -> None:
    """Delete an endpoint: nothing more is delivered to it."""

    def remove(conn: Connection, principal: Principal) -> Endpoint:
        return service.delete_endpoint(
            conn, principal=principal, endpoint_id=endpoint_id, now=SystemClock().now()
        )

    _in_transaction(database_url, account_id, mode, remove)
    click.echo(f"{endpoint_id} removed")


@webhooks_group.command("roll-secret")
@account_option
@mode_option
@click.argument("endpoint_id")
@database_url_option
@json_option
def webhooks_roll_secret(
    account_id: str, mode: str, endpoint_id: str, database_url: str | None, as_json: bool
) -> None:
    """A new signing secret; the old one keeps signing beside it for 24 hours."""

    def roll(conn: Connection, principal: Principal) -> Endpoint:
        return service.roll_secret(
            conn, principal=principal, endpoint_id=endpoint_id, now=SystemClock().now()
        )

    endpoint = _in_transaction(database_url, account_id, mode, roll)
    if as_json:
        _show(endpoint, as_json=True, with_secret=True)
    else:
        click.echo(f"new secret {endpoint.shown_secret}")


def _time(_ctx: click.Context, _param: click.Parameter, value: str) -> datetime:
    try:
        return parse_time(value, end_of_day=_param.name == "end")
    except (ValueError, OverflowError):
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time or date") from None


@webhooks_group.command("redeliver")
@account_option
@mode_option
@click.option("--from", "start", required=True, callback=_time, help="ISO 8601 time or date.")
@click.option("--to", "end", required=True, callback=_time, help="ISO 8601 time or date.")
@click.option("--endpoint", "endpoint_id", help="Only to this endpoint (default: every one).")
@database_url_option
def webhooks_redeliver(
    account_id: str, mode: str, start: datetime, end: datetime, endpoint_id: str | None,
    database_url: str | None,
) -> None:  # fmt: skip
    """Send every event created between --from and --to again (new deliveries with the same
    webhook-id; what was delivered before, and other endpoints, are left as they are)."""

    def queue(conn: Connection, principal: Principal) -> int:
        return service.redeliver_range(
            conn,
            principal=principal,
            start=start,
            end=end,
            endpoint_id=endpoint_id,
            now=SystemClock().now(),
        )

    queued = _in_transaction(database_url, account_id, mode, queue)
    click.echo(f"{queued} deliveries queued")
