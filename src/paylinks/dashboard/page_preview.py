"""The payment page before it exists, as customers will see it: the new-link form's preview and
the branding page's are the hosted page's own template (`checkout.visits.form_page`), with the
account's branding, shown in a sandboxed frame (no script runs in it and no form can be sent
from it), so the preview can never differ from the page."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import datetime

from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from paylinks.branding.contrast import DEFAULT_ACCENT, palette
from paylinks.branding.service import Branding, get_branding
from paylinks.checkout import visits
from paylinks.checkout.messages import LOCALES, Messages
from paylinks.checkout.service import CheckoutLink
from paylinks.dashboard import link_form
from paylinks.dashboard.pages import MerchantVisit, notice, page
from paylinks.links.service import Link, NewLink

PREVIEW_ID = "payl_preview"
# A sample for the branding page: what most links are.
SAMPLE = NewLink(
    amount=100000, currency="thb", title="Product Purchase", description=None, multiple=False,
    metadata={}, expires_at=None, usage_limit=None,
)  # fmt: skip


def routes() -> list[BaseRoute]:
    return [
        Route("/dashboard/links/new/preview", page(new_link), methods=["GET"]),
        Route("/dashboard/branding/preview", page(branding), methods=["GET"]),
    ]


def _unsaved(new: NewLink, *, livemode: bool, now: datetime) -> Link:
    return Link(
        pk=0, id=PREVIEW_ID, livemode=livemode, amount=new.amount, currency=new.currency,
        title=new.title, description=new.description, multiple=new.multiple, metadata={},
        used=False, used_at=None, deleted=False, deleted_at=None, expires_at=new.expires_at,
        usage_limit=new.usage_limit, paid_count=0, created_at=now, amount_type=new.amount_type,
        amount_min=new.amount_min, amount_max=new.amount_max,
    )  # fmt: skip


async def _frame(visit: MerchantVisit, link: Link, branding: Branding | None) -> Response:
    """The page's form as its customers get it, made inert: the language stays the one asked
    for, the logo is in the page, and the frame may be shown by the dashboard only."""
    asked = visit.request.query_params.get("locale", "en")
    merchant = (branding.display_name if branding else None) or visit.session.account_name
    checkout = CheckoutLink(link, visit.principal, merchant, branding, omise_public_key="pkey")
    customer = visits.CustomerVisit(
        visit.request, visit.runtime, Messages(asked if asked in LOCALES else "en"), checkout
    )
    preview: dict[str, object] = {"switch_url": None, "inert": True}
    if branding is not None and branding.logo and branding.logo_type:
        preview["logo_src"] = (
            f"data:{branding.logo_type};base64,{base64.b64encode(branding.logo).decode()}"
        )
    response = await visits.form_page(customer, preview=preview)
    policy = response.headers["content-security-policy"]
    response.headers["content-security-policy"] = policy.replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    )
    response.headers["x-frame-options"] = "SAMEORIGIN"
    return response


async def new_link(visit: MerchantVisit) -> Response:
    """The create form's preview: the form's values, checked as creating would check them."""
    asked: list[tuple[str, str | UploadFile]] = list(visit.request.query_params.multi_items())
    visit.form = FormData(asked)
    values = link_form.form_values(visit)
    new, _errors = link_form.check(values, zone=visit.zone, now=visit.now())
    if new is None:
        return notice("Nothing to show", "Correct the form to see its page.", status=400)
    branding_now = await visit.runtime.db.read(get_branding, account_pk=visit.session.account_pk)
    return await _frame(
        visit, _unsaved(new, livemode=visit.principal.livemode, now=visit.now()), branding_now
    )


async def branding(visit: MerchantVisit) -> Response:
    """The branding page's preview: the saved branding, with the name, colour and support
    e-mail as the form holds them (the logo is the saved one until it is saved)."""
    saved = await visit.runtime.db.read(get_branding, account_pk=visit.session.account_pk)
    shown = saved or Branding(None, None, None, None, None)
    asked = visit.request.query_params
    color = asked.get("brand_color", shown.brand_color or DEFAULT_ACCENT).strip().lower()
    try:
        palette(color)
    except ValueError:  # half typed: the saved colour until it is a colour
        color = shown.brand_color or DEFAULT_ACCENT
    shown = replace(
        shown,
        display_name=asked.get("display_name", shown.display_name or "").strip()[:100] or None,
        brand_color=color,
        support_email=asked.get("support_email", shown.support_email or "").strip() or None,
    )
    link = _unsaved(SAMPLE, livemode=visit.principal.livemode, now=visit.now())
    return await _frame(visit, link, shown)
