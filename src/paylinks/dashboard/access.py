"""Signing in (a secret API key, or a user's e-mail and password), signing out, and switching
between test and live mode."""

from __future__ import annotations

import asyncio
import math
from datetime import datetime
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from paylinks.accounts.service import find_principal
from paylinks.auth import hash_key
from paylinks.dashboard import sessions, users
from paylinks.dashboard.pages import MerchantVisit, holds_nul, read_form, redirect, render
from paylinks.errors import BadRequest
from paylinks.runtime import Runtime
from paylinks.web.origins import is_cross_site

# Sign-in attempts per client address: enough for typos, too few for guessing. (A user's own
# failures also lock that user for a while: see `users.LOCK_AFTER`.)
SIGN_IN_LIMITS = "10/minute;50/hour"


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
    runtime: Runtime = request.app.state.runtime
    secure = request.url.scheme == "https" or runtime.settings.public_url.startswith("https:")
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
    """Either `secret_key`, or `email` and `password`. Posts from other sites are refused (login
    CSRF: signing a victim into the attacker's account). Every attempt counts against the
    client's address; over the limit, even a right answer waits. A locked user waits too."""
    runtime: Runtime = request.app.state.runtime
    if is_cross_site(request, public_url=runtime.settings.public_url):
        return _form_page(request, error="Sign in from this page.", status=403)
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
    runtime: Runtime = request.app.state.runtime
    limiter = runtime.limits.sign_in
    if limiter is not None:
        decision = await limiter.hit(runtime.clients.of(request))
        if not decision.allowed:
            wait = max(1, math.ceil(decision.retry_after))
            return _form_page(
                request, error=f"Too many attempts. Try again in {wait} s.", status=429
            )
    key = str(form.get("secret_key") or "").strip()
    opened: str | Response | None
    if key:
        opened = await _open_with_key(runtime, key)
    else:
        opened = await _open_with_password(
            runtime, str(form.get("email") or ""), str(form.get("password") or "")
        )
    if isinstance(opened, Response):
        return opened
    if opened is None:
        return _form_page(request, error="That did not match. Check it and try again.", status=401)
    target = _safe_next(str(form.get("next") or "/dashboard"))
    return _cookie(request, redirect(target), opened)


async def _open_with_key(runtime: Runtime, key: str) -> str | None:
    """A session tied to this secret key (it ends when the key is rolled); None if the key is
    not a live secret key."""
    principal = await runtime.db.read(find_principal, key_hash=hash_key(key))
    if principal is None or not principal.is_secret:
        return None
    return await runtime.db.write(
        sessions.start_session,
        account_pk=principal.account_pk,
        user_pk=None,
        api_key_pk=principal.key_pk,
        livemode=principal.livemode,
        now=runtime.clock.now(),
    )


async def _open_with_password(runtime: Runtime, email: str, password: str) -> str | Response | None:
    """A user's session; None for a wrong e-mail or password; the sign-in page for a locked
    user (the password is not even checked while the lock lasts)."""
    now = runtime.clock.now()
    candidate = await runtime.db.read(users.find_for_sign_in, email=email)
    if candidate is not None and candidate.locked(now):
        return _locked_page(candidate.locked_until)
    # scrypt takes tens of milliseconds: off the event loop, outside any transaction.
    if not await asyncio.to_thread(users.check_password, candidate, password):
        if candidate is not None:
            until = await runtime.db.write(users.record_failure, user_pk=candidate.user.pk, now=now)
            if until is not None:
                return _locked_page(until)
        return None
    assert candidate is not None
    await runtime.db.write(users.record_success, user_pk=candidate.user.pk)
    return await runtime.db.write(
        sessions.start_session,
        account_pk=candidate.user.account_pk,
        user_pk=candidate.user.pk,
        api_key_pk=None,
        livemode=False,
        now=now,
    )


def _locked_page(until: datetime | None) -> Response:
    shown = until.strftime("%H:%M UTC") if until else "later"
    minutes = int(users.LOCK_FOR.total_seconds() // 60)
    return render(
        "sign_in.html",
        {
            "session": None,
            "error": f"Too many wrong passwords for this user: signing in is locked until "
            f"{shown} ({minutes} minutes after the last attempt). Try again then.",
            "next": "/dashboard",
            "email": "",
        },
        status=429,
    )


async def sign_out(visit: MerchantVisit) -> Response:
    await visit.runtime.db.write(sessions.end_session, token=visit.session.token)
    response = redirect("/dashboard/sign-in")
    response.delete_cookie(sessions.COOKIE, path="/dashboard")
    return response


async def switch_mode(visit: MerchantVisit) -> Response:
    if not visit.session.may_switch_mode:
        return visit.render(
            "notice.html",
            status=403,
            title="Sign in with the other key",
            body="This session was opened with an API key and stays in that key's mode. "
            "Sign out and sign in with the other mode's secret key.",
        )
    livemode = visit.field("mode") == "live"
    await visit.runtime.db.write(sessions.switch_mode, session=visit.session, livemode=livemode)
    return redirect(_safe_next(visit.field("next") or "/dashboard"))


async def reauthenticated(visit: MerchantVisit) -> bool:
    """Whether the form proves again who is signed in: the current secret key of the session's
    account and mode (a session opened with a key), or the user's password (a user's session;
    a wrong one counts toward the user's lock)."""
    runtime = visit.runtime
    session = visit.session
    if session.user_pk is None:
        key = visit.field("current_secret_key").strip()
        found = await runtime.db.read(find_principal, key_hash=hash_key(key)) if key else None
        return (
            found is not None
            and found.is_secret
            and found.account_pk == session.account_pk
            and found.livemode == session.livemode
        )
    candidate = await runtime.db.read(users.find_for_sign_in, email=session.user_email or "")
    if candidate is None or candidate.user.pk != session.user_pk:
        return False
    if await asyncio.to_thread(users.check_password, candidate, visit.field("password")):
        return True
    await runtime.db.write(users.record_failure, user_pk=candidate.user.pk, now=runtime.clock.now())
    return False


async def password_page(
    visit: MerchantVisit, *, error: str | None = None, status: int = 200
) -> Response:
    if visit.session.user_pk is None:
        return _no_password(visit)
    return visit.render(
        "password.html", status=status, title="Password", error=error, changed=False
    )


async def change_password(visit: MerchantVisit) -> Response:
    """A new password for the signed-in user, after the current one; every other session of the
    user ends (whoever knew the old password is signed out everywhere)."""
    session = visit.session
    if session.user_pk is None:
        return _no_password(visit)
    if not await reauthenticated(visit):
        return await password_page(visit, error="The current password did not match.", status=403)
    new, again = visit.field("new_password"), visit.field("new_password_again")
    if new != again:
        return await password_page(visit, error="The new passwords differ.", status=400)
    try:
        stored = await asyncio.to_thread(users.new_password_hash, new)
    except BadRequest as problem:
        return await password_page(visit, error=problem.message, status=400)
    await visit.runtime.db.write(
        users.set_password, user_pk=session.user_pk, password_hash=stored, keep_session=session.pk
    )
    return visit.render("password.html", title="Password", error=None, changed=True)


def _no_password(visit: MerchantVisit) -> Response:
    return visit.render(
        "notice.html",
        status=404,
        title="No password here",
        body="This session was opened with an API key, which has no password. Users are "
        "created with `paylinks users create`.",
    )
