"""Live payments through real `paylinks serve` processes (the live-payments issue's fault tests):
the live server is SIGKILLed after Omise charged and before the answer was recorded, and 100
payments of one single-use link start at once. Omise is a second paylinks in test mode, behind
the fault-injecting proxy; the live side runs on SQLite and on PostgreSQL.

After the kill, the restarted server's own sweeper finds the pending charge, asks Omise, and
completes it: one upstream charge, one local successful charge, the link paid once, and the
merchant's events recorded once each."""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from factories import wait_until
from faults import DROP_AFTER, HOLD, FaultProxy
from servers import LiveServer, live_server, paylinks
from upstreams import at_upstream, upstream_charges, upstream_source, upstream_token

PAYERS = 100


@pytest.fixture(params=["sqlite", "postgres"])
def live_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'live.db'}"
    return str(request.getfixturevalue("own_postgres_url"))


def serve_live(database_url: str, proxy: FaultProxy, settle_after: str = "1") -> Any:
    """A live-side `paylinks serve` whose Omise is the upstream behind the proxy; it settles a
    lost answer as soon as the sweeper may (by default one second after the call could have
    answered)."""
    return live_server(
        database_url,
        env={
            "PAYLINKS_OMISE_API_URL": proxy.url,
            "PAYLINKS_OMISE_TIMEOUT_SECONDS": "5",
            "PAYLINKS_OMISE_SETTLE_AFTER_SECONDS": settle_after,
            "PAYLINKS_WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver is on 127.0.0.1
        },
    )


def connect(server: LiveServer, omise: LiveServer, webhook_secret: str = "") -> None:
    paylinks(
        "accounts", "connect-omise", server.account_id, "--public-key", omise.public_key,
        "--database-url", server.database_url,
        env={
            "PAYLINKS_OMISE_API_URL": omise.url, "OMISE_SECRET_KEY": omise.secret_key,
            "OMISE_WEBHOOK_SECRET": webhook_secret,
        },
    )  # fmt: skip


def connected(server: LiveServer, omise: LiveServer, webhook_secret: str = "") -> httpx.Client:
    """The live server's account connected to the upstream; a client with its live key."""
    connect(server, omise, webhook_secret)
    return live_api(server)


def live_api(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, auth=(server.live_keys["secret_key"], ""), timeout=30)


def new_link(api: httpx.Client, amount: int, title: str) -> dict[str, Any]:
    made = api.post("/links", json={"amount": amount, "currency": "thb", "title": title})
    assert made.status_code == 200, made.text
    return dict(made.json())


def test_a_kill_between_omises_answer_and_the_record_ends_in_omises_state(
    omise: LiveServer, proxy: FaultProxy, live_database: str
) -> None:
    with serve_live(live_database, proxy) as server:
        api = connected(server, omise)
        link = new_link(api, 70000, "Killed mid-payment")
        held = proxy.arm(HOLD, "POST", "/charges")
        body = {"card": upstream_token(omise), "link": link["id"]}
        paying = threading.Thread(target=lambda: _swallow(api.post, "/charges", json=body))
        paying.start()
        assert held.met.wait(30)
        # Omise has charged (the proxy forwarded the request and holds the answer): kill.
        wait_until(lambda: upstream_charges(omise, "paylinks_link_id", link["id"]), what="charge")
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(15)
        held.release.set()
        paying.join(30)
        api.close()
        with serve_live(live_database, proxy) as again:
            api = live_api(again)
            api.auth = (server.live_keys["secret_key"], "")
            [local] = api.get("/charges").json()["data"]
            assert local["link"] == link["id"]
            wait_until(
                lambda: api.get(f"/charges/{local['id']}").json()["status"] != "pending",
                timeout=30, what="the sweeper settles the charge",
            )  # fmt: skip
            settled = api.get(f"/charges/{local['id']}").json()
            events = api.get(f"/charges/{local['id']}/events").json()["data"]
            linked = api.get(f"/links/{link['id']}").json()
            api.close()
    [upstream] = upstream_charges(omise, "paylinks_link_id", link["id"])
    assert upstream["metadata"]["paylinks_charge_id"] == local["id"]
    assert (settled["status"], upstream["status"]) == ("successful", "successful")
    assert settled["card"]["last_digits"] == "4242" and linked["used"] is True
    # Each event once (the outbox queues one delivery per event and endpoint, in the event's
    # own transaction: tests/invariants/test_webhook_outbox_crash.py).
    assert sorted(e["key"] for e in events) == ["charge.complete", "charge.create"]


