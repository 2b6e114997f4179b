"""Idempotency-Key: a POST, PATCH or DELETE happens at most once per (account, mode, key); the
first response is replayed byte for byte for 24 hours; a request that died after its change
committed is answered from the object it made."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from factories import VISA_OK, TestAccount, auth, card, link
from servers import live_server
from starlette.testclient import TestClient

from paylinks.api import idempotency
from paylinks.clock import FrozenClock
from paylinks.db import Database
from paylinks.models import idempotency_keys
from paylinks.ops.housekeeping import sweep

LINK = {"amount": 100000, "currency": "thb", "title": "Idempotent"}


def post(client: TestClient, key: str, path: str, body: Any, secret: str, **kw: Any) -> Any:
    return client.post(path, auth=auth(secret), json=body, headers={"Idempotency-Key": key}, **kw)


def total_links(client: TestClient, secret: str) -> int:
    total: int = client.get("/links", auth=auth(secret), params={"limit": 0}).json()["total"]
    return total


def test_a_repeated_request_is_replayed_byte_for_byte(
    client: TestClient, account: TestAccount
) -> None:
    secret = account.test.secret_key
    first = post(client, "order-1", "/links", LINK, secret)
    again = post(client, "order-1", "/links/", LINK, secret)  # the trailing-slash twin too
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert total_links(client, secret) == 1


def test_the_same_key_for_another_request_is_refused(
    client: TestClient, account: TestAccount
) -> None:
    secret = account.test.secret_key
    post(client, "order-2", "/links", LINK, secret)
    for path, body in (("/links", {**LINK, "amount": 200000}), ("/charges", {"amount": 1})):
        refused = post(client, "order-2", path, body, secret)
        assert refused.status_code == 422
        assert refused.json()["object"] == "error"
        assert refused.json()["code"] == "idempotency_key_reused"
    assert total_links(client, secret) == 1


def test_keys_are_scoped_to_account_and_mode(
    client: TestClient, account: TestAccount, other_account: TestAccount
) -> None:
    """One key, one body, three callers: three objects, each in its caller's account and mode
    (a test-mode object must never be replayed to a live key, nor one account's to another)."""
    callers = (account.test.secret_key, account.live.secret_key, other_account.test.secret_key)
    made = [post(client, "shared-key", "/links", LINK, secret) for secret in callers]
    assert [m.status_code for m in made] == [200, 200, 200]
    assert not any("idempotent-replayed" in m.headers for m in made)
    assert len({m.json()["id"] for m in made}) == 3
    assert [m.json()["livemode"] for m in made] == [False, True, False]
    for secret, answer in zip(callers, made, strict=True):
        again = post(client, "shared-key", "/links", LINK, secret)
        assert again.headers["idempotent-replayed"] == "true" and again.content == answer.content


def test_failed_requests_are_not_stored(client: TestClient, account: TestAccount) -> None:
    secret = account.test.secret_key
    bad = post(client, "order-3", "/links", {**LINK, "title": None}, secret)
    assert bad.status_code == 400
    missing = client.patch(
        "/links/payl_test_missing",
        auth=auth(secret),
        json={"description": "x"},
        headers={"Idempotency-Key": "order-3"},
    )
    assert missing.status_code == 404
    good = post(client, "order-3", "/links", LINK, secret)
    assert good.status_code == 200 and "idempotent-replayed" not in good.headers


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "caf\u00e9"])
def test_malformed_keys_are_refused(client: TestClient, account: TestAccount, key: str) -> None:
    secret = account.test.secret_key
    headers = [("Idempotency-Key", key.encode())]
    response = client.post("/links", auth=auth(secret), json=LINK, headers=headers)
    assert response.status_code == 400 and response.json()["code"] == "bad_request"
    assert total_links(client, secret) == 0


def test_a_key_expires_after_24_hours(make_client: Any, account: TestAccount) -> None:
    clock = FrozenClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    secret = account.test.secret_key
    first = post(client, "daily", "/links", LINK, secret).json()
    clock.advance(24 * 3600 - 1)
    assert post(client, "daily", "/links", LINK, secret).json()["id"] == first["id"]
    clock.advance(2)
    later = post(client, "daily", "/links", LINK, secret)
    assert later.json()["id"] != first["id"] and "idempotent-replayed" not in later.headers


