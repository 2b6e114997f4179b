"""The dashboard's page machinery: templates, the security headers, the session every page
needs, CSRF on every form, and pages (never traces) for whatever goes wrong.

A page handler is `async def handler(visit: MerchantVisit) -> Response`; `page(handler)` wraps it:

1. no live session → 303 to the sign-in page (with `next`);
2. a POST must carry the session's CSRF token (`csrf` field) → else a 403 page (and a form
   holding NUL is a 400 page);
3. `NotFound` → the 404 page (another account's id looks exactly like a missing one);
4. anything unexpected → the 500 page, logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from paylinks.clock import format_time
from paylinks.dashboard import sessions, zones
from paylinks.dashboard.sessions import Session
from paylinks.errors import NotFound
from paylinks.logs import redact
from paylinks.money import format_major, format_money, parse_currency
from paylinks.params import clamped_integer
from paylinks.runtime import Runtime
from paylinks.web import RequestHandler
from paylinks.web.html import Pages

log = logging.getLogger("paylinks.dashboard")

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'; "
    "frame-src 'self'"  # the payment page's preview (`page_preview`)
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
MAX_FORM_BYTES = 2 * 1024 * 1024  # the logo upload is the largest form


def money(amount: int, currency: str) -> str:
    return format_money(amount, currency, "en")


def major(amount: int, currency: str) -> str:
    """Minor units as a form field shows them: 100000 THB -> 1000.00."""
    return format_major(amount, parse_currency(currency))


@pass_context
def when(context: Context, value: datetime | None) -> str:
    """A time in the account's zone (`zone` in the page's context; pages without a session
    use the default)."""
    if value is None:
        return "—"
    zone = context.get("zone")
    return zones.shown(value, zone if isinstance(zone, ZoneInfo) else zones.zone_named(None))


def plural(count: int, singular: str, many: str | None = None) -> str:
    """ "1 payment", "2 payments", "0 payments"; `many` for words not made plural by an s."""
    return f"{count:,} {singular if count == 1 else (many or singular + 's')}"


PAGES = Pages(
    "paylinks.dashboard",
    static_url="/dashboard/static",
    static_files=(*STYLESHEETS, "dashboard.js", "branding.js", "links.js"),
    headers=HEADERS,
    static_headers={**HEADERS, "Cache-Control": "public, max-age=86400"},
    template_globals={"stylesheets": STYLESHEETS},
    filters={"money": money, "major": major, "when": when, "iso": format_time, "plural": plural},
)
render = PAGES.render


def redirect(url: str) -> Response:
    """After a POST, always 303 (the browser then GETs)."""
    return RedirectResponse(url, status_code=303, headers=HEADERS)


@dataclass
class MerchantVisit:
    """One signed-in request: the session, the runtime, and (for POSTs) the form."""

    request: Request
    runtime: Runtime
    session: Session
    form: FormData | None = None

    @property
    def principal(self) -> Any:
        return self.session.principal

    def now(self) -> datetime:
        """The account's time in the session's mode (test mode: its test clock)."""
        return self.session.principal.clock(self.runtime.clock.now())

    @property
    def zone(self) -> ZoneInfo:
        """The account's time zone: times shown, and times typed into forms, are in it."""
        return zones.zone_named(self.session.time_zone)

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
            "zone": self.zone,
        }


Handler = Callable[[MerchantVisit], Awaitable[Response]]


def notice(title: str, body: str, *, status: int, session: Session | None = None) -> Response:
    context: dict[str, Any] = {"title": title, "body": body, "session": session}
    if session is not None:
        mode = "live" if session.livemode else "test"
        context.update(csrf=session.csrf_token, mode=mode, path="/dashboard")
        context.update(zone=zones.zone_named(session.time_zone))
    return render("notice.html", context, status=status)


async def current_session(request: Request, runtime: Runtime) -> Session | None:
    token = request.cookies.get(sessions.COOKIE)
    if not token:
        return None
    now = runtime.clock.now()
    found = await runtime.db.read(sessions.find_session, token=token, now=now)
    if found is not None and sessions.needs_renewal(found, now):
        await runtime.db.write(sessions.renew, session=found, now=now)
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


def page(handler: Handler) -> RequestHandler:
    async def run(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        session: Session | None = None
        try:
            session = await current_session(request, runtime)
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
                return refused or await handler(MerchantVisit(request, runtime, session, form))
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
    found = PAGES.static_request(request)
    return found or notice("Not found", "There is nothing here.", status=404)
