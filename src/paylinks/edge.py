"""Answers at the edge, outside any route's own error handling: which area a path belongs to and
how that area answers an error (an Omise error object on the API; an HTML page with the area's
security headers on the hosted page, /pay and /static, and the dashboard), and the first check
of every HTTP request, before any route.

That check refuses (400) a path or query string holding a control character. No id, parameter
or page address holds one. PostgreSQL cannot even compare text holding NUL (it raises, which
every route would have to catch on its own), and CR/LF in a value that reaches a header, a
redirect or a log line is where injection starts. Tab is allowed: people paste it into search
boxes. Bodies are not judged here (a textarea holds line breaks); their readers refuse NUL
themselves (`Params.string`, the page's and the dashboard's form readers).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from paylinks.api import pipeline as api
from paylinks.checkout import pages as checkout_pages
from paylinks.checkout.messages import Messages
from paylinks.dashboard import pages as dashboard_pages
from paylinks.errors import BadRequest
from paylinks.logs import redact

log = logging.getLogger("paylinks")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f]")  # C0 controls but tab
DASHBOARD_TEXT = {
    400: ("Bad request", "That address holds characters no page has."),
    404: ("Not found", "There is nothing here."),
    405: ("Not allowed", "This page does not take that kind of request."),
}
PAGE_KEYS = {400: "bad_request", 404: "not_found"}  # any other status: the "error" page


def is_html(path: str) -> bool:
    return path.startswith(("/pay/", "/static/", "/dashboard"))


def html_error(scope: Scope, status: int, headers: dict[str, str] | None = None) -> Response:
    """The area's page for an error `status` (the dashboard's or the payment page's)."""
    if scope["path"].startswith("/dashboard"):
        title, body = DASHBOARD_TEXT.get(status, ("Something went wrong", "It has been logged."))
        response = dashboard_pages.notice(title, body, status=status)
    else:
        t = Messages(checkout_pages.choose_locale(Request(scope)))
        response = checkout_pages.notice(t, key=PAGE_KEYS.get(status, "error"), status=status)
    response.headers.update(headers or {})
    return response


async def http_exception(request: Request, exc: Exception) -> Response:
    """The router's 404 and 405 (no such path; a method the path does not take)."""
    if not is_html(request.url.path):
        return await api.http_exception(request, exc)
    assert isinstance(exc, HTTPException)
    return html_error(request.scope, exc.status_code, dict(exc.headers or {}))


async def server_error(request: Request, exc: Exception) -> Response:
    """A crash no handler caught (pages catch their own; this is the last net)."""
    if not is_html(request.url.path):
        return await api.server_error(request, exc)
    log.error("unhandled error in %s %s", request.method, redact(request.url.path), exc_info=exc)
    return html_error(request.scope, 500)


def has_control_characters(scope: Scope) -> bool:
    """True when the decoded path or the decoded query string holds a control character."""
    query = unquote_plus(scope.get("query_string", b"").decode("latin-1"))
    return bool(_CONTROL.search(scope["path"]) or _CONTROL.search(query))


class ControlCharacterGuard:
    """ASGI middleware: refuse (see the module) or pass the request on untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and has_control_characters(scope):
            if is_html(scope["path"]):
                refusal = html_error(scope, 400)
            else:
                message = "the path or query string holds a control character; no parameter may"
                refusal = api.error_response(BadRequest(message))
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)
