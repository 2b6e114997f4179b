"""Creating a link in the dashboard: every API field (the amount in major units, as people
write it), a preview of the payment page before saving, then the API's own validation and
service, so the dashboard has no payment rules of its own."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from paylinks.dashboard.pages import MerchantVisit, page, redirect
from paylinks.errors import ApiError, InvalidCurrency
from paylinks.links import schemas
from paylinks.links import service as links_service
from paylinks.links.service import NewLink
from paylinks.money import CURRENCIES, Currency, format_money, major_to_minor, parse_currency
from paylinks.params import Params
from paylinks.upstream.currencies import check_live_currency

METADATA_ROWS = 5
FIELDS = (
    *("title", "description", "amount", "currency", "multiple", "usage_limit", "expires_at"),
    *("amount_type", "amount_min", "amount_max"),
)


def routes() -> list[BaseRoute]:
    return [
        Route("/dashboard/links/new", page(form_page), methods=["GET"]),
        Route("/dashboard/links/new", page(submit), methods=["POST"]),
    ]


def _values(visit: MerchantVisit) -> dict[str, str]:
    """The form as typed (kept when it comes back with an error, or for the preview)."""
    names = [*FIELDS] + [
        f"meta_{part}_{i}" for i in range(METADATA_ROWS) for part in ("key", "value")
    ]
    return {name: visit.field(name) for name in names}


def _new_link(values: dict[str, str], visit: MerchantVisit) -> NewLink:
    """The API's parse of the form: the same checks and messages as POST /links."""
    currency = parse_currency(values["currency"] or "thb")
    minor = _minor(values["amount"], currency)
    metadata = {
        values[f"meta_key_{i}"].strip(): values[f"meta_value_{i}"]
        for i in range(METADATA_ROWS)
        if values[f"meta_key_{i}"].strip()
    }
    params: dict[str, Any] = {
        "title": values["title"],
        "amount": minor,
        "currency": currency.code,
        "multiple": values["multiple"] == "on",
        "metadata": metadata,
    }
    for name in ("description", "usage_limit", "expires_at"):
        if values[name].strip():
            params[name] = values[name].strip()
    if values["amount_type"] == "customer":
        # The customer decides; the amount above is the suggestion the page starts with.
        params["amount_type"] = "customer"
        for name in ("amount_min", "amount_max"):
            if values[name].strip():
                params[name] = _minor(values[name], currency)
    return schemas.parse_create(Params(params), now=visit.now())


def _minor(text: str, currency: Currency) -> int:
    try:
        return int(major_to_minor(text.replace(",", "").strip(), currency))
    except ValueError:
        code = currency.code.upper()
        raise ApiError(f"enter amounts in {code}, such as 1000 or 1,250.50") from None


def _form(
    visit: MerchantVisit, values: dict[str, str], *, error: str | None = None, status: int = 200
) -> Response:
    return visit.render(
        "link_new.html",
        status=status,
        title="New link",
        values=values,
        error=error,
        currencies=sorted(CURRENCIES),
        rows=range(METADATA_ROWS),
    )


async def form_page(visit: MerchantVisit) -> Response:
    return _form(visit, {name: "" for name in _values(visit)} | {"currency": "thb"})


async def submit(visit: MerchantVisit) -> Response:
    values = _values(visit)
    if visit.field("action") == "edit":  # back from the preview, to change something
        return _form(visit, values)
    try:
        new = _new_link(values, visit)
    except ApiError as problem:
        return _form(visit, values, error=problem.message, status=400)
    if visit.field("action") == "preview":
        return visit.render(
            "link_preview.html",
            title="Preview",
            new=new,
            values=values,
            price=format_money(new.amount, new.currency, "en"),
        )
    try:
        await visit.runtime.db.read(
            check_live_currency, principal=visit.principal, currency=new.currency
        )
        link = await visit.runtime.db.write(
            links_service.create_link,
            principal=visit.principal,
            new=new,
            now=visit.now(),
            max_active=visit.runtime.settings.max_active_links,
            record=visit.runtime.recorder,
        )
    except InvalidCurrency as problem:  # the connected Omise does not take it
        return _form(visit, values, error=problem.message, status=400)
    except ApiError as problem:  # the active-link cap
        return _form(visit, values, error=problem.message, status=422)
    return redirect(f"/dashboard/links/{link.id}")
