"""HTTP for the hosted payment page: parse the form, call the services, render a page.

Every answer is an HTML page with the security headers, errors included. Card numbers and
security codes are read from the form, handed to the card checks and the processor's vault, and
dropped: they are never stored, logged or rendered back.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from paylinks.api import Services
from paylinks.branding.contrast import palette
from paylinks.charges import payments, settlement
from paylinks.charges import service as charges_service
from paylinks.charges.processor import Processor
from paylinks.charges.service import Charge, LinkNotPayable, ensure_payable
from paylinks.checkout import forms, pages, service, views
from paylinks.checkout.forms import KEPT_FIELDS, FormErrors, read_amount, read_card, read_email
from paylinks.checkout.limits import attempt_refused, card_refused
from paylinks.checkout.messages import Messages
from paylinks.checkout.service import CheckoutLink
from paylinks.errors import InvalidCard, NotFound, TestModeLiveCard
from paylinks.links.service import Link
from paylinks.money import parse_currency
from paylinks.origins import is_cross_site
from paylinks.tokens import service as tokens_service

STATE_STATUS = {
    "used": 200,
    "live": 200,
    "deleted": 410,
    "expired": 410,
    "limit_reached": 410,
    "in_progress": 409,
}


@dataclass
class Visit:
    """One request to the page: the link, the visitor's language, and the services."""

    request: Request
    services: Services
    t: Messages
    checkout: CheckoutLink

    @property
    def link_id(self) -> str:
        return self.checkout.link.id

    def now(self) -> datetime:
        return self.services.clock.now()

    @property
    def processor(self) -> Processor:
        """The link's mode's processor; only asked for once `_refused` has ruled out live mode."""
        processor = self.services.processor_for(self.checkout.link.livemode)
        assert processor is not None
        return processor

    def context(self, **values: Any) -> dict[str, Any]:
        link = self.checkout.link
        return {
            "t": self.t,
            "locale": self.t.locale,
            "merchant": self.checkout.merchant,
            "branding": self.checkout.branding,
            "link": link,
            "amount": pages.format_amount(link.amount, link.currency, self.t.locale),
            "customer_amount": customer_amount_hints(link, self.t.locale),
            "test_mode": not link.livemode,
            "path": f"/pay/{link.id}",
            "switch_url": None,
            **values,
        }


def customer_amount_hints(link: Link, locale: str) -> dict[str, str] | None:
    """For a link whose customer decides the amount: the suggestion (in major units, as the
    input shows it) and the bounds, written as the visitor's locale writes money."""
    if not link.customer_decides:
        return None
    currency = parse_currency(link.currency)
    low = link.amount_min if link.amount_min is not None else currency.minimum
    high = link.amount_max if link.amount_max is not None else currency.maximum
    return {
        "suggested": str(Decimal(link.amount).scaleb(-currency.exponent)),
        "low": pages.format_amount(low, link.currency, locale),
        "high": pages.format_amount(high, link.currency, locale),
        "code": currency.code.upper(),
    }


def _not_found(t: Messages) -> Response:
    return pages.notice(t, key="not_found", status=404)


def _state(visit: Visit, reason: str) -> Response:
    """The honest page for a link that cannot be paid now (or in live mode, at all yet)."""
    body = visit.t(f"{reason}_body", merchant=visit.checkout.merchant)
    shown = visit.request.method in ("GET", "HEAD")  # a language switch re-opens the page
    context = visit.context(switch_url=f"/pay/{visit.link_id}" if shown else None)
    return pages.notice(visit.t, key=reason, status=STATE_STATUS[reason], body=body, **context)


def _unpayable(visit: Visit) -> Response | None:
    try:
        ensure_payable(visit.checkout.link, visit.now())
    except LinkNotPayable as error:
        held = error.reason in ("used", "limit_reached") and visit.checkout.held
        return _state(visit, "in_progress" if held else error.reason)
    if visit.services.processor_for(visit.checkout.link.livemode) is None:
        return _state(visit, "live")
    return None


async def _form(
    visit: Visit,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
) -> Response:
    """The payment form with fresh tokens: one per way to pay, as each names its own attempt."""
    key = await visit.services.keyring.get("checkout-csrf")
    now = visit.now()
    kept = {name: (values or {}).get(name, "") for name in KEPT_FIELDS}
    context = visit.context(
        card_token=forms.issue_token(key, link_id=visit.link_id, now=now),
        promptpay_token=forms.issue_token(key, link_id=visit.link_id, now=now),
        promptpay=visit.checkout.link.currency == "thb",
        values=kept,
        errors=errors or {},
        alert=alert,
        switch_url=None if values is not None else f"/pay/{visit.link_id}",
    )
    return pages.render("pay.html", context, status=status)


