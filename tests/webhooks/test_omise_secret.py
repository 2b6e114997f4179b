"""An `omise` endpoint's secret is handed out as Omise's dashboard hands it out: the plain base64
of the 32 key bytes, no `whsec_` — in the API's answers (create, roll), the CLI's output (JSON
and text) and the dashboard's page — so that a receiver written from Omise's documentation
verifies real deliveries with the string exactly as given. A `seed` endpoint keeps `whsec_…`
(its scheme keys the HMAC with that very text). The key itself is stored one way whatever the
scheme, so changing the scheme changes only the form shown, never the key.

The verifiers here are written from the schemes' documents (omise-compat §5), not with paylinks'
signing code; the key bytes are read back from the database to compare every surface with.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from factories import TestAccount, auth, drain, sign_in
from receivers import Received, Receiver, receiver
from servers import paylinks
from starlette.testclient import TestClient

from paylinks.db import Database
from paylinks.models import webhook_endpoints
from paylinks.webhooks import service

pytestmark = pytest.mark.usefixtures("empty_outbox")


def omise_documented_verify(body: bytes, headers: dict[str, str], secret: str) -> bool:
    """Straight from Omise's documentation: base64-decode the secret as given, HMAC-SHA256 of
    `<Omise-Signature-Timestamp>.<body>`, compare the hex with each comma-separated value."""
    timestamp = headers["omise-signature-timestamp"]
    if abs(time.time() - int(timestamp)) > 300:
        return False
    try:
        key = base64.b64decode(secret, validate=True)
    except binascii.Error:  # e.g. a `whsec_` prefix: not base64, so nothing verifies
        return False
    expected = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return any(
        hmac.compare_digest(expected, given.strip())
        for given in headers["omise-signature"].split(",")
    )


def seed_documented_verify(body: bytes, headers: dict[str, str], secret: str) -> bool:
    """The seed's verifyWebhook: hex HMAC-SHA256 of the raw body, keyed with the secret as text
    (during a roll, either comma-separated value)."""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return any(
        hmac.compare_digest(expected, given.strip())
        for given in headers["omise-signature"].split(",")
    )


def stored_key(db: Database, endpoint_id: str) -> bytes:
    """The endpoint's current key bytes, read from its row: stored `whsec_` + base64 whatever
    the scheme, always 32 bytes."""
    with db.snapshot() as conn:
        stored = conn.execute(
            sa.select(webhook_endpoints.c.secret).where(webhook_endpoints.c.id == endpoint_id)
        ).scalar_one()
    assert stored.startswith("whsec_")
    key = base64.b64decode(stored.removeprefix("whsec_"), validate=True)
    assert len(key) == 32
    return key


def omise_form(key: bytes) -> str:
    """How Omise's dashboard shows a key: its plain base64."""
    return base64.b64encode(key).decode()


def deliver_one(client: TestClient, account: TestAccount, db: Database, rx: Receiver) -> Received:
    """Make a `link.create` happen and let the worker deliver it; the one request received."""
    before = len(rx.received)
    made = client.post(
        "/links",
        auth=auth(account.test.secret_key),
        json={"amount": 50000, "currency": "thb", "title": "Signed for Omise"},
    )
    assert made.status_code == 200, made.text
    assert drain(db) == 1
    (delivery,) = rx.received[before:]
    assert orjson.loads(delivery.body)["key"] == "link.create"
    return delivery


def tampered(delivery: Received) -> bytes:
    return delivery.body.replace(b"Signed for Omise", b"Signed for Omisf")


# -- the three places a secret is shown ---------------------------------------------------------


@dataclass
class Surface:
    """One place an endpoint's secret is shown: `create(url, scheme)` gives (id, secret as
    shown), `roll(id)` the new secret as shown."""

    create: Callable[[str, str], tuple[str, str]]
    roll: Callable[[str], str]


