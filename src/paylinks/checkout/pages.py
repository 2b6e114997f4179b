"""Rendering the page: the visitor's language, the security headers every response carries, and
the area's templates and static files (`web.html.Pages`)."""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from paylinks.branding.contrast import palette
from paylinks.checkout.messages import DEFAULT_LOCALE, LOCALES, Messages
from paylinks.config import Settings
from paylinks.web import RequestHandler
from paylinks.web.html import Pages, compressed

log = logging.getLogger("paylinks.checkout")

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


# What an origin in a policy may hold: a host (name, IPv4 or [IPv6]) and a port, nothing that
# could end the directive or add another (a return_uri is the merchant's text).
ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin if ORIGIN.fullmatch(origin) else "'none'"


def returning_to(return_uri: str | None, *, public_url: str) -> dict[str, str] | None:
    """The 3-D Secure step's headers: its form's answer redirects to the charge's `return_uri`,
    often the merchant's own site, and browsers hold that redirect to `form-action`."""
    if not return_uri or _origin(return_uri) == _origin(public_url):
        return None
    policy = CSP.replace("form-action 'self'", f"form-action 'self' {_origin(return_uri)}")
    return {"Content-Security-Policy": policy}


def live_headers(settings: Settings) -> dict[str, str]:
    """A live payment form's headers: the policy lets in exactly Omise.js (its script's origin)
    and Omise's vault (where Omise.js sends the card), and only on live pages."""
    script, vault = _origin(settings.omise_js_url), _origin(settings.omise_vault_url)
    policy = CSP.replace("script-src 'self'", f"script-src 'self' {script}")
    policy += f"; connect-src {vault}; frame-src {vault}"
    return {"Content-Security-Policy": policy}


def waiting_for_payment(image_uri: str | None = None) -> dict[str, str]:
    """A QR page's headers: its script asks this server for the charge's status; a live QR's
    image is Omise's, served from Omise's origin."""
    policy = CSP + "; connect-src 'self'"
    if image_uri is not None:
        origin = _origin(image_uri)
        policy = policy.replace("img-src 'self' data:", f"img-src 'self' data: {origin}")
    return {"Content-Security-Policy": policy}


PAGES = Pages(
    "paylinks.checkout",
    static_url="/static/checkout",
    static_files=("checkout.css", "checkout.js", "promptpay.js"),
    headers=PAGE_HEADERS,
    static_headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=86400"},
)
static = PAGES.static


@functools.cache
def brand_style(color: str) -> tuple[str, str]:
    """An account's colours as CSS custom properties, written into the page (a stylesheet of
    100 bytes cost the page a request of its own), and the CSP source that admits exactly that
    text (its hash): the policy still allows no other inline style."""
    colours = palette(color)
    css = (
        f":root{{--accent:{colours.accent};--accent-dark:{colours.accent_dark};"
        f"--accent-ink:{colours.accent_ink};--accent-text:{colours.accent_text}}}"
    )
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return css, f"'sha256-{digest}'"


def render(
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A page; one that carries the account's `brand_style` admits it in its policy, whichever
    policy the page has (live, QR, 3-D Secure)."""
    response = PAGES.render(template, context, status=status, headers=headers)
    style = context.get("brand_style")
    if style:
        policy = response.headers["content-security-policy"]
        admitted = policy.replace("style-src 'self'", f"style-src 'self' {style[1]}", 1)
        response.headers["content-security-policy"] = admitted
    return response


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


def html_page(handler: RequestHandler) -> RequestHandler:
    """Whatever goes wrong, the visitor gets a page (with the headers), never a stack trace."""

    async def run(request: Request) -> Response:
        try:
            response = await handler(request)
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.url.path)
            return notice(Messages(choose_locale(request)), key="error", status=500)
        return compressed(response, request.headers.get("accept-encoding", ""))

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run
