"""`paylinks listen` and `paylinks trigger` against real servers and a real receiver, plus the
event feed's paging and de-duplication against a scripted events API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from factories import wait_until
from receivers import Received, Receiver, receiver
from servers import BIN, LiveServer, free_port, live_server, paylinks
from standardwebhooks.webhooks import Webhook

from paylinks.cli import main
from paylinks.client import Client
from paylinks.clock import format_time, parse_time
from paylinks.remote.listen import SETTLE, EventFeed, Forwarder, derived_secret, event_body
from paylinks.remote.trigger import TRIGGERS
from paylinks.webhooks import signing

pytestmark = pytest.mark.slow

NO_DELIVERY = {"PAYLINKS_DELIVER_WEBHOOKS": "false"}
BODY_KEYS = ["object", "id", "livemode", "location", "key", "created_at", "data"]
READY = re.compile(r"^Ready\. Forwarding events of (\w+) mode to (\S+)\. Signing secret: (\S+)$")


def settle() -> None:
    """Long enough for several more polls (every 50 ms), to catch a duplicate or stray post."""
    time.sleep(0.4)


@dataclass
class Listener:
    """A `paylinks listen` process whose output is read line by line as it comes."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.reader = threading.Thread(target=self._read, daemon=True)

    @classmethod
    def start(cls, api_url: str, secret_key: str, forward_to: str, *options: str) -> Listener:
        server = ["--api-url", api_url, "--secret-key", secret_key, "--interval", "0.05"]
        process = subprocess.Popen(
            [str(BIN / "paylinks"), "listen", "--forward-to", forward_to, *server, *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("PAYLINKS_")},
        )
        listener = cls(process)
        listener.reader.start()
        return listener

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:  # a pipe: only lines flushed by listen arrive
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        found: list[re.Match[str]] = []

        def seen() -> bool:
            found.extend(m for line in list(self.lines) if (m := re.search(pattern, line)))
            return bool(found) or self.process.poll() is not None

        wait_until(seen, timeout, what=f"{pattern!r} in {self.lines}")
        assert found, f"listen exited with {self.process.returncode}: {self.lines}"
        return found[0]

    def ready(self) -> tuple[str, str]:
        """Wait for the Ready line; the mode and the signing secret it names."""
        match = self.wait_for(READY.pattern)
        return match[1], match[3]

    def stop(self, signum: int = signal.SIGINT) -> int:
        self.process.send_signal(signum)
        code = self.process.wait(timeout=10)
        wait_until(lambda: self.lines and self.lines[-1] == "Stopped.", 5, "Stopped.")
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.reader.join(timeout=5)  # to the end of the output
        assert self.process.stdout is not None
        self.process.stdout.close()


def run_trigger(
    api_url: str, secret_key: str, key: str, *options: str
) -> subprocess.CompletedProcess[str]:
    """`paylinks trigger`, with the key from the environment as a developer would set it."""
    return subprocess.run(
        [str(BIN / "paylinks"), "trigger", key, "--api-url", api_url, *options],
        env={**os.environ, "PAYLINKS_SECRET_KEY": secret_key},
        capture_output=True,
        text=True,
        timeout=60,
    )


def payload(received: Received) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(received.body)
    return parsed


def keys_of(hook: Receiver) -> list[str]:
    return [payload(r)["key"] for r in list(hook.received)]


