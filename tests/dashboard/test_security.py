"""Dashboard sessions against a stolen or stale session: a session opened with a key ends when the
key is rolled (CLI or dashboard); rolling asks for the key or the password again; a password
change signs the user out everywhere else; repeated wrong passwords lock the user for a while,
from any address; sign-in posts from other sites are refused; and the sign-in limit counts the
real client, so a rotated `X-Forwarded-For` does not reset it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from factories import (
    TestAccount,
    auth,
    csrf_of,
    make_account,
    quiet_settings,
    sign_in,
    sign_in_user,
)
from servers import BIN, live_server
from starlette.testclient import TestClient

from paylinks.app import create_app
from paylinks.clock import FrozenClock, SystemClock
from paylinks.dashboard import users
from paylinks.db import Database

PASSWORD = "correct horse battery"
NEW_PASSWORD = "staple battery horse"


def add_user(db: Database, account: TestAccount, email: str) -> None:
    with db.transaction() as conn:
        users.create_user(
            conn, account_pk=account.pk, email=email, password=PASSWORD, now=SystemClock().now()
        )


@pytest.fixture
def browsers(db: Database) -> Iterator[Any]:
    """Clients of one app (each its own cookie jar), made with a clock and a client address."""
    opened: list[TestClient] = []

    def open_browser(
        *, clock: Any = None, address: str = "203.0.113.10", **settings: Any
    ) -> TestClient:
        app = create_app(quiet_settings(**settings), database=db, clock=clock)
        client = TestClient(app, raise_server_exceptions=False, client=(address, 50000))
        client.__enter__()
        opened.append(client)
        return client

    yield open_browser
    for client in opened:
        client.__exit__(None, None, None)


def signed_out(client: TestClient) -> bool:
    response = client.get("/dashboard", follow_redirects=False)
    if response.status_code == 200:
        return False
    assert response.status_code == 303 and "/dashboard/sign-in" in response.headers["location"]
    return True


def roll_from_cli(database_url: str, account: TestAccount, mode: str) -> dict[str, Any]:
    result = subprocess.run(
        [str(BIN / "paylinks"), "accounts", "roll-keys", account.id, "--mode", mode, "--json",
         "--database-url", database_url],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rolled: dict[str, Any] = json.loads(result.stdout)
    return rolled


def test_rolling_a_key_from_the_cli_ends_the_sessions_it_opened(
    browsers: Any, db: Database, database_url: str, account: TestAccount
) -> None:
    """The probe's reproduction: sign in with the live secret key, roll the live keys from the
    CLI; the old session must not load the dashboard, let alone roll the keys again."""
    email = f"owner-{account.id}@example.com"
    add_user(db, account, email)
    live_session, test_session, user_session = browsers(), browsers(), browsers()
    csrf = sign_in(live_session, account.live.secret_key)
    sign_in(test_session, account.test.secret_key)
    sign_in_user(user_session, email, PASSWORD)
    roll_from_cli(database_url, account, "live")
    assert signed_out(live_session)
    again = live_session.post(
        "/dashboard/developers/keys/roll",
        data={"csrf": csrf, "confirm": "yes", "current_secret_key": account.live.secret_key},
        follow_redirects=False,
    )
    assert again.status_code == 303 and "/dashboard/sign-in" in again.headers["location"]
    assert "skey_" not in again.text
    # Only the sessions of the rolled key end: the test key's and the user's go on.
    assert not signed_out(test_session) and not signed_out(user_session)


def test_a_user_rolls_keys_with_the_password_and_stays_signed_in(
    browsers: Any, db: Database, account: TestAccount
) -> None:
    email = f"owner-{account.id}@example.com"
    add_user(db, account, email)
    client = browsers()
    csrf = sign_in_user(client, email, PASSWORD)
    form = {"csrf": csrf, "confirm": "yes"}
    page = client.get("/dashboard/developers/keys?roll=1").text
    assert 'name="password"' in page and 'name="current_secret_key"' not in page
    for proof in ({}, {"password": "not the password"}, {"password": account.test.secret_key}):
        refused = client.post("/dashboard/developers/keys/roll", data={**form, **proof})
        assert refused.status_code == 403, proof
        assert client.get("/links", auth=auth(account.test.secret_key)).status_code == 200
    rolled = client.post("/dashboard/developers/keys/roll", data={**form, "password": PASSWORD})
    assert rolled.status_code == 200 and "skey_test_" in rolled.text
    assert client.get("/links", auth=auth(account.test.secret_key)).status_code == 401
    assert not signed_out(client)  # a user's session is not tied to a key


def test_a_password_change_ends_the_users_other_sessions(
    browsers: Any, db: Database, account: TestAccount
) -> None:
    email, colleague = f"owner-{account.id}@example.com", f"colleague-{account.id}@example.com"
    add_user(db, account, email)
    add_user(db, account, colleague)
    here, elsewhere, other_user = browsers(), browsers(), browsers()
    csrf = sign_in_user(here, email, PASSWORD)
    sign_in_user(elsewhere, email, PASSWORD)
    sign_in_user(other_user, colleague, PASSWORD)
    change = {"csrf": csrf, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    wrong = here.post("/dashboard/password", data={**change, "password": "not it at all"})
    assert wrong.status_code == 403 and not signed_out(elsewhere)
    differ = here.post(
        "/dashboard/password",
        data={**change, "password": PASSWORD, "new_password_again": NEW_PASSWORD + "x"},
    )
    assert differ.status_code == 400 and not signed_out(elsewhere)
    changed = here.post("/dashboard/password", data={**change, "password": PASSWORD})
    assert changed.status_code == 200 and "password is changed" in changed.text
    assert not signed_out(here)
    assert signed_out(elsewhere)
    assert not signed_out(other_user)
    stranger = browsers()
    refused = stranger.post("/dashboard/sign-in", data={"email": email, "password": PASSWORD})
    assert refused.status_code == 401
    sign_in_user(stranger, email, NEW_PASSWORD)


def test_a_key_session_has_no_password_page(browsers: Any, account: TestAccount) -> None:
    client = browsers()
    csrf = sign_in(client, account.test.secret_key)
    assert client.get("/dashboard/password").status_code == 404
    refused = client.post(
        "/dashboard/password",
        data={"csrf": csrf, "password": "x", "new_password": NEW_PASSWORD},
    )
    assert refused.status_code == 404


def test_repeated_wrong_passwords_lock_the_user_from_any_address_until_time_passes(
    browsers: Any, db: Database, account: TestAccount
) -> None:
    email = f"owner-{account.id}@example.com"
    add_user(db, account, email)
    clock = FrozenClock(datetime(2026, 6, 1, 8, 0, tzinfo=UTC))
    # A new address for every attempt: the per-address limit never bites, the user's lock does.
    for n in range(users.LOCK_AFTER - 1):
        guess = browsers(clock=clock, address=f"198.51.100.{n + 1}")
        answer = guess.post("/dashboard/sign-in", data={"email": email, "password": f"guess{n}"})
        assert answer.status_code == 401
    last = browsers(clock=clock, address="198.51.100.200")
    locked = last.post("/dashboard/sign-in", data={"email": email, "password": "guess-last"})
    assert locked.status_code == 429 and "locked until 08:15 UTC" in locked.text
    owner = browsers(clock=clock, address="192.0.2.44")
    still = owner.post("/dashboard/sign-in", data={"email": email, "password": PASSWORD})
    assert still.status_code == 429 and "locked" in still.text  # even the right password waits
    clock.advance(users.LOCK_FOR.total_seconds() - 1)
    assert (
        owner.post("/dashboard/sign-in", data={"email": email, "password": PASSWORD}).status_code
        == 429
    )
    clock.advance(1)
    sign_in_user(owner, email, PASSWORD)


def test_the_cli_sets_a_password_lifts_the_lock_and_ends_every_session(
    browsers: Any, db: Database, database_url: str, account: TestAccount
) -> None:
    email = f"owner-{account.id}@example.com"
    add_user(db, account, email)
    client = browsers()
    sign_in_user(client, email, PASSWORD)
    result = subprocess.run(
        [str(BIN / "paylinks"), "users", "set-password", "--email", email, "--password-stdin",
         "--database-url", database_url],
        input=NEW_PASSWORD + "\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert NEW_PASSWORD not in result.stdout + result.stderr
    assert signed_out(client)
    sign_in_user(client, email, NEW_PASSWORD)


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://attacker.example"},
    ],
)
def test_sign_in_posts_from_other_sites_are_refused(
    browsers: Any, account: TestAccount, headers: dict[str, str]
) -> None:
    """Login CSRF: another site's form must not sign the visitor into the attacker's account."""
    client = browsers()
    response = client.post(
        "/dashboard/sign-in",
        data={"secret_key": account.test.secret_key},
        headers=headers,
        follow_redirects=False,
    )
    assert response.status_code == 403 and "set-cookie" not in response.headers
    assert signed_out(client)


def test_same_site_sign_in_still_works(browsers: Any, account: TestAccount) -> None:
    client = browsers()
    response = client.post(
        "/dashboard/sign-in",
        data={"secret_key": account.test.secret_key},
        headers={"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert csrf_of(client.get("/dashboard"))


def test_the_sign_in_limit_believes_forwarded_addresses_only_from_trusted_proxies(
    browsers: Any, account: TestAccount
) -> None:
    def attempts(client: TestClient) -> list[int]:
        return [
            client.post(
                "/dashboard/sign-in",
                data={"secret_key": "skey_test_guess"},
                headers={"X-Forwarded-For": f"192.0.2.{n}"},
            ).status_code
            for n in range(12)
        ]

    # Not trusted: every forged header is the same client.
    direct = browsers(address="203.0.113.77")
    assert attempts(direct)[-2:] == [429, 429]
    # Behind a trusted proxy, each forwarded address is its own client.
    proxied = browsers(address="10.0.0.2", trusted_proxies="10.0.0.0/24")
    assert set(attempts(proxied)) == {401}


def test_a_served_dashboard_does_not_take_x_forwarded_for_from_loopback(
    database_url: str,
) -> None:
    """uvicorn believes X-Forwarded-For from loopback unless told otherwise; paylinks tells it."""
    with live_server(database_url) as server:
        answers = [
            httpx.post(
                f"{server.url}/dashboard/sign-in",
                data={"secret_key": "skey_test_guess"},
                headers={"X-Forwarded-For": f"192.0.2.{n}"},
            ).status_code
            for n in range(12)
        ]
    assert answers[:10] == [401] * 10 and answers[10:] == [429, 429]


def test_rolling_keys_of_one_account_leaves_anothers_sessions(
    browsers: Any, db: Database, database_url: str, account: TestAccount
) -> None:
    other = make_account(db, "Another merchant")
    mine, theirs = browsers(), browsers()
    sign_in(mine, account.test.secret_key)
    sign_in(theirs, other.test.secret_key)
    roll_from_cli(database_url, account, "test")
    assert signed_out(mine) and not signed_out(theirs)