def test_charges_tokens_and_updates_happen_once(client: TestClient, account: TestAccount) -> None:
    secret, public = account.test.secret_key, account.test.public_key
    invoice = link(client, account)
    token = post(client, "tok-1", "/tokens", {"card": card(VISA_OK)}, public)
    assert (
        post(client, "tok-1", "/tokens", {"card": card(VISA_OK)}, public).content == token.content
    )
    body = {"card": token.json()["id"], "link": invoice["id"]}
    charged = post(client, "pay-1", "/charges", body, secret)
    replay = post(client, "pay-1", "/charges", body, secret)  # not "used_token": replayed
    assert charged.status_code == replay.status_code == 200 and replay.content == charged.content
    listed = client.get(f"/links/{invoice['id']}/charges", auth=auth(secret)).json()
    assert listed["total"] == 1
    change = {"description": "once"}
    path = f"/links/{invoice['id']}"
    patched = client.patch(path, auth=auth(secret), json=change, headers={"Idempotency-Key": "p"})
    again = client.patch(path, auth=auth(secret), json=change, headers={"Idempotency-Key": "p"})
    assert again.content == patched.content and again.headers["idempotent-replayed"] == "true"
    events = client.get("/events", auth=auth(secret), params={"limit": 100}).json()["data"]
    assert [e["key"] for e in events].count("link.update") == 1


def test_requests_without_a_key_are_not_affected(client: TestClient, account: TestAccount) -> None:
    secret = account.test.secret_key
    for _ in range(2):
        client.post("/links", auth=auth(secret), json=LINK)
    assert total_links(client, secret) == 2


def died_after_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next response is never stored, as if the process died right after its commit."""
    real = idempotency.store
    calls = {"n": 0}

    def crash(conn: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("killed before the response was stored")
        real(conn, **kwargs)

    monkeypatch.setattr(idempotency, "store", crash)


CASES = {
    "link": ("/links", lambda ctx: LINK, "GET", "/links/{id}"),
    "endpoint": (
        "/webhook_endpoints",
        lambda ctx: {"url": "http://127.0.0.1:9/hook"},
        None,
        None,
    ),
    "charge": (
        "/charges",
        lambda ctx: {"card": ctx["token"](), "amount": 5000, "currency": "usd"},
        "GET",
        "/charges/{id}",
    ),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_request_that_died_after_its_commit_is_answered_from_its_object(
    make_client: Any, account: TestAccount, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    clock = FrozenClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    secret = account.test.secret_key

    def new_token() -> str:
        made = client.post("/tokens", auth=auth(account.test.public_key), json={"card": card()})
        token_id: str = made.json()["id"]
        return token_id

    path, body_of, _method, retrieve = CASES[kind]
    body = body_of({"token": new_token})
    died_after_commit(monkeypatch)
    crashed = post(client, f"crash-{kind}", path, body, secret)
    assert crashed.status_code == 500
    in_flight = post(client, f"crash-{kind}", path, body, secret)
    assert in_flight.status_code == 409
    assert in_flight.json()["code"] == "idempotency_key_in_use"
    clock.advance(idempotency.IN_FLIGHT.total_seconds() + 1)
    rebuilt = post(client, f"crash-{kind}", path, body, secret)
    assert rebuilt.status_code == 200 and rebuilt.headers["idempotent-replayed"] == "true"
    made = rebuilt.json()
    if retrieve is not None:
        current = client.get(retrieve.format(id=made["id"]), auth=auth(secret)).json()
        assert made == current
    else:
        assert made["secret"].startswith("whsec_")  # the create's answer shows the secret
    # From now on, that rebuilt answer is the stored one; and only one object exists.
    assert post(client, f"crash-{kind}", path, body, secret).content == rebuilt.content
    listing = "/webhook_endpoints" if kind == "endpoint" else path
    assert client.get(listing, auth=auth(secret)).json()["total"] == 1


# One client process: 13 POSTs at once with the same key, each on its own connection (so they
# spread over the server's processes); prints each answer's status and body.
RUSH = """
import concurrent.futures, json, sys, httpx
url, key = sys.argv[1], sys.argv[2]
def one(_):
    with httpx.Client(timeout=30) as c:
        r = c.post(url + "/links", auth=(key, ""), headers={"Idempotency-Key": "rush"},
                   json={"amount": 100000, "currency": "thb", "title": "Idempotent"})
        return [r.status_code, r.text]