def api_surface(client: TestClient, account: TestAccount) -> Surface:
    key = auth(account.test.secret_key)

    def create(url: str, scheme: str) -> tuple[str, str]:
        body = {"url": url, "signature_scheme": scheme, "events": ["link.create"]}
        made = client.post("/webhook_endpoints", auth=key, json=body)
        assert made.status_code == 200, made.text
        return made.json()["id"], made.json()["secret"]

    def roll(endpoint_id: str) -> str:
        rolled = client.post(f"/webhook_endpoints/{endpoint_id}/roll_secret", auth=key)
        assert rolled.status_code == 200, rolled.text
        secret: str = rolled.json()["secret"]
        return secret

    return Surface(create, roll)


def dashboard_surface(client: TestClient, account: TestAccount) -> Surface:
    csrf = sign_in(client, account.test.secret_key)

    def shown(page: Any) -> str:
        assert page.status_code == 200, page.text
        found = re.search(r'<input id="secret" value="([^"]+)" readonly>', page.text)
        assert found is not None, page.text
        copied = re.search(r'data-copy="([^"]+)"', page.text)
        assert copied is not None and copied.group(1) == found.group(1)  # the Copy button's too
        return found.group(1)

    def create(url: str, scheme: str) -> tuple[str, str]:
        form = {"csrf": csrf, "url": url, "events": ["link.create"], "scheme": scheme}
        page = client.post("/dashboard/developers/endpoints", data=form)
        endpoint_id = re.search(r"/dashboard/developers/endpoints/(wbhk_test_\w+)", page.text)
        assert endpoint_id is not None
        return endpoint_id.group(1), shown(page)

    def roll(endpoint_id: str) -> str:
        url = f"/dashboard/developers/endpoints/{endpoint_id}/roll"
        return shown(client.post(url, data={"csrf": csrf}))

    return Surface(create, roll)


def cli_surface(account: TestAccount, database_url: str, *, as_json: bool) -> Surface:
    common = ["--account", account.id, "--database-url", database_url]
    json_flag = ["--json"] if as_json else []

    def create(url: str, scheme: str) -> tuple[str, str]:
        out = paylinks(
            "webhooks", "add", "--url", url, "--events", "link.create", "--scheme", scheme,
            *json_flag, *common,
        )  # fmt: skip
        if as_json:
            made = json.loads(out)
            return made["id"], made["secret"]
        found = re.fullmatch(r"(wbhk_test_\w+)  .*\n  secret (\S+)\n", out)
        assert found is not None, out
        return found.group(1), found.group(2)

    def roll(endpoint_id: str) -> str:
        out = paylinks("webhooks", "roll-secret", endpoint_id, *json_flag, *common)
        if as_json:
            secret: str = json.loads(out)["secret"]
            return secret
        found = re.fullmatch(r"new secret (\S+)\n", out)
        assert found is not None, out
        return found.group(1)

    return Surface(create, roll)


SURFACES = ["api", "dashboard", "cli-json", "cli-text"]


@pytest.fixture(params=SURFACES)
def surface(
    request: pytest.FixtureRequest, make_client: Any, account: TestAccount, database_url: str
) -> Surface:
    if request.param == "api":
        return api_surface(make_client(), account)
    if request.param == "dashboard":
        return dashboard_surface(make_client(), account)
    return cli_surface(account, database_url, as_json=request.param == "cli-json")


# -- tests --------------------------------------------------------------------------------------


def test_an_omise_secret_as_shown_verifies_real_deliveries_on_create_and_after_a_roll(
    surface: Surface, client: TestClient, account: TestAccount, db: Database
) -> None:
    with receiver() as rx:
        endpoint_id, secret = surface.create(rx.url, "omise")
        # Exactly Omise's form of the stored key: plain base64, no prefix.
        assert not secret.startswith("whsec_") and "whsec" not in secret
        assert secret == omise_form(stored_key(db, endpoint_id))
        first = deliver_one(client, account, db, rx)
        assert omise_documented_verify(first.body, first.headers, secret)
        assert not omise_documented_verify(tampered(first), first.headers, secret)

        rolled = surface.roll(endpoint_id)
        assert rolled != secret and not rolled.startswith("whsec_")
        assert rolled == omise_form(stored_key(db, endpoint_id))
        second = deliver_one(client, account, db, rx)
    assert omise_documented_verify(second.body, second.headers, rolled)
    # During the 24-hour overlap the old secret, as it was shown, still verifies.
    assert len(second.headers["omise-signature"].split(",")) == 2
    assert omise_documented_verify(second.body, second.headers, secret)
    assert not omise_documented_verify(tampered(second), second.headers, rolled)