async def _outcome(visit: Visit, charge: Charge, values: dict[str, str]) -> Response:
    """The page for a charge: a receipt, the form again after a failure, or the QR to scan."""
    if charge.status == "successful":
        paid = pages.format_amount(charge.amount, charge.currency, visit.t.locale)
        return pages.render("receipt.html", visit.context(charge=charge, paid=paid))
    if charge.status == "pending" and charge.card is not None:
        return pages.notice(visit.t, key="processing", status=202, back=f"/pay/{visit.link_id}")
    if charge.status == "failed":
        message = (
            visit.t("promptpay_failed")
            if charge.source
            else visit.t.decline(charge.failure_code, livemode=charge.livemode)
        )
        return await _form(visit, status=402, values=values, alert=message)
    key = await visit.services.keyring.get("checkout-csrf")
    token = forms.issue_token(key, link_id=visit.link_id, now=visit.now())
    return pages.render("promptpay.html", visit.context(charge=charge, token=token))


async def _visit(request: Request) -> Visit | Response:
    services: Services = request.app.state.services
    t = Messages(pages.choose_locale(request))
    checkout = await services.db.read(service.find_link, link_id=request.path_params["link_id"])
    if checkout is None:
        return _not_found(t)
    return Visit(request, services, t, checkout)


async def _posted(
    request: Request, token_field: str
) -> tuple[Visit, dict[str, str], str] | Response:
    """(visit, form fields, nonce) for a form posted from this link's own page; else a 403 page
    (or 404 for an unknown link)."""
    visit = await _visit(request)
    if isinstance(visit, Response):
        return visit
    back = f"/pay/{visit.link_id}"
    public_url = visit.services.settings.public_url
    fields = None
    if not is_cross_site(request, public_url=public_url):
        fields = await forms.read_form(request)
    if fields is None:
        return pages.notice(visit.t, key="forbidden", status=403, back=back)
    key = await visit.services.keyring.get("checkout-csrf")
    verdict = forms.verify_token(
        key, fields.get(token_field), link_id=visit.link_id, now=visit.now()
    )
    if verdict.nonce is None:
        body = visit.t("stale_body") if verdict.problem == "stale" else None
        return pages.notice(visit.t, key="forbidden", status=403, body=body, back=back)
    return visit, fields, verdict.nonce


async def _refused(visit: Visit) -> Response | None:
    """The page for an attempt that must not go ahead (link not payable, too many attempts)."""
    blocked = _unpayable(visit)
    if blocked is not None:
        return blocked
    services = visit.services
    wait = await attempt_refused(
        services.limits,
        client=services.clients.of(visit.request),
        link_id=visit.link_id,
        account_id=visit.checkout.principal.account_id,
    )
    return None if wait is None else _too_many(visit, wait)


def _too_many(visit: Visit, wait: int) -> Response:
    return pages.notice(
        visit.t,
        key="rate",
        status=429,
        body=visit.t("rate_body", seconds=wait),
        back=f"/pay/{visit.link_id}",
        headers={"Retry-After": str(wait)},
    )


async def _attempt(
    request: Request, token_field: str
) -> tuple[Visit, dict[str, str], str] | Response:
    """(visit, form fields, nonce) for a payment attempt that may go ahead; otherwise the page
    to answer with: 403/404, the outcome of this form's earlier submission, the link's state,
    or 429."""
    posted = await _posted(request, token_field)
    if isinstance(posted, Response):
        return posted
    visit, fields, nonce = posted
    earlier = await visit.services.db.read(
        service.find_attempt, checkout=visit.checkout, nonce=nonce
    )
    if earlier is not None:
        return await _outcome(visit, earlier, fields)
    return await _refused(visit) or posted


@pages.html_page
async def show_page(request: Request) -> Response:
    visit = await _visit(request)
    if isinstance(visit, Response):
        return visit
    response = _unpayable(visit) or await _form(visit)
    if request.method == "GET":  # HEAD and language switches are not views
        services, link = visit.services, visit.checkout.link
        await views.count_view(
            services,
            link=link,
            cookie=request.cookies.get(views.COOKIE),
            client=services.clients.of(request),
            agent=request.headers.get("user-agent", ""),
        )
        views.remember(services, response, link=link)
    return response


