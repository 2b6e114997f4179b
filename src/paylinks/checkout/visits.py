"""One customer's request to the hosted page, and the pages it may be answered with: the form,
the outcome of a payment, the link's state, a refusal. The handlers are in `checkout.routes`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from paylinks.charges import service as charges_service
from paylinks.charges.service import Charge
from paylinks.checkout import forms, pages, service
from paylinks.checkout.forms import KEPT_FIELDS
from paylinks.checkout.limits import attempt_refused
from paylinks.checkout.messages import Messages
from paylinks.checkout.service import CheckoutLink
from paylinks.links.claims import LinkNotPayable, ensure_payable
from paylinks.links.service import Link
from paylinks.money import format_major, format_money, parse_currency
from paylinks.payments import flow, settlement
from paylinks.processors.sandbox import TestProcessor
from paylinks.runtime import Runtime
from paylinks.web.origins import is_cross_site

STATE_STATUS = {
    "used": 410,  # gone, like an expired link: nothing more can be paid
    "live": 200,
    "deleted": 410,
    "expired": 410,
    "limit_reached": 410,
    "in_progress": 409,
}


THAILAND = timezone(timedelta(hours=7), "ICT")  # no daylight saving
# The payment form's fields, top to bottom.
FIELD_ORDER = ("amount", "email", "name", "number", "expiry", "security_code")


@dataclass
class CustomerVisit:
    """One request to the page: the link, the visitor's language, and the runtime."""

    request: Request
    runtime: Runtime
    t: Messages
    checkout: CheckoutLink

    @property
    def link_id(self) -> str:
        return self.checkout.link.id

    @property
    def _brand_color(self) -> str | None:
        branding = self.checkout.branding
        return branding.brand_color if branding else None

    @property
    def receipt_language(self) -> str | None:
        """The language of the receipt e-mail, or None when this installation sends none (no
        SMTP server): then the page asks for no address."""
        return self.t.locale if self.runtime.settings.smtp_url else None

    def now(self) -> datetime:
        """The link's account's time (test mode: its test clock)."""
        return self.checkout.principal.clock(self.runtime.clock.now())

    @property
    def processor(self) -> TestProcessor:
        """The link's mode's processor; only asked for once `refused` has ruled out live mode
        (whose page tokenizes with Omise.js: no card number reaches this page)."""
        assert not self.checkout.link.livemode
        return self.runtime.test_processor

    def context(self, **values: Any) -> dict[str, Any]:
        link = self.checkout.link
        return {
            "t": self.t,
            "locale": self.t.locale,
            "merchant": self.checkout.merchant,
            "branding": self.checkout.branding,
            "link": link,
            "amount": format_money(link.amount, link.currency, self.t.locale),
            "customer_amount": customer_amount_hints(link, self.t.locale),
            "test_mode": not link.livemode,
            "path": f"/pay/{link.id}",
            "switch_url": None,
            "receipts": self.receipt_language is not None,
            "brand_style": pages.brand_style(color) if (color := self._brand_color) else None,
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
        "low": format_money(low, link.currency, locale),
        "high": format_money(high, link.currency, locale),
        "code": currency.code.upper(),
        # For the page's script, which checks the amount and shows it as it is typed.
        "min": str(Decimal(low).scaleb(-currency.exponent)),
        "max": str(Decimal(high).scaleb(-currency.exponent)),
        "exponent": str(currency.exponent),
    }


def not_found(t: Messages) -> Response:
    return pages.notice(t, key="not_found", status=404)


def state_page(visit: CustomerVisit, reason: str) -> Response:
    """The honest page for a link that cannot be paid now (or in live mode, at all yet)."""
    body = visit.t(f"{reason}_body", merchant=visit.checkout.merchant)
    shown = visit.request.method in ("GET", "HEAD")  # a language switch re-opens the page
    context = visit.context(switch_url=f"/pay/{visit.link_id}" if shown else None)
    branding = visit.checkout.branding
    if STATE_STATUS[reason] == 410 and branding is not None and branding.support_email:
        context["contact"] = branding.support_email  # to ask the merchant for a new link
    return pages.notice(visit.t, key=reason, status=STATE_STATUS[reason], body=body, **context)


