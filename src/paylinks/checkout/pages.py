"""Rendering the page: templates, the visitor's language, money in their locale, the security
headers every response carries, and the page's own static files."""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from babel.numbers import format_currency, get_currency_symbol
from starlette.requests import Request
from starlette.responses import Response

from paylinks.checkout.messages import DEFAULT_LOCALE, LOCALES, Messages
from paylinks.money import parse_currency

log = logging.getLogger("paylinks.checkout")
Endpoint = Callable[[Request], Awaitable[Response]]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the link id is in the URL
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
PAGE_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
STATIC_TYPES = {
    "checkout.css": "text/css; charset=utf-8",
    "checkout.js": "text/javascript; charset=utf-8",
}
# Babel has no CLDR narrow symbols; where English shows a bare code, use the symbol people know.
NARROW_SYMBOLS = {"thb": "฿", "myr": "RM", "idr": "Rp"}


@cache
def static_file(name: str) -> bytes:
    return resources.files("paylinks.checkout").joinpath("static", name).read_bytes()


def asset_url(name: str) -> str:
    """The file's URL with its content hash, so a cached copy never outlives a change."""
    return f"/static/checkout/{name}?v={hashlib.sha256(static_file(name)).hexdigest()[:12]}"


def integrity(name: str) -> str:
    """Subresource Integrity: the browser refuses the file if its bytes were altered."""
    return "sha384-" + base64.b64encode(hashlib.sha384(static_file(name)).digest()).decode()


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("paylinks.checkout", "templates"),
        autoescape=True,  # merchant text is always text; no template marks it safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(asset_url=asset_url, integrity=integrity)
    return env


def choose_locale(request: Request) -> str:
    """`?locale=th|en` first, then the best of Accept-Language; English by default."""
    asked = request.query_params.get("locale", "").lower()
    if asked in LOCALES:
        return asked
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, params = part.strip().partition(";")
        language = tag.split("-")[0].strip().lower()
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if language in LOCALES and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else DEFAULT_LOCALE


def format_amount(amount: int, currency_code: str, locale: str) -> str:
    """Minor units as the locale writes money: 100000 THB -> '฿1,000.00', 5000 JPY -> '¥5,000'."""
    currency = parse_currency(currency_code)
    code = currency.code.upper()
    text = format_currency(Decimal(amount).scaleb(-currency.exponent), code, locale=locale)
    narrow = NARROW_SYMBOLS.get(currency.code)
    if narrow and get_currency_symbol(code, locale=locale) == code:
        text = text.replace(code, narrow)
    return text


def render(
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    html = environment().get_template(template).render(**context)
    return Response(
        html, status, {**PAGE_HEADERS, **(headers or {})}, media_type="text/html; charset=utf-8"
    )


def notice(
    messages: Messages,
    *,
    key: str,
    status: int,
    body: str | None = None,
    back: str | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """A page that only tells: `<key>_title`, then `body` (default `<key>_body`)."""
    values = {
        "t": messages,
        "locale": messages.locale,
        "test_mode": False,
        "switch_url": None,
        "title": messages(f"{key}_title"),
        "body": body if body is not None else messages(f"{key}_body"),
        "back": back,
        "merchant": None,
        "branding": None,
        **context,
    }
    return render("notice.html", values, status=status, headers=headers)


def html_page(handler: Endpoint) -> Endpoint:
    """Whatever goes wrong, the visitor gets a page (with the headers), never a stack trace."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.url.path)
            return notice(Messages(choose_locale(request)), key="error", status=500)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


async def static(request: Request) -> Response:
    """The page's CSS and JS; only the files named here, with their own content types."""
    name = request.path_params["name"]
    content_type = STATIC_TYPES.get(name)
    if content_type is None:
        return Response("not found", 404, {**PAGE_HEADERS}, media_type="text/plain; charset=utf-8")
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=86400"}
    return Response(static_file(name), 200, headers, media_type=content_type)
