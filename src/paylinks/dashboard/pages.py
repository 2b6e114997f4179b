"""The dashboard's page machinery: templates, the security headers, the session every page
needs, CSRF on every form, and pages (never traces) for whatever goes wrong.

A page handler is `async def handler(visit: Visit) -> Response`; `page(handler)` wraps it:

1. no live session → 303 to the sign-in page (with `next`);
2. a POST must carry the session's CSRF token (`csrf` field) → else a 403 page (and a form
   holding NUL is a 400 page);
3. `NotFound` → the 404 page (another account's id looks exactly like a missing one);
4. anything unexpected → the 500 page, logged.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from paylinks.api import Services
from paylinks.checkout.pages import format_amount
from paylinks.clock import format_time
from paylinks.dashboard import sessions
from paylinks.dashboard.sessions import Session
from paylinks.errors import NotFound
from paylinks.logs import redact
from paylinks.params import clamped_integer

log = logging.getLogger("paylinks.dashboard")

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# One stylesheet per area, so that each area's styles live beside its pages.
STYLESHEETS = ("dashboard.css", "links.css", "branding.css", "developers.css")
STATIC_TYPES = {
    **{name: "text/css; charset=utf-8" for name in STYLESHEETS},
    "dashboard.js": "text/javascript; charset=utf-8",
    "branding.js": "text/javascript; charset=utf-8",
}
MAX_FORM_BYTES = 2 * 1024 * 1024  # the logo upload is the largest form


@cache
def static_file(name: str) -> bytes:
    return resources.files("paylinks.dashboard").joinpath("static", name).read_bytes()


def asset_url(name: str) -> str:
    return f"/dashboard/static/{name}?v={hashlib.sha256(static_file(name)).hexdigest()[:12]}"


def money(amount: int, currency: str) -> str:
    return format_amount(amount, currency, "en")


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("paylinks.dashboard", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(asset_url=asset_url, stylesheets=STYLESHEETS)
    env.filters.update(money=money, when=when, iso=format_time)
    return env


def render(
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    html = environment().get_template(template).render(**context)
    return Response(
        html, status, {**HEADERS, **(headers or {})}, media_type="text/html; charset=utf-8"
    )


def redirect(url: str) -> Response:
    """After a POST, always 303 (the browser then GETs)."""
    return RedirectResponse(url, status_code=303, headers=HEADERS)


@dataclass
class Visit:
    """One signed-in request: the session, the services, and (for POSTs) the form."""

    request: Request
    services: Services
    session: Session
    form: FormData | None = None

    @property
    def principal(self) -> Any:
        return self.session.principal

    def now(self) -> datetime:
        return self.services.clock.now()

    def path_param(self, name: str) -> str:
        return str(self.request.path_params[name])

    def field(self, name: str) -> str:
        """A form field as text ("" when absent or a file)."""
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else ""

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        return render(template, {**self.context(), **context}, status=status)

    def context(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "csrf": self.session.csrf_token,
            "path": self.request.url.path,
            "mode": "live" if self.session.livemode else "test",
        }


Handler = Callable[[Visit], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def notice(title: str, body: str, *, status: int, session: Session | None = None) -> Response:
    context: dict[str, Any] = {"title": title, "body": body, "session": session}
    if session is not None:
        mode = "live" if session.livemode else "test"
        context.update(csrf=session.csrf_token, mode=mode, path="/dashboard")
    return render("notice.html", context, status=status)


async def current_session(request: Request, services: Services) -> Session | None:
    token = request.cookies.get(sessions.COOKIE)
    if not token:
        return None
    now = services.clock.now()
    found = await services.db.read(sessions.find_session, token=token, now=now)
    if found is not None and sessions.needs_renewal(found, now):
        await services.db.write(sessions.renew, session=found, now=now)
    return found


async def read_form(request: Request) -> FormData | None:
    declared = request.headers.get("content-length", "")
    if clamped_integer(declared, low=0, high=MAX_FORM_BYTES + 1, default=0) > MAX_FORM_BYTES:
        return None
    try:
        return await request.form(max_files=2, max_fields=200, max_part_size=MAX_FORM_BYTES)
    except Exception:  # a malformed multipart body is the client's fault, not a 500
        return None


def holds_nul(form: FormData) -> bool:
    """True when a field's name or text holds NUL: no browser sends one, and PostgreSQL can
    neither store nor compare it (the edge guard sees paths and queries, not bodies)."""
    return any(
        "\x00" in name or (isinstance(value, str) and "\x00" in value)
        for name, value in form.multi_items()
    )


def _refused_form(form: FormData | None, session: Session) -> Response | None:
    """The page for a posted form that must not reach the handler: one holding NUL (400), or
    without the session's CSRF token (403)."""
    if form is None:
        return None
    if holds_nul(form):
        return notice("Bad request", "That form could not be read.", status=400, session=session)
    sent = form.get("csrf")
    if not session.csrf_ok(sent if isinstance(sent, str) else None):
        return notice(
            "Form expired",
            "This form is no longer valid. Go back, reload the page and try again.",
            status=403,
            session=session,
        )
    return None


def page(handler: Handler) -> Endpoint:
    async def run(request: Request) -> Response:
        services: Services = request.app.state.services
        session: Session | None = None
        try:
            session = await current_session(request, services)
            if session is None:
                target = quote(request.url.path, safe="/")
                return redirect(f"/dashboard/sign-in?next={target}")
            form = None
            if request.method == "POST":
                form = await read_form(request)
                if form is None:
                    return notice("Too large", "That form was too large.", status=413)
            try:
                refused = _refused_form(form, session)
                return refused or await handler(Visit(request, services, session, form))
            finally:
                if form is not None:
                    await form.close()  # uploaded files are spooled to temporary files
        except NotFound:
            return notice(
                "Not found", "There is nothing here, or it is not yours.", status=404,
                session=session,
            )  # fmt: skip
        except Exception:
            log.exception("unhandled error in %s %s", request.method, redact(request.url.path))
            return notice("Something went wrong", "The error has been logged.", status=500)

    run.__name__ = handler.__name__
    return run


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    content_type = STATIC_TYPES.get(name)
    if content_type is None:
        return notice("Not found", "There is nothing here.", status=404)
    headers = {**HEADERS, "Cache-Control": "public, max-age=86400"}
    return Response(static_file(name), 200, headers, media_type=content_type)
