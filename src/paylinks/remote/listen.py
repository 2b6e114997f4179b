"""`paylinks listen`: forward an account's events to a local URL as they happen, signed as the
webhook worker signs them, so a handler can be developed without a tunnel. It reads events
through the public API only; it never touches the database."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

import click
import httpx
import orjson

from paylinks.cli_common import api_options, mode_of
from paylinks.client import Client, PaylinksError
from paylinks.clock import parse_time
from paylinks.events import schemas as events_schemas
from paylinks.webhooks import signing
from paylinks.webhooks.signing import USER_AGENT

Event = dict[str, Any]

FORWARD_TIMEOUT = httpx.Timeout(10.0, connect=5.0)  # the webhook worker's
PAGE = 100  # the API's largest page
# An event's `created_at` is taken when its request starts, but the row is visible only once
# the transaction commits (the SQLite writer groups commits; a PostgreSQL transaction may wait on
# a lock), so events can appear slightly out of order. The window read on every poll therefore
# trails the server's clock by this much; ids already forwarded are remembered for that long.
SETTLE = timedelta(seconds=10)
OUTAGE_RETRY_SECONDS = 1.0


def derived_secret(secret_key: str) -> str:
    """The default signing secret: the same on every run with the same key, stored nowhere, and
    known only to whoever holds the key (who can read every event anyway)."""
    digest = hmac.new(secret_key.encode(), b"paylinks listen", hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(digest).decode()


def event_body(event: Event) -> bytes:
    """What the worker posts for this event (`events.schemas.event_body`), byte for byte."""
    return events_schemas.event_body(
        event_id=event["id"],
        livemode=event["livemode"],
        key=event["key"],
        created_at=parse_time(event["created_at"]),
        data=orjson.dumps(event["data"]),
    )


class EventFeed:
    """New events of the account, oldest first, each returned once.

    Each poll pages through `GET /events` in chronological order from `since`, which trails the
    server's clock by `SETTLE`; ids returned are remembered until `since` passes them, so ties
    in `created_at` (whole seconds) and re-read pages never return an event twice, and the
    memory holds only the last few seconds of events."""

    def __init__(self, api: Client) -> None:
        self.api = api
        self.since: datetime | None = None
        self.seen: dict[str, datetime] = {}

    def start(self) -> None:
        """Start at the server's current second; events already there are history, not news."""
        self.since = parse_time(self.api.list_events(limit=0)["to"])
        self.poll()

    def poll(self) -> list[Event]:
        events, server_now = self._read_window()
        fresh = []
        for event in events:  # one page may repeat a row of the page before
            if event["id"] not in self.seen:
                self.seen[event["id"]] = parse_time(event["created_at"])
                fresh.append(event)
        self._advance(server_now - SETTLE)
        return fresh

    def _read_window(self) -> tuple[list[Event], datetime]:
        """Every event from `since` on (inserts during paging only repeat rows, never skip
        them), and the server's time at the first page."""
        events: list[Event] = []
        server_now: datetime | None = None
        while True:
            page = self.api.list_events(
                limit=PAGE, offset=len(events), order="chronological", from_=self.since
            )
            server_now = server_now or parse_time(page["to"])
            events.extend(page["data"])
            if len(page["data"]) < PAGE or len(events) >= page["total"]:
                return events, server_now

    def _advance(self, since: datetime) -> None:
        assert self.since is not None, "start() first"
        if since <= self.since:
            return
        self.since = since
        # Older ids can no longer come back from a query that starts at `since`.
        self.seen = {i: at for i, at in self.seen.items() if at >= since}


@dataclass(frozen=True)
class Delivery:
    status: int | None
    error: str | None
    latency_ms: int