def unpayable(visit: CustomerVisit) -> Response | None:
    try:
        ensure_payable(visit.checkout.link, visit.now())
    except LinkNotPayable as error:
        held = error.reason in ("used", "limit_reached") and visit.checkout.held
        return state_page(visit, "in_progress" if held else error.reason)
    if visit.checkout.link.livemode and visit.checkout.omise_public_key is None:
        return state_page(visit, "live")  # no Omise account connected: nothing can pay
    return None


async def form_page(
    visit: CustomerVisit,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    declined: bool = False,
    preview: dict[str, Any] | None = None,
) -> Response:
    """The payment form with fresh tokens: one per way to pay, as each names its own attempt.
    Field errors come in the form's order (the alert lists them, each a link to its field).
    `preview`: what the dashboard's preview changes (`dashboard.page_preview`)."""
    key = await visit.runtime.keyring.get("checkout-csrf")
    now = visit.now()
    kept = {name: (values or {}).get(name, "") for name in KEPT_FIELDS}
    live = visit.checkout.link.livemode
    context = visit.context(
        card_token=forms.issue_token(key, link_id=visit.link_id, now=now),
        promptpay_token=forms.issue_token(key, link_id=visit.link_id, now=now),
        promptpay=visit.checkout.link.currency == "thb",  # live: at Omise, Omise's QR
        omise=live_card(visit) if live else None,
        values=kept,
        errors={name: errors[name] for name in FIELD_ORDER if name in errors} if errors else {},
        alert=alert,
        declined=declined,
        card_brands=forms.CARD_BRANDS,
        brand_prefixes=forms.BRAND_PREFIXES,
        **(
            {
                # A switch is a fresh form in the other language (what was typed stays behind).
                "switch_url": f"/pay/{visit.link_id}",
                **(preview or {}),
            }
        ),
    )
    headers = pages.live_headers(visit.runtime.settings) if live else None
    return pages.render("pay.html", context, status=status, headers=headers)


def live_card(visit: CustomerVisit) -> dict[str, str]:
    """What a live page's script needs to tokenize with Omise.js: where it is, and the
    account's Omise public key."""
    assert visit.checkout.omise_public_key is not None
    return {"js": visit.runtime.settings.omise_js_url, "key": visit.checkout.omise_public_key}


async def outcome_page(visit: CustomerVisit, charge: Charge, values: dict[str, str]) -> Response:
    """The page for a charge: a receipt, the form again after a failure, or the QR to scan. A
    receipt or a QR answers a form's POST with a redirect to the attempt's own address
    (post/redirect/get), which can be reloaded and bookmarked and never pays again."""
    here = attempt_path(visit.link_id, charge)
    if visit.request.method == "POST" and here is not None and _has_its_own_page(charge):
        target = f"{here}?locale={visit.t.locale}"
        return RedirectResponse(target, status_code=303, headers=pages.PAGE_HEADERS)
    if charge.status == "successful":
        return receipt_page(visit, charge)
    if charge.authentication == "pending" and charge.status == "pending":
        if charge.upstream_authorize_uri is not None:
            # Live: Omise's step, reached from a page (a redirect after this form's post would
            # be held to the form's `form-action 'self'`).
            return pages.notice(
                visit.t, key="to_bank", status=200, go_to=charge.upstream_authorize_uri,
                **visit.context(),
            )  # fmt: skip
        # 3-D Secure: to the customer's bank (test mode: our page), which sends them back to
        # the link's return address; the receipt waits for the charge to be final.
        target = f"/payments/{charge.id}/authorize?locale={visit.t.locale}"
        return RedirectResponse(target, status_code=303, headers=pages.PAGE_HEADERS)
    if charge.waits_for_the_processor:  # a live charge whose answer from Omise was lost
        # Back to this attempt, which asks Omise again (the link's page would say "in progress").
        back = attempt_path(visit.link_id, charge) or f"/pay/{visit.link_id}"
        return pages.notice(visit.t, key="processing", status=202, back=back)
    if charge.status == "failed":
        message = (
            visit.t("promptpay_failed")
            if charge.source
            else visit.t.decline(charge.failure_code, livemode=charge.livemode)
        )
        declined = charge.card is not None
        return await form_page(visit, status=402, values=values, alert=message, declined=declined)
    if charge.status == "expired":  # the bank's step, or the QR, ran out
        why = "tds_expired" if charge.card is not None else "promptpay_expired"
        return await form_page(visit, status=402, values=values, alert=visit.t(why))
    return await qr_page(visit, charge, here)


