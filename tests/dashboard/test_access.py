"""Dashboard access: sign-in with a secret key or an e-mail and password, the session cookie,
CSRF on every form, expiry, mode switching, and the limit on sign-in attempts."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from factories import TestAccount, sign_in, sign_in_user
from servers import BIN
from starlette.testclient import TestClient

from paylinks.clock import FrozenClock, SystemClock
from paylinks.dashboard import users
from paylinks.db import Database
from paylinks.models import users as users_table

PASSWORD = "correct horse battery"


def add_user(db: Database, account: TestAccount, email: str = "owner@example.com") -> None:
    with db.transaction() as conn:
        users.create_user(
            conn, account_pk=account.pk, email=email, password=PASSWORD, now=SystemClock().now()
        )


def unique_email(account: TestAccount) -> str:
    return f"owner-{account.id}@example.com"


def test_nothing_is_reachable_without_a_session(client: TestClient) -> None:
    for path in ("/dashboard", "/dashboard/links", "/dashboard/developers"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/dashboard/sign-in?next={path}"
    refused = client.post("/dashboard/sign-out", follow_redirects=False)
    assert refused.status_code == 303 and "sign-in" in refused.headers["location"]


def test_a_secret_key_signs_in_with_a_safe_cookie(client: TestClient, account: TestAccount) -> None:
    response = client.post(
        "/dashboard/sign-in",
        data={"secret_key": account.test.secret_key, "next": "/dashboard/links"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/links"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/dashboard" in cookie
    assert "secure" not in cookie  # http://127.0.0.1 in tests; https turns it on
    assert account.test.secret_key.lower() not in cookie
    page = client.get("/dashboard")
    assert page.status_code == 200 and "Test mode" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["cache-control"] == "no-store"
    assert "Switch to live" not in page.text  # a key's session keeps the key's mode


@pytest.mark.parametrize("which", ["public", "unknown", "empty"])
def test_wrong_keys_are_refused(client: TestClient, account: TestAccount, which: str) -> None:
    key = {"public": account.test.public_key, "unknown": "skey_test_nope", "empty": ""}[which]
    response = client.post("/dashboard/sign-in", data={"secret_key": key}, follow_redirects=False)
    assert response.status_code == 401 and "did not match" in response.text
    assert "set-cookie" not in response.headers
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_live_key_opens_a_live_session(client: TestClient, account: TestAccount) -> None:
    sign_in(client, account.live.secret_key)
    assert "Live mode" in client.get("/dashboard").text


def test_users_sign_in_with_email_and_password_and_switch_modes(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    email = unique_email(account)
    add_user(db, account, email)
    wrong = client.post(
        "/dashboard/sign-in", data={"email": email, "password": "wrong password!"},
        follow_redirects=False,
    )  # fmt: skip
    assert wrong.status_code == 401
    csrf = sign_in_user(client, email.upper(), PASSWORD)  # e-mails are case-insensitive
    page = client.get("/dashboard")
    assert "Test mode" in page.text and "Switch to live" in page.text
    switched = client.post(
        "/dashboard/mode", data={"csrf": csrf, "mode": "live", "next": "/dashboard"},
        follow_redirects=False,
    )  # fmt: skip
    assert switched.status_code == 303
    assert "Live mode" in client.get("/dashboard").text


def test_a_key_session_cannot_switch_mode(client: TestClient, account: TestAccount) -> None:
    csrf = sign_in(client, account.test.secret_key)
    refused = client.post("/dashboard/mode", data={"csrf": csrf, "mode": "live"})
    assert refused.status_code == 403
    assert "Test mode" in client.get("/dashboard").text


def test_forms_without_the_sessions_csrf_token_are_refused(
    client: TestClient, account: TestAccount, other_account: TestAccount
) -> None:
    sign_in(client, account.test.secret_key)
    for data in ({}, {"csrf": "0" * 64}):
        refused = client.post("/dashboard/sign-out", data=data, follow_redirects=False)
        assert refused.status_code == 403 and "no longer valid" in refused.text
    assert client.get("/dashboard", follow_redirects=False).status_code == 200  # still in
    with TestClient(client.app) as stranger:  # another session's token does not work either
        foreign = sign_in(stranger, other_account.test.secret_key)
    refused = client.post("/dashboard/sign-out", data={"csrf": foreign}, follow_redirects=False)
    assert refused.status_code == 403


def test_signing_out_ends_the_session_for_good(client: TestClient, account: TestAccount) -> None:
    csrf = sign_in(client, account.test.secret_key)
    cookie = client.cookies.get("paylinks_session")
    out = client.post("/dashboard/sign-out", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/dashboard/sign-in"
    client.cookies.set("paylinks_session", cookie or "", path="/dashboard")  # replaying it
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_sessions_expire_when_idle_and_after_twelve_hours(
    make_client: Any, account: TestAccount
) -> None:
    clock = FrozenClock(datetime(2026, 6, 1, 8, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    sign_in(client, account.test.secret_key)
    for _ in range(11):  # active every hour: renewed each time
        clock.advance(3600)
        assert client.get("/dashboard", follow_redirects=False).status_code == 200
    clock.advance(3600 + 1)  # past twelve hours since sign-in
    assert client.get("/dashboard", follow_redirects=False).status_code == 303
    sign_in(client, account.test.secret_key)
    clock.advance(2 * 3600 + 1)  # idle for over two hours
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_sign_in_attempts_are_limited(client: TestClient, account: TestAccount) -> None:
    for _ in range(10):
        client.post("/dashboard/sign-in", data={"secret_key": "skey_test_guess"})
    limited = client.post("/dashboard/sign-in", data={"secret_key": account.test.secret_key})
    assert limited.status_code == 429 and "Too many attempts" in limited.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/links"])
def test_next_never_leaves_the_dashboard(
    client: TestClient, account: TestAccount, target: str
) -> None:
    response = client.post(
        "/dashboard/sign-in",
        data={"secret_key": account.test.secret_key, "next": target},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/dashboard"


def test_static_files_and_unknown_pages(client: TestClient, account: TestAccount) -> None:
    css = client.get("/dashboard/static/dashboard.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert client.get("/dashboard/static/../../etc/passwd").status_code == 404
    assert client.get("/dashboard/static/secret.py").status_code == 404
    page = client.get("/dashboard/sign-in")
    assert 'type="password"' in page.text and 'for="secret_key"' in page.text


def test_users_command_creates_a_user_who_can_sign_in(
    database_url: str, client: TestClient, account: TestAccount
) -> None:
    email = f"cli-{account.id}@example.com"
    result = subprocess.run(
        [str(BIN / "paylinks"), "users", "create", "--account", account.id, "--email", email,
         "--password-stdin", "--database-url", database_url],
        input=PASSWORD + "\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout
    sign_in_user(client, email, PASSWORD)
    short = subprocess.run(
        [str(BIN / "paylinks"), "users", "create", "--account", account.id, "--email",
         "x" + email, "--password-stdin", "--database-url", database_url],
        input="short\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert short.returncode != 0 and "at least 12" in short.stderr


def test_passwords_are_stored_as_scrypt_hashes(db: Database, account: TestAccount) -> None:
    add_user(db, account, unique_email(account))
    with db.snapshot() as conn:
        stored = conn.execute(
            sa.select(users_table.c.password_hash).where(users_table.c.account_pk == account.pk)
        ).scalar_one()
    assert stored.startswith("scrypt$32768$8$1$") and PASSWORD not in stored
    assert users.password_matches(PASSWORD, stored)
    assert not users.password_matches(PASSWORD + "x", stored)
