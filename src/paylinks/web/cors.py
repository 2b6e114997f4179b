"""CORS on the endpoints a shop's own web page calls from the payer's browser: the vault-like
ones that take the public key (Omise.js tokenizes a card and makes a source there, and reads
`/capability` to choose what to offer). Everywhere else the browser's same-origin rule stays
whole: a secret-key endpoint, the dashboard and the payment pages answer no other site.

Any origin is allowed (`*`): the public key is meant to be published in a page, and it travels
in `Authorization`, never in a cookie, so no credentials mode is needed (or allowed with `*`).
The header goes on every answer of those paths, errors included, so that the page can read an
Omise error object; it is the same for every origin, so caches need no `Vary: Origin`.

A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered here,
before routing: it carries no key, so it must not meet authentication or rate limits. A bare
`OPTIONS` is not a preflight and goes on to the router (405, as on any path).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOW_METHODS = "GET, POST"
# What Omise.js and SDK-style callers send (Omise-Version pins the API version) and what this
# API reads (Idempotency-Key); X-Requested-With is jQuery's, harmless. `Authorization` cannot be
# covered by a wildcard, so every name is listed.
ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, Omise-Version, X-Requested-With"
# Response headers a page may read besides the safelisted ones.
EXPOSE_HEADERS = (
    "X-Request-Id, Idempotent-Replayed, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, "
    "X-RateLimit-Reset, X-RateLimit-Window, RateLimit-Policy, RateLimit"
)
# Two hours: Chromium caps the cache there (Firefox keeps a day); one value for every browser.
MAX_AGE = "7200"


def path_patterns(templates: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    """Patterns for route templates (`/tokens/{token_id}`), each also with the trailing slash the
    routes answer too. One segment per parameter, as the router matches them."""
    anchored = (compile_path(template)[0].pattern for template in templates)
    return tuple(re.compile(pattern.removesuffix("$") + "/?$") for pattern in anchored)


def preflight() -> Response:
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": MAX_AGE,
        },
    )


CORS_HEADERS = (
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", EXPOSE_HEADERS.encode("latin-1")),
)
CORS_NAMES = {name for name, _ in CORS_HEADERS}


def is_preflight(scope: Scope) -> bool:
    if scope["method"] != "OPTIONS":  # every other request: no headers object to build
        return False
    headers = Headers(scope=scope)
    return "origin" in headers and "access-control-request-method" in headers


class BrowserCors:
    """ASGI middleware: CORS on the paths of `templates` (see the module), nothing elsewhere."""

    def __init__(self, app: ASGIApp, templates: Iterable[str]) -> None:
        self.app = app
        templates = list(templates)
        self.paths = path_patterns(templates)
        # Every request passes here: most are told apart by their first segment, without a
        # regular expression.
        self.prefixes = tuple({"/" + t.strip("/").split("/")[0] for t in templates})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.covers(scope["path"]):
            await self.app(scope, receive, send)
            return
        if is_preflight(scope):
            await preflight()(scope, receive, send)
            return

        async def send_allowed(message: Message) -> None:
            if message["type"] == "http.response.start":
                # The raw list, as ASGI carries it (cheaper than a MutableHeaders per answer).
                kept = [h for h in message.get("headers", []) if h[0].lower() not in CORS_NAMES]
                message = {**message, "headers": [*kept, *CORS_HEADERS]}
            await send(message)

        await self.app(scope, receive, send_allowed)

    def covers(self, path: str) -> bool:
        return path.startswith(self.prefixes) and any(p.match(path) for p in self.paths)
