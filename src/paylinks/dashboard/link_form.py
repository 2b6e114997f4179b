"""Creating a link in the dashboard: every API field (the amount in major units, as people
write it; the expiry picked in the account's time zone), a preview of the payment page before
saving, then the API's own validation and service, so the dashboard has no payment rules of
its own. Every field's problem is shown at once, each beside its field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from paylinks.clock import format_time
from paylinks.dashboard import metadata_rows, zones
from paylinks.dashboard.pages import MerchantVisit, page, redirect
from paylinks.errors import ApiError, InvalidAmount, InvalidCurrency
from paylinks.links import schemas
from paylinks.links import service as links_service
from paylinks.links.service import NewLink
from paylinks.money import CURRENCIES, Currency, major_to_minor, parse_currency
from paylinks.params import Params
from paylinks.upstream.currencies import check_live_currency

FIELDS = (
    *("title", "description", "amount", "currency", "multiple", "usage_limit", "expires_at"),
    *("amount_type", "amount_min", "amount_max"),
)
# The summary names each field as its label does; "form" is a problem of the whole form.
LABELS = {
    "title": "Title",
    "description": "Description",
    "amount": "Amount",
    "currency": "Currency",
    "amount_min": "Minimum",
    "amount_max": "Maximum",
    "usage_limit": "At most this many payments",
    "expires_at": "Expires at",
    "metadata": "Metadata",
}


def routes() -> list[BaseRoute]:
    return [
        Route("/dashboard/links/new", page(form_page), methods=["GET"]),
        Route("/dashboard/links/new", page(submit), methods=["POST"]),
    ]


def form_values(visit: MerchantVisit) -> dict[str, str]:
    """The form as typed (kept when it comes back with an error, or for the preview)."""
    rows = metadata_rows.fields(visit.form) if visit.form is not None else {}
    return {name: visit.field(name) for name in FIELDS} | rows


def _minor(text: str, currency: Currency) -> int:
    try:
        return int(major_to_minor(text.replace(",", "").strip(), currency))
    except ValueError:
        code = currency.code.upper()
        raise InvalidAmount(f"enter amounts in {code}, such as 1000 or 1,250.50") from None


# One field of the form as API parameters ({} when left empty); an `ApiError` when it cannot
# even be read (an amount that is not a number, a time that is not one).
Reader = Callable[[dict[str, str], Currency, ZoneInfo], dict[str, Any]]


def _optional(name: str) -> Reader:
    return lambda values, _currency, _zone: (
        {name: values[name].strip()} if values[name].strip() else {}
    )


def _amount(values: dict[str, str], currency: Currency, _zone: ZoneInfo) -> dict[str, Any]:
    if not values["amount"].strip():
        raise InvalidAmount("amount is required")
    return {"amount": _minor(values["amount"], currency)}


def _usage_limit(values: dict[str, str], _currency: Currency, _zone: ZoneInfo) -> dict[str, Any]:
    text = values["usage_limit"].strip()
    return {"usage_limit": text, "multiple": values["multiple"] == "on"} if text else {}


def _expiry(values: dict[str, str], _currency: Currency, zone: ZoneInfo) -> dict[str, Any]:
    """The picker's local time, in the account's zone (a browser without the picker shows a
    text box: "2026-12-31 23:59" is read too)."""
    text = values["expires_at"].strip().replace(" ", "T")
    if not text:
        return {}
    try:
        return {"expires_at": format_time(zones.from_local(text, zone))}
    except ValueError:
        raise ApiError("expires_at must be a date and time, such as 2026-12-31T23:59") from None


def _bound(name: str) -> Reader:
    def read(values: dict[str, str], currency: Currency, _zone: ZoneInfo) -> dict[str, Any]:
        # Only for the customer's amount (the server ignores the bounds of a fixed amount, as
        # a form without the script sends them); checked as the suggestion, so that the rule
        # between the bounds and the suggestion waits for the whole form.
        if values["amount_type"] != "customer" or not values[name].strip():
            return {}
        minor = _minor(values[name], currency)
        return {"amount_type": "customer", name: minor, "amount": minor}

    return read


def _metadata(values: dict[str, str], _currency: Currency, _zone: ZoneInfo) -> dict[str, Any]:
    return {"metadata": metadata_rows.metadata_of(values)}


READERS: dict[str, Reader] = {
    "title": lambda values, _currency, _zone: {"title": values["title"]},
    "description": _optional("description"),
    "amount": _amount,
    "usage_limit": _usage_limit,
    "expires_at": _expiry,
    "amount_min": _bound("amount_min"),
    "amount_max": _bound("amount_max"),
    "metadata": _metadata,
}


def check(
    values: dict[str, str], *, zone: ZoneInfo, now: datetime
) -> tuple[NewLink | None, dict[str, str]]:
    """The form through the API's parse (`links.schemas.parse_create`), which stops at the
    first problem: so each field is parsed alone on top of a valid link, giving every field's
    message at once, then the whole form, for the rules between fields. (the link, {}) or
    (None, {field: message})."""
    errors: dict[str, str] = {}
    try:
        currency = parse_currency(values["currency"] or "thb")
    except ApiError as problem:
        errors["currency"] = problem.message
        currency = CURRENCIES["thb"]
    base: dict[str, Any] = {"title": "-", "amount": currency.minimum, "currency": currency.code}
    params = dict(base, multiple=values["multiple"] == "on")
    for name, read in READERS.items():
        try:
            given = read(values, currency, zone)
            schemas.parse_create(Params(base | given), now=now)
        except ApiError as problem:
            errors[name] = problem.message
        else:
            params |= {k: v for k, v in given.items() if k != "amount" or name == "amount"}
    if errors:
        return None, errors
    try:
        return schemas.parse_create(Params(params), now=now), {}
    except ApiError as problem:  # the suggestion outside the bounds is the amount's problem
        return None, {"amount" if isinstance(problem, InvalidAmount) else "form": problem.message}


def _form(
    visit: MerchantVisit,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return visit.render(
        "link_new.html",
        status=status,
        title="New link",
        values=values,
        errors=errors or {},
        labels=LABELS,
        currencies=sorted(CURRENCIES),
        meta_rows=metadata_rows.rows_from_fields(values),
        earliest=zones.to_local(visit.now(), visit.zone),
    )


async def form_page(visit: MerchantVisit) -> Response:
    return _form(visit, {name: "" for name in FIELDS} | {"currency": "thb"})


async def submit(visit: MerchantVisit) -> Response:
    values = form_values(visit)
    if visit.field("action") == "edit":  # back from the preview, to change something
        return _form(visit, values)
    new, errors = check(values, zone=visit.zone, now=visit.now())
    if new is None:
        return _form(visit, values, errors=errors, status=400)
    if visit.field("action") == "preview":
        return visit.render(
            "link_preview.html",
            title="Preview",
            new=new,
            values=values,
            # The page itself, in a frame (`page_preview`): the form's values in its address.
            frame=f"/dashboard/links/new/preview?{urlencode(values)}",
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
        return _form(visit, values, errors={"currency": problem.message}, status=400)
    except ApiError as problem:  # the active-link cap
        return _form(visit, values, errors={"form": problem.message}, status=422)
    return redirect(f"/dashboard/links/{link.id}")