def test_a_seed_secret_is_still_shown_with_whsec(
    surface: Surface, client: TestClient, account: TestAccount, db: Database
) -> None:
    with receiver() as rx:
        endpoint_id, secret = surface.create(rx.url, "seed")
        assert secret == "whsec_" + omise_form(stored_key(db, endpoint_id))
        first = deliver_one(client, account, db, rx)
        rolled = surface.roll(endpoint_id)
        assert rolled.startswith("whsec_") and rolled != secret
        assert rolled == "whsec_" + omise_form(stored_key(db, endpoint_id))
        second = deliver_one(client, account, db, rx)
    assert seed_documented_verify(first.body, first.headers, secret)
    assert seed_documented_verify(second.body, second.headers, rolled)
    # The seed's key is the text with its prefix: the bare base64 does not verify.
    assert not seed_documented_verify(second.body, second.headers, rolled.removeprefix("whsec_"))


def test_changing_the_scheme_changes_the_form_shown_not_the_key(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    api = api_surface(client, account)
    key = auth(account.test.secret_key)

    def patch(endpoint_id: str, scheme: str) -> dict[str, Any]:
        patched = client.patch(
            f"/webhook_endpoints/{endpoint_id}", auth=key, json={"signature_scheme": scheme}
        )
        assert patched.status_code == 200, patched.text
        answer: dict[str, Any] = patched.json()
        assert answer["signature_scheme"] == scheme and "secret" not in answer  # shown once
        return answer

    with receiver() as rx:
        endpoint_id, seed_secret = api.create(rx.url, "seed")
        key_bytes = stored_key(db, endpoint_id)
        patch(endpoint_id, "omise")
        assert stored_key(db, endpoint_id) == key_bytes  # the same 32 bytes
        switched = deliver_one(client, account, db, rx)
        # The key held in the seed's form serves Omise's scheme once `whsec_` is dropped
        # (docs/compatibility.md), as it is; a roll now shows Omise's form.
        assert omise_documented_verify(
            switched.body, switched.headers, seed_secret.removeprefix("whsec_")
        )
        rolled = api.roll(endpoint_id)
        assert not rolled.startswith("whsec_")
        after_roll = deliver_one(client, account, db, rx)
        assert omise_documented_verify(after_roll.body, after_roll.headers, rolled)

        patch(endpoint_id, "seed")
        back = deliver_one(client, account, db, rx)
        # Back to the seed: the same key, `whsec_` put back in front.
        assert seed_documented_verify(back.body, back.headers, "whsec_" + rolled)
        rolled_again = api.roll(endpoint_id)
        assert rolled_again.startswith("whsec_")
        assert rolled_again == "whsec_" + omise_form(stored_key(db, endpoint_id))


def test_secrets_are_never_logged_nor_in_an_endpoints_repr(
    client: TestClient, account: TestAccount, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    api = api_surface(client, account)
    caplog.set_level(logging.DEBUG)
    with receiver() as rx:
        endpoint_id, secret = api.create(rx.url, "omise")
        api.roll(endpoint_id)
        deliver_one(client, account, db, rx)
    with db.snapshot() as conn:
        endpoint = service.from_row(
            conn.execute(
                sa.select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
            ).one()
        )
    assert endpoint.previous_secret is not None
    for text in (repr(endpoint), str(endpoint), caplog.text):
        for value in (endpoint.secret, endpoint.previous_secret, secret):
            assert value.removeprefix("whsec_") not in text
    assert endpoint_id in repr(endpoint)
