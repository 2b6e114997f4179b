"""Helpers for dashboard tests: signing in and reading the CSRF token of a page."""

from __future__ import annotations

import re

import httpx
from starlette.testclient import TestClient

CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def sign_in(client: TestClient, secret_key: str) -> str:
    """Open a dashboard session with an API secret key (the client keeps the cookie); the
    session's CSRF token, for forms."""
    response = client.post(
        "/dashboard/sign-in", data={"secret_key": secret_key}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/dashboard"))


def sign_in_user(client: TestClient, email: str, password: str) -> str:
    response = client.post(
        "/dashboard/sign-in", data={"email": email, "password": password}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/dashboard"))


def csrf_of(page: httpx.Response) -> str:
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)