with concurrent.futures.ThreadPoolExecutor(13) as pool:
    print(json.dumps(list(pool.map(one, range(13)))))
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_concurrent_requests_with_one_key_make_one_object(
    backend: str, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    """52 POSTs with one key from 4 client processes against 2 API processes: one link, every
    answer the stored one or a 409, never a 5xx."""
    if backend == "postgres":
        url = request.getfixturevalue("own_postgres_url")
    else:
        url = f"sqlite:///{tmp_path / 'once.db'}"
    with live_server(url, workers=2) as server:
        clients = [
            subprocess.Popen(
                [sys.executable, "-c", RUSH, server.url, server.secret_key],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        answers = [a for c in clients for a in json.loads(c.communicate(timeout=120)[0])]
        total = httpx.get(
            f"{server.url}/links", auth=(server.secret_key, ""), params={"limit": 0}
        ).json()["total"]
    assert len(answers) == 52
    assert {status for status, _ in answers} <= {200, 409}, answers
    assert len({body for status, body in answers if status == 200}) == 1
    assert total == 1


def test_housekeeping_forgets_expired_keys(
    make_client: Any, account: TestAccount, db: Database
) -> None:
    clock = FrozenClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    post(client, "old", "/links", LINK, account.test.secret_key)
    clock.advance(3600)
    post(client, "new", "/links", LINK, account.test.secret_key)

    def keys() -> set[str]:
        with db.snapshot() as conn:
            found = conn.execute(
                sa.select(idempotency_keys.c.key).where(idempotency_keys.c.account_pk == account.pk)
            )
            return set(found.scalars())

    assert keys() == {"old", "new"}
    clock.advance(23 * 3600 + 1)  # "old" is 24 h and a second old
    with db.transaction() as conn:
        sweep(conn, now=clock.now())
    assert keys() == {"new"}


def test_the_in_flight_window_and_the_key_lifetime_end_exactly(
    make_client: Any, account: TestAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retry exactly `IN_FLIGHT` after a died request is answered (no longer in flight); a key
    exactly `KEY_TTL` old is forgotten (a new request)."""
    clock = FrozenClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    secret = account.test.secret_key
    died_after_commit(monkeypatch)
    assert post(client, "edge", "/links", LINK, secret).status_code == 500
    clock.advance(idempotency.IN_FLIGHT.total_seconds() - 1)
    assert post(client, "edge", "/links", LINK, secret).status_code == 409
    clock.advance(1)
    rebuilt = post(client, "edge", "/links", LINK, secret)
    assert rebuilt.status_code == 200 and rebuilt.headers["idempotent-replayed"] == "true"
    clock.advance((idempotency.KEY_TTL - idempotency.IN_FLIGHT).total_seconds())
    fresh = post(client, "edge", "/links", LINK, secret)
    assert "idempotent-replayed" not in fresh.headers
    assert fresh.json()["id"] != rebuilt.json()["id"]


def test_the_same_request_is_recognised_in_any_spelling(
    client: TestClient, account: TestAccount
) -> None:
    """Parameter order and a trailing slash do not make another request; another value does."""
    secret = account.test.secret_key
    headers = {"Idempotency-Key": "spelling", "content-type": "application/json"}
    first = client.post(
        "/links", auth=auth(secret), headers=headers,
        content=json.dumps({"amount": 100000, "currency": "thb", "title": "Same"}),
    )  # fmt: skip
    again = client.post(
        "/links/", auth=auth(secret), headers=headers,
        content=json.dumps({"title": "Same", "currency": "thb", "amount": 100000}),
    )  # fmt: skip
    assert again.headers["idempotent-replayed"] == "true" and again.content == first.content
    other = client.post(
        "/links", auth=auth(secret), headers=headers,
        content=json.dumps({"title": "Other", "currency": "thb", "amount": 100000}),
    )  # fmt: skip
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


def test_each_key_keeps_its_own_answer(client: TestClient, account: TestAccount) -> None:
    """Stored answers are per key: a second key's answer never overwrites the first's."""
    secret = account.test.secret_key
    first = post(client, "own-1", "/links", LINK, secret)
    second = post(client, "own-2", "/links", {**LINK, "title": "Second"}, secret)
    assert post(client, "own-1", "/links", LINK, secret).content == first.content
    assert post(client, "own-2", "/links", {**LINK, "title": "Second"}, secret).content == (
        second.content
    )
    refused = post(client, "own-3", "/links", {**LINK, "amount": -1}, secret)
    assert refused.status_code == 400
    retried = post(client, "own-3", "/links", LINK, secret)  # a failure was not stored
    assert retried.status_code == 200 and "idempotent-replayed" not in retried.headers


def test_housekeeping_counts_what_it_forgets(db: Database, account: TestAccount) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    with db.transaction() as conn:
        for key, expires in (("old-a", now), ("old-b", now), ("young", now + idempotency.KEY_TTL)):
            conn.execute(
                idempotency_keys.insert().values(
                    account_pk=account.pk, livemode=False, key=key, method="POST",
                    path="/links", request_hash="x", created_at=0,
                    expires_at=int(expires.timestamp() * 1_000_000),
                )
            )  # fmt: skip
    with db.transaction() as conn:
        assert idempotency.reap(conn, now=now) >= 2
        left = conn.execute(
            sa.select(idempotency_keys.c.key).where(idempotency_keys.c.account_pk == account.pk)
        ).scalars()
        assert set(left) == {"young"}
