"""One area's HTML (the hosted page, the dashboard): its templates, its static files and the
security headers on every answer. Each area makes one `Pages` with its own package, headers and
files; the machinery is written once.

Templates autoescape (merchant text is always text; no template marks it safe) and fail on an
undefined name. Static files are served only when listed, with their content types, and named
by their content hash in every URL (`asset_url`), so a cached copy never outlives a change: asked
for by the current hash, a file may be kept a year without asking again (`immutable`); gzipped
(once, at first use) for a browser that takes it.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from collections.abc import Callable
from functools import cached_property
from importlib import resources
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response

HTML = "text/html; charset=utf-8"
IMMUTABLE = "public, max-age=31536000, immutable"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


class Pages:
    def __init__(
        self,
        package: str,
        *,
        static_url: str,
        static_files: tuple[str, ...],
        headers: dict[str, str],
        static_headers: dict[str, str],
        template_globals: dict[str, Any] | None = None,
        filters: dict[str, Callable[..., Any]] | None = None,
    ) -> None:
        self.package = package
        self.static_url = static_url
        self.static_files = static_files
        self.headers = headers  # every page
        self.static_headers = static_headers  # every static file
        self._globals = template_globals or {}
        self._filters = filters or {}
        self._files: dict[str, bytes] = {}
        self._gzipped: dict[str, bytes] = {}
        self._versions: dict[str, str] = {}

    def static_file(self, name: str) -> bytes:
        found = self._files.get(name)
        if found is None:
            found = resources.files(self.package).joinpath("static", name).read_bytes()
            self._files[name] = found
        return found

    def version(self, name: str) -> str:
        """The file's content hash, its `?v=` (files are read once: it cannot change)."""
        found = self._versions.get(name)
        if found is None:
            found = self._versions[name] = hashlib.sha256(self.static_file(name)).hexdigest()[:12]
        return found

    def asset_url(self, name: str) -> str:
        return f"{self.static_url}/{name}?v={self.version(name)}"

    def integrity(self, name: str) -> str:
        """Subresource Integrity: the browser refuses the file if its bytes were altered."""
        return (
            "sha384-" + base64.b64encode(hashlib.sha384(self.static_file(name)).digest()).decode()
        )

    @cached_property
    def environment(self) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.PackageLoader(self.package, "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.globals.update(asset_url=self.asset_url, integrity=self.integrity, **self._globals)
        env.filters.update(self._filters)
        return env

    def render(
        self,
        template: str,
        context: dict[str, Any],
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        html = self.environment.get_template(template).render(**context)
        return Response(html, status, {**self.headers, **(headers or {})}, media_type=HTML)

    def static_answer(
        self, name: str, *, version: str | None = None, gzipped: bool = False
    ) -> Response | None:
        """A listed static file with its type and cache headers (kept a year when asked for by
        its current `version`), gzipped if the browser takes it; None for any other name."""
        if name not in self.static_files:
            return None
        media_type = STATIC_TYPES[name[name.rindex(".") :]]
        headers = {**self.static_headers, "Vary": "Accept-Encoding"}
        if version == self.version(name):
            headers["Cache-Control"] = IMMUTABLE
        body = self.static_file(name)
        if gzipped:
            if name not in self._gzipped:
                self._gzipped[name] = gzip.compress(body, compresslevel=9, mtime=0)
            body, headers["Content-Encoding"] = self._gzipped[name], "gzip"
        return Response(body, 200, headers, media_type=media_type)

    def static_request(self, request: Request) -> Response | None:
        """`static_answer` for what the request asks: the name, the version, gzip or not."""
        return self.static_answer(
            str(request.path_params["name"]),
            version=request.query_params.get("v"),
            gzipped=takes_gzip(request.headers.get("accept-encoding", "")),
        )

    async def static(self, request: Request) -> Response:
        """The area's static files (its own 404 for anything else: see `not_found`)."""
        found = self.static_request(request)
        if found is not None:
            return found
        return Response("not found", 404, self.headers, media_type="text/plain; charset=utf-8")


# Below this, gzip's header and a round of compression cost more than they save.
GZIP_FROM_BYTES = 1024


def compressed(response: Response, accept_encoding: str) -> Response:
    """An HTML page gzipped for a browser that takes it (a Thai page shrinks from ~15 KB to
    ~6). Only pages whose secrets change with every response may be compressed (BREACH guesses
    a secret that stays the same across responses): the payment page's form tokens are fresh
    each time; the dashboard's session-long CSRF token is why it is not compressed."""
    body = getattr(response, "body", b"")  # a streamed answer has none: left alone
    if (
        len(body) < GZIP_FROM_BYTES
        or not response.headers.get("content-type", "").startswith("text/html")
        or "content-encoding" in response.headers
        or not takes_gzip(accept_encoding)
    ):
        return response
    response.body = gzip.compress(body, compresslevel=6, mtime=0)
    response.headers["content-encoding"] = "gzip"
    response.headers["content-length"] = str(len(response.body))
    response.headers["vary"] = "Accept-Encoding"
    return response


def takes_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header takes gzip (`gzip;q=0` refuses it)."""
    for part in accept_encoding.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False
