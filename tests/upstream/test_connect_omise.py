"""Connecting an account to its own Omise account (the live-payments issue, item 1), with a
second paylinks in test mode standing in for Omise (it speaks the same API): the keys are checked
with the upstream before anything is stored, the secret key is stored sealed (never in plain
text; only its last four characters are shown), and disconnecting forgets it. From the CLI and
from the dashboard (live-mode sessions only, after proving again who is signed in)."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from factories import TestAccount, sign_in
from servers import LiveServer
from starlette.testclient import TestClient

from paylinks.cli import main
from paylinks.db import Database
from paylinks.keyring import installation_key
from paylinks.ops import safety
from paylinks.upstream import connections
from paylinks.upstream.currencies import capability_currencies
from paylinks.upstream.sealing import SealBroken, seal, unseal

KEY = bytes(range(32))


def connection(db: Database, account: TestAccount) -> connections.OmiseConnection | None:
    with db.snapshot() as conn:
        return connections.connection_of(conn, account_pk=account.pk)


def opened(db: Database, found: connections.OmiseConnection) -> str:
    with db.transaction() as conn:
        key = installation_key(conn, master="", name=connections.SEALING_KEY)
    return found.secret_key(key)


def test_sealing_opens_only_with_its_key_for_its_owner() -> None:
    sealed = seal(KEY, "skey_test_abcdefghij1234", owner="acct_one")
    assert "abcdefghij" not in sealed and sealed.startswith("v1.")
    assert unseal(KEY, sealed, owner="acct_one") == "skey_test_abcdefghij1234"
    assert seal(KEY, "skey_test_abcdefghij1234", owner="acct_one") != sealed  # fresh nonce
    for key, owner, text in [
        (bytes(32), "acct_one", sealed),  # another installation's key
        (KEY, "acct_two", sealed),  # moved to another account's row
        (KEY, "acct_one", sealed[:-4] + "AAAA"),  # tampered with
        (KEY, "acct_one", "skey_test_plain"),  # never sealed
    ]:
        with pytest.raises(SealBroken):
            unseal(key, text, owner=owner)


def cli(api_url: str, database_url: str, *args: str, secret: str | None) -> Any:
    env = {"PAYLINKS_OMISE_API_URL": api_url}
    if secret is not None:
        env["OMISE_SECRET_KEY"] = secret
    return CliRunner().invoke(main, [*args, "--database-url", database_url], env=env)


def test_the_cli_connects_after_the_upstream_accepts_the_keys(
    omise: LiveServer, db: Database, account: TestAccount, database_url: str
) -> None:
    connect = ["accounts", "connect-omise", account.id, "--public-key", omise.public_key]
    done = cli(omise.url, database_url, *connect, secret=omise.secret_key)
    assert done.exit_code == 0, done.output
    assert omise.secret_key not in done.output and omise.secret_key[-4:] in done.output
    assert "Omise test keys" in done.output
    found = connection(db, account)
    assert found is not None and found.public_key == omise.public_key
    assert omise.secret_key not in found.secret_key_sealed
    # What the upstream's capability says, kept for the live links' currency check.
    taken = httpx.get(f"{omise.url}/capability", auth=(omise.public_key, "")).json()
    assert list(found.currencies) == capability_currencies(taken) and "thb" in found.currencies
    assert opened(db, found) == omise.secret_key
    if database_url.startswith("sqlite:///"):  # nowhere in the files either
        # Read by another process: closing a descriptor of a database file in this process
        # would drop the locks its open connections hold (POSIX), and SQLite would corrupt.
        path = Path(database_url.removeprefix("sqlite:///"))
        files = [str(f) for f in (path, path.with_name(path.name + "-wal")) if f.exists()]
        found = subprocess.run(["grep", "-F", "-l", omise.secret_key, *files], check=False)
        assert found.returncode == 1  # grep: no file holds it
    gone = cli(omise.url, database_url, "accounts", "disconnect-omise", account.id, secret=None)
    assert gone.exit_code == 0 and "disconnected" in gone.output
    assert connection(db, account) is None


@pytest.mark.parametrize(
    ("public", "secret", "why"),
    [
        (None, "skey_test_" + "x" * 32, "Omise refused the secret key"),
        ("pkey_test_" + "y" * 32, None, "Omise refused the public key"),
        (None, "not-a-key", "must look like skey_"),
        ("pkey_" + "y" * 32, None, "different modes"),
    ],
)
def test_the_cli_refuses_keys_the_upstream_refuses_and_stores_nothing(
    omise: LiveServer,
    db: Database,
    account: TestAccount,
    database_url: str,
    public: str | None,
    secret: str | None,
    why: str,
) -> None:
    public = public or omise.public_key
    connect = ["accounts", "connect-omise", account.id, "--public-key", public]
    refused = cli(omise.url, database_url, *connect, secret=secret or omise.secret_key)
    assert refused.exit_code == 1 and why in refused.output, refused.output
    assert connection(db, account) is None


def test_an_unreachable_upstream_stores_nothing(
    db: Database, account: TestAccount, database_url: str
) -> None:
    connect = ["accounts", "connect-omise", account.id, "--public-key", "pkey_test_" + "a" * 20]
    refused = cli("http://127.0.0.1:9", database_url, *connect, secret="skey_test_" + "b" * 20)
    assert refused.exit_code == 1 and "could not be reached" in refused.output
    assert connection(db, account) is None


def omise_form(csrf: str, omise: LiveServer, proof: str, **fields: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "public_key": omise.public_key,
        "secret_key": omise.secret_key,
        "current_secret_key": proof,
        **fields,
    }


def test_the_dashboard_connects_from_live_mode_after_proof(
    make_client: Any, db: Database, account: TestAccount, omise: LiveServer
) -> None:
    client: TestClient = make_client(omise_api_url=omise.url)
    csrf = sign_in(client, account.live.secret_key)
    page = client.get("/dashboard/developers/omise")
    assert page.status_code == 200 and 'id="omise-not-connected"' in page.text
    wrong = omise_form(csrf, omise, account.test.secret_key)  # the other mode's key: no proof
    refused = client.post("/dashboard/developers/omise/connect", data=wrong)
    assert refused.status_code == 403 and connection(db, account) is None
    bad = omise_form(csrf, omise, account.live.secret_key, secret_key="skey_test_" + "z" * 30)
    upstream_no = client.post("/dashboard/developers/omise/connect", data=bad)
    assert upstream_no.status_code == 400 and "Omise refused the secret key" in upstream_no.text
    hook_secret = "d2ViaG9vay1zZWNyZXQtZnJvbS10aGUtZGFzaGJvYXJk"
    good = omise_form(csrf, omise, account.live.secret_key, webhook_secret=hook_secret)
    done = client.post("/dashboard/developers/omise/connect", data=good, follow_redirects=True)
    assert done.status_code == 200 and "Connected." in done.text
    assert omise.secret_key not in done.text and f"skey_…{omise.secret_key[-4:]}" in done.text
    assert hook_secret not in done.text and "verified with the secret you gave" in done.text
    assert f"/omise/webhooks/{account.id}</code>" in done.text
    found = connection(db, account)
    assert found is not None and opened(db, found) == omise.secret_key
    with db.transaction() as conn:
        key = installation_key(conn, master="", name=connections.SEALING_KEY)
    assert found.webhook_secret(key) == hook_secret
    off = client.post(
        "/dashboard/developers/omise/disconnect",
        data={"csrf": csrf, "current_secret_key": account.live.secret_key},
        follow_redirects=True,
    )
    assert "Disconnected." in off.text and connection(db, account) is None


def test_a_test_mode_session_cannot_connect(
    make_client: Any, db: Database, account: TestAccount, omise: LiveServer
) -> None:
    client: TestClient = make_client(omise_api_url=omise.url)
    csrf = sign_in(client, account.test.secret_key)
    assert "Switch to live mode" in client.get("/dashboard/developers/omise").text
    form = omise_form(csrf, omise, account.test.secret_key)
    refused = client.post("/dashboard/developers/omise/connect", data=form)
    assert refused.status_code == 403 and connection(db, account) is None


def test_live_mode_says_which_accounts_take_live_payments(
    db: Database, account: TestAccount, other_account: TestAccount
) -> None:
    with db.transaction() as conn:
        connections.connect(
            conn, account_id=account.id, public_key="pkey_" + "p" * 20 + "wxyz",
            secret_key="skey_" + "s" * 20, sealing_key=KEY, now=datetime.now(UTC),
        )  # fmt: skip
    lines = {line.split(" ")[3]: line for line in safety.live_accounts(db)}
    assert lines[account.id].endswith("Omise pkey_ppppp…wxyz")
    assert lines[other_account.id].endswith("not connected (paylinks accounts connect-omise)")


def test_a_live_link_must_be_in_a_currency_the_connected_omise_takes(
    make_client: Any, db: Database, account: TestAccount
) -> None:
    client: TestClient = make_client()
    body = {"amount": 100000, "title": "Mug"}
    live, test = (account.live.secret_key, ""), (account.test.secret_key, "")
    # Not connected: nothing to check against (live charges wait for the connection anyway).
    assert client.post("/links", auth=live, json={**body, "currency": "usd"}).status_code == 200
    with db.transaction() as conn:
        connections.connect(
            conn, account_id=account.id, public_key="pkey_" + "p" * 20,
            secret_key="skey_" + "s" * 20, sealing_key=KEY, now=datetime.now(UTC),
            currencies=["jpy", "thb"],
        )  # fmt: skip
    refused = client.post("/links", auth=live, json={**body, "currency": "usd"})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_currency"
    assert "does not take USD (it takes JPY, THB)" in refused.json()["message"]
    assert client.post("/links", auth=live, json={**body, "currency": "thb"}).status_code == 200
    assert client.post("/links", auth=test, json={**body, "currency": "usd"}).status_code == 200
    csrf = sign_in(client, account.live.secret_key)
    form = {
        "csrf": csrf,
        "title": "Cup",
        "amount": "100",
        "currency": "usd",
        "amount_type": "fixed",
    }
    page = client.post("/dashboard/links/new", data=form)
    assert page.status_code == 400 and "does not take USD" in page.text


def test_the_webhook_secret_is_sealed_and_kept_when_new_keys_come_without_it(
    omise: LiveServer, db: Database, account: TestAccount, database_url: str
) -> None:
    hook_secret = "c2VjcmV0LW9mLW9taXNlcy13ZWJob29rcy0xMjM0NTY="
    connect = ["accounts", "connect-omise", account.id, "--public-key", omise.public_key]
    done = cli(omise.url, database_url, *connect, "--webhook-secret", hook_secret,
               secret=omise.secret_key)  # fmt: skip
    assert done.exit_code == 0, done.output
    assert hook_secret not in done.output and f"/omise/webhooks/{account.id}" in done.output
    found = connection(db, account)
    assert found is not None and found.webhook_secret_sealed is not None
    assert hook_secret not in found.webhook_secret_sealed
    with db.transaction() as conn:
        key = installation_key(conn, master="", name=connections.SEALING_KEY)
    assert found.webhook_secret(key) == hook_secret
    # Sealed for its own purpose: it does not open as the account's secret key.
    with pytest.raises(SealBroken):
        unseal(key, found.webhook_secret_sealed, owner=account.id)
    again = cli(omise.url, database_url, *connect, secret=omise.secret_key)
    assert again.exit_code == 0 and "will be refused" not in again.output
    kept = connection(db, account)
    assert kept is not None and kept.webhook_secret(key) == hook_secret
