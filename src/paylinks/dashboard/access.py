"""Signing in (a secret API key, or a user's e-mail and password), signing out, and switching
between test and live mode."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from paylinks.accounts.service import find_principal, hash_key
from paylinks.api import Services
from paylinks.checkout.limits import client_address
from paylinks.dashboard import sessions, users
from paylinks.dashboard.pages import Visit, holds_nul, read_form, redirect, render
from paylinks.ratelimit import Limiter, MemoryLimiter, RedisLimiter, parse_policy

# Sign-in attempts per client address: enough for typos, too few for guessing.
SIGN_IN_LIMITS = "10/minute;50/hour"


def _limiter(request: Request) -> Limiter:
    state = request.app.state
    limiter: Limiter | None = getattr(state, "sign_in_limiter", None)
    if limiter is None:
        services: Services = state.services
        windows = parse_policy(SIGN_IN_LIMITS)
        redis_url = services.settings.redis_url
        limiter = (
            RedisLimiter(windows, redis_url, prefix="paylinks:sign-in:")
            if redis_url
            else MemoryLimiter(windows)
        )
        state.sign_in_limiter = limiter
    return limiter


def _safe_next(target: str) -> str:
    """Only a path of the dashboard itself: never an open redirect to another site."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/dashboard"):
        return "/dashboard"
    return parts.path


def _form_page(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    return render(
        "sign_in.html",
        {
            "session": None,
            "error": error,
            "next": _safe_next(request.query_params.get("next", "/dashboard")),
            "email": "",
        },
        status=status,
    )


async def sign_in_page(request: Request) -> Response:
    return _form_page(request)


def _cookie(request: Request, response: Response, token: str) -> Response:
    services: Services = request.app.state.services
    secure = request.url.scheme == "https" or services.settings.public_url.startswith("https:")
    response.set_cookie(
        sessions.COOKIE,
        token,
        max_age=int(sessions.LIFETIME.total_seconds()),
        path="/dashboard",
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    return response


async def sign_in(request: Request) -> Response:
    """Either `secret_key`, or `email` and `password`. Every attempt counts against the
    client's address; over the limit, even a right answer waits."""
    form = await read_form(request)
    if form is None:
        return _form_page(request, error="That form was too large.", status=413)
    try:
        if holds_nul(form):  # the e-mail is looked up: PostgreSQL cannot compare text with NUL
            return _form_page(request, error="That form could not be read.", status=400)
        return await _signed_in(request, form)
    finally:
        await form.close()  # a multipart body spools to temporary files


async def _signed_in(request: Request, form: FormData) -> Response:
    """The answer to a readable sign-in form: a session and a redirect, or the form again."""
    services: Services = request.app.state.services
    limiter = _limiter(request)
    decision = await limiter.hit(client_address(request))
    if not decision.allowed:
        wait = max(1, math.ceil(decision.retry_after))
        return _form_page(request, error=f"Too many attempts. Try again in {wait} s.", status=429)
    key = str(form.get("secret_key") or "").strip()
    now = services.clock.now()
    account_pk, user_pk, livemode = None, None, False
    if key:
        principal = await services.db.read(find_principal, key_hash=hash_key(key))
        if principal is not None and principal.is_secret:
            account_pk, livemode = principal.account_pk, principal.livemode
    else:
        user = await services.db.read(
            users.authenticate,
            email=str(form.get("email") or ""),
            password=str(form.get("password") or ""),
        )
        if user is not None:
            account_pk, user_pk = user.account_pk, user.pk
    if account_pk is None:
        return _form_page(request, error="That did not match. Check it and try again.", status=401)
    token = await services.db.write(
        sessions.start_session, account_pk=account_pk, user_pk=user_pk, livemode=livemode, now=now
    )
    target = _safe_next(str(form.get("next") or "/dashboard"))
    return _cookie(request, redirect(target), token)


async def sign_out(visit: Visit) -> Response:
    await visit.services.db.write(sessions.end_session, token=visit.session.token)
    response = redirect("/dashboard/sign-in")
    response.delete_cookie(sessions.COOKIE, path="/dashboard")
    return response


async def switch_mode(visit: Visit) -> Response:
    if not visit.session.may_switch_mode:
        return visit.render(
            "notice.html",
            status=403,
            title="Sign in with the other key",
            body="This session was opened with an API key and stays in that key's mode. "
            "Sign out and sign in with the other mode's secret key.",
        )
    livemode = visit.field("mode") == "live"
    await visit.services.db.write(sessions.switch_mode, session=visit.session, livemode=livemode)
    return redirect(_safe_next(visit.field("next") or "/dashboard"))