def live_secret_key(server: LiveServer) -> str:
    out = paylinks(
        "accounts", "create", "--name", "Live", "--json", "--database-url", server.database_url
    )
    return str(json.loads(out)["keys"]["live"]["secret_key"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('listen') / 'paylinks.db'}"
    with live_server(database_url) as live:
        yield live


# -- listen and trigger together ---------------------------------------------------------------


def test_listen_forwards_each_triggered_event_once_signed_like_a_webhook(
    server: LiveServer,
) -> None:
    with (
        receiver() as hook,
        closing(Listener.start(server.url, server.secret_key, hook.url)) as listener,
    ):
        mode, secret = listener.ready()
        assert mode == "test"
        done = run_trigger(server.url, server.secret_key, "charge.complete")
        assert done.returncode == 0, done.stderr
        wait_until(lambda: len(hook.received) >= 3, what="three deliveries")
        settle()
        assert listener.stop() == 0

    out = done.stdout.splitlines()
    link_id = re.fullmatch(r"link (payl_test_\w+) created", out[0])[1]  # type: ignore[index]
    assert re.fullmatch(r"token tokn_test_\w+ created", out[1])
    charge_id = re.fullmatch(r"charge (chrg_test_\w+) successful", out[2])[1]  # type: ignore[index]
    assert out[3] == "events: link.create, charge.create, charge.complete"

    assert keys_of(hook) == ["link.create", "charge.create", "charge.complete"]
    for got in hook.received:
        event = payload(got)
        assert list(event) == BODY_KEYS  # the worker's body: no webhook_deliveries
        assert got.headers["content-type"] == "application/json"
        assert got.headers["webhook-id"] == event["id"]
        # The seed's verifyWebhook: hex HMAC-SHA256 of the raw body, the secret as text.
        expected = hmac.new(secret.encode(), got.body, hashlib.sha256).hexdigest()
        assert got.headers["omise-signature"] == expected
        Webhook(secret).verify(got.body, got.headers)  # raises when it does not verify
    link, create, complete = (payload(r)["data"] for r in hook.received)
    assert link["id"] == link_id
    assert create["id"] == complete["id"] == charge_id
    assert complete["link"] == link_id
    assert complete["status"] == "successful"

    lines = [line.split() for line in listener.lines if re.match(r"\d{4}-\d\d-\d\d ", line)]
    assert [line[2:5] for line in lines] == [
        ["link.create", link_id, "200"],
        ["charge.create", charge_id, "200"],
        ["charge.complete", charge_id, "200"],
    ]
    assert all(line[-1] == "ms" and line[-2].isdigit() for line in lines)


def test_events_filter_secret_and_omise_scheme(server: LiveServer) -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    options = ["--events", "charge.failed", "--secret", secret, "--scheme", "omise"]
    with (
        receiver() as hook,
        closing(Listener.start(server.url, server.secret_key, hook.url, *options)) as listener,
    ):
        assert listener.ready() == ("test", secret)
        assert run_trigger(server.url, server.secret_key, "charge.failed").returncode == 0
        wait_until(lambda: hook.received, what="a delivery")
        # Events are forwarded oldest first: link.create and charge.create would have come first.
        settle()
    assert keys_of(hook) == ["charge.failed"]
    got = hook.received[0]
    assert payload(got)["data"]["failure_code"] == "insufficient_fund"
    # Omise's scheme: HMAC of "timestamp.body" keyed with the decoded secret.
    signed = got.headers["omise-signature-timestamp"].encode() + b"." + got.body
    key = base64.b64decode(secret.removeprefix("whsec_"))
    assert got.headers["omise-signature"] == hmac.new(key, signed, hashlib.sha256).hexdigest()
    Webhook(secret).verify(got.body, got.headers)


def test_signing_secret_is_derived_from_the_key_the_same_on_every_run(server: LiveServer) -> None:
    live_key = live_secret_key(server)
    runs = []
    with receiver() as hook:
        for key, signum in [
            (server.secret_key, signal.SIGINT),
            (server.secret_key, signal.SIGTERM),
            (live_key, signal.SIGINT),
        ]:
            with closing(Listener.start(server.url, key, hook.url)) as listener:
                runs.append(listener.ready())
                assert listener.stop(signum) == 0
    (first_mode, first), (_, second), (live_mode, live) = runs
    assert first == second == derived_secret(server.secret_key)
    assert (first_mode, live_mode) == ("test", "live")
    assert live == derived_secret(live_key) != first
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32


def test_listen_refuses_a_key_the_server_does_not_know(server: LiveServer) -> None:
    with receiver() as hook:
        listener = Listener.start(server.url, "skey_test_" + "0" * 32, hook.url)
        with closing(listener):
            assert listener.process.wait(timeout=20) == 1
            listener.wait_for("authentication_failure")


def test_trigger_refuses_a_live_key(server: LiveServer) -> None:
    live_key = live_secret_key(server)
    result = run_trigger(server.url, live_key, "link.create")
    assert result.returncode == 1
    assert "test mode only" in result.stderr
    with Client(server.url, live_key) as api:
        assert api.list_events()["total"] == 0
        assert api.request("GET", "/links")["total"] == 0


@pytest.mark.parametrize("key", TRIGGERS)
def test_trigger_produces_its_event(server: LiveServer, key: str) -> None:
    result = CliRunner().invoke(
        main, ["trigger", key, "--json", "--api-url", server.url, "--secret-key", server.secret_key]
    )
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout)
    subject = made["charge"] if key.startswith("charge.") else made["link"]
    with Client(server.url, server.secret_key) as api:
        recent = api.list_events(limit=100, order="reverse_chronological")["data"]
    produced = [e["key"] for e in recent if e["data"]["id"] == subject["id"]]
    assert key in produced
    assert key in made["events"]
    if key.startswith("charge."):
        assert subject["link"] == made["link"]["id"]
        assert subject["status"] == ("failed" if key == "charge.failed" else "successful")