def _has_its_own_page(charge: Charge) -> bool:
    """A paid charge (its receipt), or a QR waiting to be paid."""
    if charge.status == "successful":
        return True
    return charge.source is not None and charge.status == "pending"


def receipt_page(visit: CustomerVisit, charge: Charge) -> Response:
    """The receipt: what was paid (the amount paid, once), when, how, and the reference."""
    paid = format_money(charge.amount, charge.currency, visit.t.locale)
    paid_at = in_thailand(charge.paid_at) if charge.paid_at is not None else None
    return pages.render("receipt.html", visit.context(charge=charge, amount=paid, paid_at=paid_at))


def in_thailand(moment: datetime) -> tuple[str, str]:
    """(time, date) as Thai customers read them: PromptPay and the page are Thai, and the
    customer may be anywhere, so the zone is said beside it."""
    local = moment.astimezone(THAILAND)
    return local.strftime("%H:%M"), local.strftime("%d/%m/%Y")


async def qr_page(visit: CustomerVisit, charge: Charge, here: str | None) -> Response:
    """The QR to scan, at the attempt's own address: its script polls the charge's status."""
    key = await visit.runtime.keyring.get("checkout-csrf")
    token = forms.issue_token(key, link_id=visit.link_id, now=visit.now())
    until = in_thailand(charge.expires_at) if charge.expires_at is not None else None
    context = visit.context(charge=charge, token=token, until=until, here=here)
    image = charge.source.image_uri if charge.source is not None else None
    if not charge.livemode or image is None or here is None:
        return pages.render("promptpay.html", context, headers=pages.waiting_for_payment())
    # Live: Omise's QR, and a page that asks again (here, then Omise) until the bank has paid.
    context.update(qr_image=image, check=f"{here}?locale={visit.t.locale}")
    return pages.render("promptpay.html", context, headers=pages.waiting_for_payment(image))


def return_path(link_id: str, nonce: str) -> str:
    """Where an attempt is shown again by its form nonce (`routes.return_from_bank`): the
    customer's way back from a bank's step, and a page that asks the processor again."""
    return f"/pay/{link_id}/return/{nonce}"


def attempt_path(link_id: str, charge: Charge) -> str | None:
    """`return_path` of a charge made on the page (None for one made through the API)."""
    nonce = charge.metadata.get(service.NONCE_KEY)
    return return_path(link_id, nonce) if isinstance(nonce, str) else None


def kept_values(visit: CustomerVisit, charge: Charge) -> dict[str, str]:
    """The form's kept fields as a card charge's customer filled them in, for a page reached
    without the form (back from 3-D Secure). Never the card number or security code."""
    card = charge.card or {}
    values = {"name": card.get("name") or "", "method": "card"}
    if card.get("expiration_month") and card.get("expiration_year"):
        values["expiry"] = f"{card['expiration_month']:02d}/{card['expiration_year'] % 100:02d}"
    if visit.checkout.link.customer_decides:
        values["amount"] = format_major(charge.amount, parse_currency(charge.currency))
    return values