class Forwarder:
    """Posts events to one URL with the worker's headers and limits (no redirects, 10 s)."""

    def __init__(
        self, url: str, *, secret: str, scheme: str, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.url = url
        self.secret = secret
        self.scheme = scheme
        self.http = httpx.Client(
            timeout=FORWARD_TIMEOUT,
            follow_redirects=False,
            transport=transport,
            headers={"User-Agent": USER_AGENT},
        )

    def forward(self, event: Event) -> Delivery:
        body = event_body(event)
        headers = signing.signature_headers(
            body,
            secrets=[self.secret],
            scheme=self.scheme,
            message_id=event["id"],
            timestamp=int(time.time()),
        )
        started = time.monotonic()
        try:
            response = self.http.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return Delivery(None, error, _millis_since(started))
        return Delivery(response.status_code, None, _millis_since(started))

    def close(self) -> None:
        self.http.close()


def _millis_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def delivery_line(event: Event, delivery: Delivery) -> str:
    data = event.get("data")
    object_id = data.get("id", "-") if isinstance(data, dict) else "-"
    outcome = str(delivery.status) if delivery.error is None else f"error ({delivery.error})"
    return f"{_local_time()}  {event['key']:<16} {object_id}  {outcome}  {delivery.latency_ms} ms"


def _local_time() -> str:
    return f"{datetime.now().astimezone():%Y-%m-%d %H:%M:%S}"


def _check_forward_to(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise click.BadParameter("must be an http:// or https:// URL")
    return value


def _check_secret(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        # Standard Webhooks signs with the decoded bytes, so the secret must be base64.
        key = base64.b64decode(value.removeprefix("whsec_"), validate=True)
    except binascii.Error:
        key = b""
    if not key:
        raise click.BadParameter("must be whsec_ followed by base64, as `paylinks listen` prints")
    return value


def _parse_keys(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> frozenset[str] | None:
    if value is None:
        return None
    from paylinks.eventlog import EVENT_KEYS

    keys = frozenset(k.strip() for k in value.split(",") if k.strip())
    unknown = sorted(keys - set(EVENT_KEYS))
    if unknown or not keys:
        raise click.BadParameter(
            f"unknown event key {', '.join(unknown) or '(none given)'}; "
            f"known: {', '.join(EVENT_KEYS)}"
        )
    return keys


@click.command()
@click.option(
    "--forward-to", required=True, metavar="URL", callback=_check_forward_to, help="Where to post."
)
@api_options
@click.option(
    "--secret",
    callback=_check_secret,
    help="Signing secret (whsec_…). Default: derived from the secret key, the same every run.",
)
@click.option(
    "--events",
    "keys",
    callback=_parse_keys,
    metavar="KEY,KEY",
    help="Forward only these event keys, e.g. charge.complete,charge.failed. Default: all.",
)
@click.option(
    "--scheme",
    type=click.Choice(["seed", "omise"]),
    default="seed",
    show_default=True,
    help="How Omise-Signature is computed (the webhook endpoints' signature_scheme).",
)
@click.option(
    "--interval",
    type=click.FloatRange(0.05, 60),
    default=0.25,
    show_default=True,
    help="Seconds between polls of the server's events.",
)
def listen(
    forward_to: str,
    api_url: str,
    secret_key: str,
    secret: str | None,
    keys: frozenset[str] | None,
    scheme: str,
    interval: float,
) -> None:
    """Forward the account's events to URL as they happen, signed like webhooks.

    Polls the server's events from the moment it starts and posts each one to URL exactly
    once, with the body and signature headers the webhook worker sends; prints one line per
    delivery. Redirects are not followed and each post waits at most 10 s. A failed delivery is
    printed and NOT retried. If the server is unreachable for a while, listen waits for it.
    Ctrl-C stops.
    """
    mode = mode_of(secret_key)
    secret = secret or derived_secret(secret_key)
    with (
        _stop_on_sigterm(),
        Client(api_url, secret_key, timeout=10) as api,
        closing(Forwarder(forward_to, secret=secret, scheme=scheme)) as forwarder,
    ):
        try:
            feed = EventFeed(api)
            _start(feed, api_url)
            click.echo(
                f"Ready. Forwarding events of {mode} mode to {forward_to}. Signing secret: {secret}"
            )
            _forward_forever(feed, forwarder, keys=keys, interval=interval)
        except KeyboardInterrupt:
            click.echo("Stopped.")


def _start(feed: EventFeed, api_url: str) -> None:
    try:
        feed.start()
    except PaylinksError as exc:
        hint = " Is `paylinks serve` running there?" if exc.status is None else ""
        reason = str(exc).rstrip(".")
        raise click.ClickException(f"cannot read events from {api_url}: {reason}.{hint}") from None


def _forward_forever(
    feed: EventFeed, forwarder: Forwarder, *, keys: frozenset[str] | None, interval: float
) -> None:
    unreachable = False
    while True:
        try:
            fresh = feed.poll()
        except PaylinksError as exc:
            if exc.status == 401:  # the key was rolled: waiting will not help
                raise click.ClickException(f"the server refused the secret key: {exc}") from None
            if not unreachable:
                click.echo(f"{_local_time()}  cannot read events ({exc}); retrying")
            unreachable = True
            time.sleep(max(interval, OUTAGE_RETRY_SECONDS))
            continue
        if unreachable:
            click.echo(f"{_local_time()}  reading events again")
            unreachable = False
        for event in fresh:
            if keys is None or event["key"] in keys:
                click.echo(delivery_line(event, forwarder.forward(event)))
        if not fresh:
            time.sleep(interval)


@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """SIGTERM stops listen as Ctrl-C does (exit status 0)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
