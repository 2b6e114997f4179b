"""The first check of every HTTP request, before any route: a path or query string holding a
control character is refused with a 400, in the language of the area it was meant for (an Omise
error object on the API; an HTML page with the area's security headers under /pay, /static and
/dashboard).

No id, parameter or page address holds one. PostgreSQL cannot even compare text holding NUL
(it raises, which every route would have to catch on its own), and CR/LF in a value that reaches
a header, a redirect or a log line is where injection starts. Tab is allowed: people paste it
into search boxes. Bodies are not judged here (a textarea holds line breaks); their readers
refuse NUL themselves (`Params.string`, the page and dashboard form readers).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from paylinks.api import error_response
from paylinks.checkout import pages as checkout_pages
from paylinks.checkout.messages import Messages
from paylinks.dashboard import pages as dashboard_pages
from paylinks.errors import BadRequest

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f]")  # C0 controls but tab


def has_control_characters(scope: Scope) -> bool:
    """True when the decoded path or the decoded query string holds a control character."""
    query = unquote_plus(scope.get("query_string", b"").decode("latin-1"))
    return bool(_CONTROL.search(scope["path"]) or _CONTROL.search(query))


def refusal(scope: Scope) -> Response:
    """The 400 for such a request, as the area of its path answers errors."""
    path: str = scope["path"]
    if path.startswith("/dashboard"):
        return dashboard_pages.notice(
            "Bad request", "That address holds characters no page has.", status=400
        )
    if path.startswith(("/pay/", "/static/")):
        locale = checkout_pages.choose_locale(Request(scope))
        return checkout_pages.notice(Messages(locale), key="bad_request", status=400)
    return error_response(
        BadRequest("the path or query string holds a control character; no parameter may")
    )


class ControlCharacterGuard:
    """ASGI middleware: refuse (see the module) or pass the request on untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and has_control_characters(scope):
            await refusal(scope)(scope, receive, send)
            return
        await self.app(scope, receive, send)