@pages.html_page
async def pay_by_card(request: Request) -> Response:
    attempt = await _attempt(request, "card_token")
    if isinstance(attempt, Response):
        return attempt
    visit, fields, nonce = attempt
    services, checkout, now, processor = (
        visit.services,
        visit.checkout,
        visit.now(),
        visit.processor,
    )
    try:
        amount = read_amount(fields, checkout.link, visit.t)
        card_input, email = read_card(fields, visit.t)
        valid = tokens_service.validate_card(
            card_input, now=now, secret=await services.keyring.get("card-fingerprint")
        )
        wait = await card_refused(services.limits, fingerprint=valid.facts.fingerprint)
        if wait is not None:
            return _too_many(visit, wait)
        processor_ref = processor.vault(valid.digits)  # the number goes no further
    except FormErrors as error:
        return await _form(visit, status=422, values=fields, errors=error.errors)
    except (InvalidCard, TestModeLiveCard) as error:
        field, message = visit.t.card_error(error)
        return await _form(visit, status=422, values=fields, errors={field: message})
    card = tokens_service.card_object(card_input, valid, livemode=checkout.link.livemode, now=now)
    try:
        opened = await services.db.write(
            service.open_card_payment,
            checkout=checkout,
            nonce=nonce,
            card=card,
            processor_ref=processor_ref,
            email=email,
            amount=amount,
            now=now,
            record=services.recorder,
        )
    except LinkNotPayable as error:
        return _state(visit, error.reason)
    if isinstance(opened, Charge):  # this form's earlier submission made it
        return await _outcome(visit, await _settled(visit, opened), fields)
    charge = await payments.finish(
        services.db,
        opened,
        principal=checkout.principal,
        processor=processor,
        now=now,
        record=services.recorder,
    )
    return await _outcome(visit, charge, fields)


async def _settled(visit: Visit, charge: Charge) -> Charge:
    """A card charge that another submission of the same form is still settling (a double
    click): wait until it is settled, or until the sweeper would take over."""
    deadline = time.monotonic() + settlement.SETTLE_AFTER.total_seconds()
    while charge.status == "pending" and charge.card is not None:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
        charge = await visit.services.db.read(
            charges_service.get_charge, principal=visit.checkout.principal, charge_id=charge.id
        )
    return charge


@pages.html_page
async def pay_by_promptpay(request: Request) -> Response:
    attempt = await _attempt(request, "promptpay_token")
    if isinstance(attempt, Response):
        return attempt
    visit, fields, nonce = attempt
    try:
        amount = read_amount(fields, visit.checkout.link, visit.t)
        email = read_email(fields, visit.t)
        charge = await visit.services.db.write(
            service.start_promptpay,
            checkout=visit.checkout,
            nonce=nonce,
            email=email,
            amount=amount,
            now=visit.now(),
            record=visit.services.recorder,
        )
    except FormErrors as error:
        return await _form(visit, status=422, values=fields, errors=error.errors)
    except LinkNotPayable as error:
        return _state(visit, error.reason)
    return await _outcome(visit, charge, fields)


@pages.html_page
async def complete_promptpay(request: Request) -> Response:
    """Test mode: the buttons that end a PromptPay payment as the customer's bank would."""
    posted = await _posted(request, "token")
    if isinstance(posted, Response):
        return posted
    visit, fields, _nonce = posted
    if visit.checkout.link.livemode or fields.get("outcome") not in ("paid", "failed"):
        return _not_found(visit.t)
    try:
        charge = await visit.services.db.write(
            service.complete_promptpay,
            checkout=visit.checkout,
            charge_id=request.path_params["charge_id"],
            paid=fields["outcome"] == "paid",
            now=visit.now(),
            record=visit.services.recorder,
        )
    except NotFound:
        return _not_found(visit.t)
    except LinkNotPayable as error:
        return _state(visit, error.reason)
    return await _outcome(visit, charge, {})


@pages.html_page
async def brand_css(request: Request) -> Response:
    """The link's account's colours as CSS custom properties (the page's CSP allows no inline
    style), or nothing when it has none."""
    visit = await _visit(request)
    if isinstance(visit, Response):
        return visit
    branding = visit.checkout.branding
    css = ""
    if branding is not None and branding.brand_color:
        colours = palette(branding.brand_color)
        css = (
            f":root {{ --accent: {colours.accent}; --accent-dark: {colours.accent_dark}; "
            f"--accent-ink: {colours.accent_ink}; --accent-text: {colours.accent_text}; }}\n"
        )
    headers = {**pages.SECURITY_HEADERS, "Cache-Control": "public, max-age=300"}
    return Response(css, 200, headers, media_type="text/css; charset=utf-8")


@pages.html_page
async def logo(request: Request) -> Response:
    """The link's account's logo, with the type recognised at upload and no way to run as a
    document (nosniff, a sandboxing CSP)."""
    visit = await _visit(request)
    if isinstance(visit, Response):
        return visit
    branding = visit.checkout.branding
    if branding is None or branding.logo is None or branding.logo_type is None:
        return _not_found(visit.t)
    headers = {
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "public, max-age=300",
        "ETag": f'"{branding.version}"',
    }
    return Response(branding.logo, 200, headers, media_type=branding.logo_type)