def test_listen_waits_out_a_server_restart(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'paylinks.db'}"
    port = free_port()
    listener: Listener | None = None
    with receiver() as hook:
        try:
            with live_server(database_url, port=port, env=NO_DELIVERY) as first:
                key = first.secret_key
                listener = Listener.start(first.url, key, hook.url)
                listener.ready()
            listener.wait_for("cannot read events")
            with live_server(database_url, port=port, env=NO_DELIVERY) as second:
                listener.wait_for("reading events again")
                assert run_trigger(second.url, key, "link.create").returncode == 0
                wait_until(lambda: hook.received, what="a delivery")
                settle()
                assert listener.stop() == 0
        finally:
            if listener is not None:
                listener.close()
    assert keys_of(hook) == ["link.create"]
    # One line for the whole outage, however many polls failed.
    assert len([line for line in listener.lines if "cannot read events" in line]) == 1


def test_forwarded_body_is_byte_for_byte_the_workers(server: LiveServer) -> None:
    with (
        receiver() as by_worker,
        receiver() as by_listen,
        Client(server.url, server.secret_key) as api,
    ):
        # The module's server delivers webhooks, to endpoints only this test creates.
        endpoint = api.request("POST", "/webhook_endpoints", json={"url": by_worker.url})
        try:
            with closing(Listener.start(server.url, server.secret_key, by_listen.url)) as listener:
                listener.ready()
                assert run_trigger(server.url, server.secret_key, "link.update").returncode == 0
                wait_until(lambda: len(by_worker.received) == len(by_listen.received) == 2)
        finally:
            api.request("DELETE", f"/webhook_endpoints/{endpoint['id']}")
    worker = {r.headers["webhook-id"]: r for r in by_worker.received}
    listen = {r.headers["webhook-id"]: r for r in by_listen.received}
    assert worker.keys() == listen.keys()
    for event_id, sent in worker.items():
        assert listen[event_id].body == sent.body
        assert listen[event_id].headers.keys() == sent.headers.keys()


# -- the feed and the forwarder, scripted ------------------------------------------------------


