"""The link's wire format, both directions: request parameters in, the link object out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from paylinks.charges.schemas import charge_to_wire
from paylinks.charges.service import EMBEDDED, Charge
from paylinks.clock import format_time
from paylinks.errors import BadRequest, InvalidAmount
from paylinks.links.service import Link, NewLink
from paylinks.money import Currency, check_amount, parse_currency
from paylinks.pagination import ListQuery, list_object
from paylinks.params import DESCRIPTION_MAX, Params, parse_metadata

TITLE_MAX = 200
USAGE_LIMIT_MAX = 1_000_000_000
EXPIRY_HORIZON = timedelta(days=3660)
UPDATABLE_FIELDS = ("description", "metadata")
IMMUTABLE_FIELDS = (
    "amount",
    "currency",
    "title",
    "multiple",
    "expires_at",
    "usage_limit",
    "used",
    "used_at",
    "deleted",
    "deleted_at",
    "livemode",
    "id",
    "object",
    "created_at",
    "payment_uri",
    "charges",
)


def parse_customer_amount(
    params: Params, suggested: int, currency: Currency
) -> tuple[str, int | None, int | None]:
    """`amount_type` (fixed, or customer: the customer types the amount) and, for customer
    links, the optional `amount_min` / `amount_max` (minor units) around the suggested
    `amount`, all within the currency's limits."""
    amount_type = params.string("amount_type") or "fixed"
    if amount_type not in ("fixed", "customer"):
        raise BadRequest("amount_type must be fixed or customer")
    low = params.integer("amount_min", error=InvalidAmount)
    high = params.integer("amount_max", error=InvalidAmount)
    if amount_type == "fixed":
        if low is not None or high is not None:
            raise BadRequest("amount_min and amount_max apply to amount_type=customer only")
        return amount_type, None, None
    for bound in (low, high):
        if bound is not None:
            check_amount(bound, currency)
    if (low is not None and suggested < low) or (high is not None and suggested > high):
        raise InvalidAmount("the suggested amount must lie between amount_min and amount_max")
    return amount_type, low, high


def parse_create(params: Params, *, now: datetime) -> NewLink:
    amount = params.integer("amount", required=True, error=InvalidAmount)
    assert amount is not None
    if amount <= 0:
        raise InvalidAmount("amount must be a positive integer in the currency's smallest unit")
    currency_code = params.string("currency", required=True)
    assert currency_code is not None
    currency = parse_currency(currency_code)
    check_amount(amount, currency)
    title = params.string("title", required=True, max_length=TITLE_MAX)
    assert title is not None
    description = params.string("description", max_length=DESCRIPTION_MAX)
    multiple = params.boolean("multiple") or False
    expires_at = params.time("expires_at")
    if expires_at is not None and not now < expires_at <= now + EXPIRY_HORIZON:
        raise BadRequest("expires_at must be a future time, at most ten years ahead")
    usage_limit = params.integer("usage_limit")
    if usage_limit is not None:
        if not multiple:
            raise BadRequest("usage_limit applies to multi-use links only (multiple=true)")
        if not 1 <= usage_limit <= USAGE_LIMIT_MAX:
            raise BadRequest(f"usage_limit must be between 1 and {USAGE_LIMIT_MAX}")
    amount_type, low, high = parse_customer_amount(params, amount, currency)
    return NewLink(
        amount=amount,
        currency=currency.code,
        title=title,
        description=description,
        multiple=multiple,
        metadata=parse_metadata(params) or {},
        expires_at=expires_at,
        usage_limit=usage_limit,
        amount_type=amount_type,
        amount_min=low,
        amount_max=high,
    )


def parse_update(params: Params) -> tuple[str | None, dict[str, Any] | None]:
    """(description, metadata); any attempt to change another field is a 400 naming it."""
    forbidden = params.present(IMMUTABLE_FIELDS)
    if forbidden:
        names = ", ".join(forbidden)
        raise BadRequest(
            f"{names} cannot be changed; only description and metadata are updatable "
            "(create a new link instead)"
        )
    unknown = params.others(UPDATABLE_FIELDS)
    if unknown:
        raise BadRequest(
            f"unknown parameter {unknown[0]}; only description and metadata can be changed"
        )
    description = params.string("description", max_length=DESCRIPTION_MAX)
    return description, parse_metadata(params)


def link_to_wire(
    link: Link, *, public_url: str, now: datetime, charges: dict[str, Any]
) -> dict[str, Any]:
    """The link object: the seed's fields in the seed's order, then ours."""
    return {
        "object": "link",
        "id": link.id,
        "livemode": link.livemode,
        "location": f"/links/{link.id}",
        "amount": link.amount,
        "currency": link.currency,
        "title": link.title,
        "description": link.description,
        "multiple": link.multiple,
        "payment_uri": f"{public_url}/pay/{link.id}",
        "used": link.used,
        "charges": charges,
        "created_at": format_time(link.created_at),
        "metadata": link.metadata,
        "deleted": link.deleted,
        "deleted_at": format_time(link.deleted_at),
        "used_at": format_time(link.used_at),
        "expires_at": format_time(link.expires_at),
        "usage_limit": link.usage_limit,
        "active": link.is_active(now),
        # Only customer-decided links carry these (a dashboard feature; see docs).
        **(
            {
                "amount_type": link.amount_type,
                "amount_min": link.amount_min,
                "amount_max": link.amount_max,
            }
            if link.customer_decides
            else {}
        ),
    }


EMBEDDED_QUERY = ListQuery(EMBEDDED, 0, "chronological", None, None)


def link_with_charges_to_wire(
    link: Link, charges: list[Charge], total: int, *, public_url: str, now: datetime
) -> dict[str, Any]:
    """The link object with its embedded charges list (the first 20 and how many in all)."""
    embedded = list_object(
        data=[charge_to_wire(c, public_url=public_url) for c in charges],
        total=total,
        query=EMBEDDED_QUERY,
        location=f"/links/{link.id}/charges",
        now=now,
    )
    return link_to_wire(link, public_url=public_url, now=now, charges=embedded)


def linked_to_wire(
    link: Link, embedded: dict[int, tuple[list[Charge], int]], *, public_url: str, now: datetime
) -> dict[str, Any]:
    """The link object with its charges from `links.reads` (none read: an empty list)."""
    found, total = embedded.get(link.pk, ([], 0))
    return link_with_charges_to_wire(link, found, total, public_url=public_url, now=now)