async def open_visit(request: Request) -> CustomerVisit | Response:
    runtime: Runtime = request.app.state.runtime
    t = Messages(pages.choose_locale(request))
    checkout = await runtime.db.read(service.find_link, link_id=request.path_params["link_id"])
    if checkout is None:
        return not_found(t)
    return CustomerVisit(request, runtime, t, checkout)


async def posted_form(
    request: Request, token_field: str
) -> tuple[CustomerVisit, dict[str, str], str] | Response:
    """(visit, form fields, nonce) for a form posted from this link's own page; else a 403 page
    (or 404 for an unknown link)."""
    visit = await open_visit(request)
    if isinstance(visit, Response):
        return visit
    back = f"/pay/{visit.link_id}"
    public_url = visit.runtime.settings.public_url
    fields = None
    if not is_cross_site(request, public_url=public_url):
        fields = await forms.read_form(request)
    if fields is None:
        return pages.notice(visit.t, key="forbidden", status=403, back=back)
    key = await visit.runtime.keyring.get("checkout-csrf")
    verdict = forms.verify_token(
        key, fields.get(token_field), link_id=visit.link_id, now=visit.now()
    )
    if verdict.nonce is None:
        body = visit.t("stale_body") if verdict.problem == "stale" else None
        return pages.notice(visit.t, key="forbidden", status=403, body=body, back=back)
    return visit, fields, verdict.nonce


async def refused(visit: CustomerVisit) -> Response | None:
    """The page for an attempt that must not go ahead (link not payable, too many attempts)."""
    blocked = unpayable(visit)
    if blocked is not None:
        return blocked
    runtime = visit.runtime
    wait = await attempt_refused(
        runtime.limits,
        client=runtime.clients.of(visit.request),
        link_id=visit.link_id,
        account_id=visit.checkout.principal.account_id,
    )
    return None if wait is None else too_many(visit, wait)


def too_many(visit: CustomerVisit, wait: int) -> Response:
    return pages.notice(
        visit.t,
        key="rate",
        status=429,
        body=visit.t("rate_body", seconds=wait),
        back=f"/pay/{visit.link_id}",
        headers={"Retry-After": str(wait)},
    )


async def attempt(
    request: Request, token_field: str
) -> tuple[CustomerVisit, dict[str, str], str] | Response:
    """(visit, form fields, nonce) for a payment attempt that may go ahead; otherwise the page
    to answer with: 403/404, the outcome of this form's earlier submission, the link's state,
    or 429."""
    posted = await posted_form(request, token_field)
    if isinstance(posted, Response):
        return posted
    visit, fields, nonce = posted
    earlier = await visit.runtime.db.read(
        service.find_attempt, checkout=visit.checkout, nonce=nonce
    )
    if earlier is not None:  # a double click: wait for the first to settle, never say "pending"
        return await outcome_page(visit, await settled(visit, earlier), fields)
    return await refused(visit) or posted


async def back_from_omise(visit: CustomerVisit, charge: Charge) -> Charge:
    """A live charge whose customer is back from Omise's 3-D Secure step, or waits for their
    QR to be paid: settled from what Omise holds now, once final (its webhook may come later,
    or first; the charge settles once)."""
    if charge.status != "pending" or charge.authorized:
        return charge
    processor = await visit.runtime.processor_of(visit.checkout.principal)
    if processor is None:
        return charge
    return await flow.settle_from_processor(
        visit.runtime.db, charge, principal=visit.checkout.principal, processor=processor,
        now=visit.now(), record=visit.runtime.recorder,
    )  # fmt: skip


async def settled(visit: CustomerVisit, charge: Charge) -> Charge:
    """A card charge that another submission of the same form is still settling (a double
    click): wait until it is settled, or until the sweeper would take over."""
    deadline = time.monotonic() + settlement.SETTLE_AFTER.total_seconds()
    # Not a 3-D Secure charge waiting for its customer, nor a QR waiting to be paid.
    while charge.waits_for_the_processor:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
        charge = await visit.runtime.db.read(
            charges_service.get_charge, principal=visit.checkout.principal, charge_id=charge.id
        )
    return charge
