"""HTTP plumbing shared by the API, the hosted page and the dashboard: who the client is, where
a form came from, rate limits, HTML pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

# What Starlette routes to: a request in, a response out (the API wraps its handlers into one,
# the pages are one).
RequestHandler = Callable[[Request], Awaitable[Response]]