@dataclass
class FakeEvents:
    """`GET /events` over an in-memory list: `from` compares exact times, as the server does,
    and the wire shows whole seconds."""

    now: datetime
    rows: list[tuple[datetime, str]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    before_page: Callable[[int], None] = lambda offset: None

    def add(self, at: datetime, count: int = 1) -> list[str]:
        ids = [f"evnt_test_{len(self.rows) + i:019d}" for i in range(count)]
        self.rows.extend((at, i) for i in ids)
        return ids

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        params = request.url.params
        offset, limit = int(params.get("offset", 0)), int(params["limit"])
        self.before_page(offset)
        since = parse_time(params["from"]) if "from" in params else T - timedelta(days=1)
        matching = sorted((r for r in self.rows if r[0] >= since), key=lambda r: (r[0], r[1]))
        data: list[dict[str, Any]] = [
            {"id": i, "key": "link.create", "created_at": format_time(at), "data": {"id": "p"}}
            for at, i in matching[offset : offset + limit]
        ]
        body = {"object": "list", "data": data, "total": len(matching), "to": format_time(self.now)}
        return httpx.Response(200, json=body)


T = datetime(2026, 11, 24, 2, 50, 0, 500000, tzinfo=UTC)


def feed_over(fake: FakeEvents) -> EventFeed:
    transport = httpx.MockTransport(fake.handle)
    return EventFeed(Client("http://paylinks.test", "skey_test_k", transport=transport))


def test_feed_skips_history_and_returns_ties_across_pages_once() -> None:
    fake = FakeEvents(now=T)
    fake.add(T - timedelta(milliseconds=200), 3)  # the same second, before listen started
    feed = feed_over(fake)
    feed.start()
    assert feed.poll() == []
    fresh = fake.add(T + timedelta(milliseconds=100), 150)  # all tied at one second
    before = len(fake.requests)
    assert [e["id"] for e in feed.poll()] == fresh
    assert [r.url.params["offset"] for r in fake.requests[before:]] == ["0", "100"]
    assert feed.poll() == []


def test_feed_returns_a_late_commit_once_even_when_it_shifts_a_page() -> None:
    fake = FakeEvents(now=T)
    feed = feed_over(fake)
    feed.start()
    first = fake.add(T + timedelta(milliseconds=300), 150)
    late: list[str] = []

    def commit_late(offset: int) -> None:
        # Committed while the second page is read, but timed before every row read so far:
        # the second page starts with the first page's last row again.
        if offset == 100 and not late:
            late.extend(fake.add(T + timedelta(milliseconds=1)))

    fake.before_page = commit_late
    assert [e["id"] for e in feed.poll()] == first  # the repeated row is not returned twice
    assert [e["id"] for e in feed.poll()] == late
    assert feed.poll() == []


def test_feed_forgets_ids_once_its_window_passes_them() -> None:
    fake = FakeEvents(now=T)
    feed = feed_over(fake)
    feed.start()
    fake.add(T + timedelta(seconds=1), 5)
    assert len(feed.poll()) == 5
    assert len(feed.seen) == 5
    fake.now = T + timedelta(seconds=60)
    assert feed.poll() == []
    assert feed.seen == {}
    expected = "2026-11-24T02:50:50Z"  # the server's time, less SETTLE
    assert feed.since == parse_time(expected) == fake.now.replace(microsecond=0) - SETTLE
    feed.poll()
    assert fake.requests[-1].url.params["from"] == expected


def test_forwarder_signs_posts_once_and_reports_failures() -> None:
    event = {
        "object": "event",
        "id": "evnt_test_1",
        "livemode": False,
        "location": "/events/evnt_test_1",
        "key": "charge.create",
        "created_at": "2026-11-24T02:50:00Z",
        "data": {"id": "chrg_test_1"},
        "webhook_deliveries": [{"id": "whdl_test_1"}],
    }
    posts: list[httpx.Request] = []

    def redirect(request: httpx.Request) -> httpx.Response:
        posts.append(request)
        return httpx.Response(307, headers={"location": "http://elsewhere.test/"})

    secret = derived_secret("skey_test_k")
    forwarder = Forwarder(
        "http://hook.test/", secret=secret, scheme="seed", transport=httpx.MockTransport(redirect)
    )
    delivery = forwarder.forward(event)
    assert (delivery.status, delivery.error, len(posts)) == (307, None, 1)  # not followed
    body = posts[0].content
    assert body == event_body(event)
    assert b"webhook_deliveries" not in body
    timestamp = int(posts[0].headers["webhook-timestamp"])
    expected = signing.signature_headers(
        body, secrets=[secret], scheme="seed", message_id="evnt_test_1", timestamp=timestamp
    )
    assert {k.lower(): v for k, v in expected.items()}.items() <= posts[0].headers.items()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    forwarder = Forwarder(
        "http://hook.test/", secret=secret, scheme="seed", transport=httpx.MockTransport(refuse)
    )
    failed = forwarder.forward(event)
    assert (failed.status, failed.error) == (None, "ConnectError: Connection refused")
