"""Every HTTP request gets an id: taken from `X-Request-Id` when the client (or a proxy) sent a
sane one, made up otherwise; it is in every log line of the request and in the response's
`X-Request-Id`. One access line per request: method, path (never the query string, which may
hold parameters; digit runs that could be a card number redacted), status and duration."""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paylinks.logs import REQUEST_ID, redact
from paylinks.ops.metrics import RequestMetrics

log = logging.getLogger("paylinks.access")
_SANE = re.compile(r"[A-Za-z0-9._:-]{8,128}")


class RequestIds:
    def __init__(self, app: ASGIApp, metrics: RequestMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SANE.fullmatch(given) else "req_" + secrets.token_hex(12)
        token = REQUEST_ID.set(request_id)
        started = time.monotonic()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.monotonic() - started
            if self.metrics is not None:
                route = scope.get("route")  # set by the router: the template, not the ids
                template = getattr(route, "path", "unmatched")
                self.metrics.observe(
                    route=template, method=scope["method"], status=status, seconds=elapsed
                )
            path = redact(scope["path"])
            fields = {
                "method": scope["method"],
                "path": path,
                "status": status,
                "duration_ms": round(elapsed * 1000, 1),
            }
            log.info("%s %s %s", scope["method"], path, status, extra={"fields": fields})
            REQUEST_ID.reset(token)