def _swallow(call: Any, *args: Any, **kwargs: Any) -> None:
    """A request to a server that is killed meanwhile: its answer, or its error, is moot."""
    with contextlib.suppress(httpx.HTTPError):
        call(*args, **kwargs)


def test_a_hundred_live_payments_of_one_single_use_link_make_one_omise_charge(
    omise: LiveServer, proxy: FaultProxy, live_database: str
) -> None:
    with serve_live(live_database, proxy) as server:
        api = connected(server, omise)
        link = new_link(api, 30000, "One of a kind")
        bodies = [{"card": upstream_token(omise), "link": link["id"]} for _ in range(PAYERS)]
        start = threading.Barrier(PAYERS)
        answers: list[httpx.Response] = []
        lock = threading.Lock()

        def payer(body: dict[str, str]) -> None:
            with httpx.Client(base_url=server.url, auth=api.auth, timeout=60) as own:
                start.wait()
                answer = own.post("/charges", json=body)
            with lock:
                answers.append(answer)

        threads = [threading.Thread(target=payer, args=(b,)) for b in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        statuses = [(a.status_code, a.json().get("status") or a.json()["code"]) for a in answers]
        local = api.get("/charges", params={"limit": 100}).json()
        api.close()
    assert statuses.count((200, "successful")) == 1
    assert statuses.count((400, "link_not_payable")) == PAYERS - 1
    [upstream] = upstream_charges(omise, "paylinks_link_id", link["id"])
    assert upstream["status"] == "successful"
    assert [c["id"] for c in local["data"]] == [upstream["metadata"]["paylinks_charge_id"]]


@pytest.mark.parametrize("way", ["card", "promptpay"])
def test_omises_webhook_reaches_the_live_server_and_completes_the_charge(
    omise: LiveServer, proxy: FaultProxy, live_database: str, way: str
) -> None:
    """The upstream's own webhook (Omise's signature scheme) to the live server's endpoint for
    the account; the sweeper is held off, so only the webhook can complete the charge: a card
    charge whose answer was lost, or a QR the customer's bank pays (the upstream's
    `mark_as_paid`)."""
    upstream_api = httpx.Client(base_url=omise.url, auth=(omise.secret_key, ""), timeout=30)
    with serve_live(live_database, proxy, settle_after="3600") as server:
        hook = upstream_api.post(
            "/webhook_endpoints",
            json={"url": f"{server.url}/omise/webhooks/{server.account_id}",
                  "signature_scheme": "omise", "events": ["charge.complete"]},
        ).json()  # fmt: skip
        try:
            api = connected(server, omise, webhook_secret=hook["secret"])
            link = new_link(api, 41000, "Told by webhook")
            if way == "card":
                proxy.arm(DROP_AFTER, "POST", "/charges")
                paid_with = {"card": upstream_token(omise)}
            else:
                paid_with = {"source": upstream_source(omise, 41000)}
            charge = api.post("/charges", json={**paid_with, "link": link["id"]}).json()
            assert charge["status"] == "pending"
            if way == "promptpay":  # the customer's bank pays Omise's QR
                [upstream] = upstream_charges(omise, "paylinks_charge_id", charge["id"])
                at_upstream(omise, upstream["id"], "mark_as_paid")
            wait_until(
                lambda: api.get(f"/charges/{charge['id']}").json()["status"] != "pending",
                timeout=30, what="Omise's webhook completes the charge",
            )  # fmt: skip
            settled = api.get(f"/charges/{charge['id']}").json()
            events = api.get(f"/charges/{charge['id']}/events").json()["data"]
            api.close()
        finally:
            upstream_api.delete(f"/webhook_endpoints/{hook['id']}")
            upstream_api.close()
    assert settled["status"] == "successful"
    if way == "card":
        assert settled["card"]["last_digits"] == "4242"
    assert sorted(e["key"] for e in events) == ["charge.complete", "charge.create"]
