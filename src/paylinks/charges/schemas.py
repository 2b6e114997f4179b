"""The charge wire format: parameters in, the charge object out (omise-compat §4.3)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from paylinks.charges.service import Charge, NewCharge
from paylinks.clock import EPOCH, format_time
from paylinks.errors import BadRequest, InvalidAmount
from paylinks.pagination import DEFAULT_LIMIT
from paylinks.params import DESCRIPTION_MAX, Params, parse_metadata
from paylinks.refunds.schemas import refund_to_wire
from paylinks.sources.schemas import source_to_wire

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def parse_email(value: str | None) -> str | None:
    if value is None:
        return None
    email = value.strip()
    if len(email) > 254 or not EMAIL.match(email):
        raise BadRequest("customer_email is not a valid e-mail address")
    return email


def parse_create(params: Params) -> NewCharge:
    amount = params.integer("amount", error=InvalidAmount)
    if amount is not None and amount <= 0:
        raise InvalidAmount("amount must be a positive integer in the currency's smallest unit")
    return NewCharge(
        amount=amount,
        currency=params.string("currency"),
        token_id=params.string("card", max_length=60),
        source_id=params.string("source", max_length=60),
        link_id=params.string("link", max_length=60),
        description=params.string("description", max_length=DESCRIPTION_MAX),
        metadata=parse_metadata(params) or {},
        customer_email=parse_email(params.string("customer_email")),
        capture=params.boolean("capture") is not False,
        return_uri=parse_return_uri(params.string("return_uri", max_length=2000)),
    )


UPDATABLE_FIELDS = ("description", "metadata")


def parse_update(params: Params) -> tuple[str | None, dict[str, Any] | None]:
    """(description, metadata); any other parameter is a 400 naming it."""
    unknown = params.others(UPDATABLE_FIELDS)
    if unknown:
        raise BadRequest(
            f"{unknown[0]} cannot be changed; only description and metadata are updatable"
        )
    description = params.string("description", max_length=DESCRIPTION_MAX)
    return description, parse_metadata(params)


def parse_return_uri(value: str | None) -> str | None:
    """Where a 3-D Secure customer is sent back to: an absolute http(s) URL."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequest("return_uri must be an absolute http or https URL")
    return value


def _source_field(charge: Charge, public_url: str) -> dict[str, Any] | None:
    if charge.source is not None:
        wire = source_to_wire(charge.source, public_url=public_url, charge_status=charge.status)
        return {**wire, "link": charge.link_id}
    if charge.link_id is not None:
        # Omise: the real API leaves `source` null for card payments and sets `link`; the seed's
        # webhook handler reads `charge.source.type == 'link'` and `charge.source.id`. We do both.
        return {"object": "source", "type": "link", "id": charge.link_id}
    return None


def refunds_list(charge: Charge) -> dict[str, Any]:
    """The charge's `refunds`: a list object of all of them, like `charges` on a link."""
    data = [refund_to_wire(r) for r in charge.refunds]
    return {
        "object": "list",
        "data": data,
        "limit": max(len(data), DEFAULT_LIMIT),
        "offset": 0,
        "total": len(data),
        "location": f"/charges/{charge.id}/refunds",
        "order": "chronological",
        "from": format_time(EPOCH),
        "to": format_time(charge.refunds[-1].created_at if charge.refunds else charge.created_at),
    }


def authorize_uri(charge: Charge, public_url: str) -> str | None:
    """Where the customer authenticates a 3-D Secure charge (while it waits for them)."""
    if charge.authentication != "pending" or charge.status != "pending":
        return None
    if charge.upstream_authorize_uri is not None:  # live: Omise's own step
        return charge.upstream_authorize_uri
    return f"{public_url}/payments/{charge.id}/authorize"


def charge_to_wire(charge: Charge, *, public_url: str) -> dict[str, Any]:
    paid = charge.status == "successful"
    refundable = charge.refundable > 0
    return {
        "object": "charge",
        "id": charge.id,
        "location": f"/charges/{charge.id}",
        "livemode": charge.livemode,
        "amount": charge.amount,
        "currency": charge.currency,
        "description": charge.description,
        "metadata": charge.metadata,
        "status": charge.status,
        "authorized": charge.authorized,
        "paid": paid,
        "capture": charge.capture,
        "capturable": charge.capturable,
        "reversible": charge.capturable,
        "expired": charge.status == "expired",
        "reversed": charge.status == "reversed",
        "voided": False,
        "refunded_amount": charge.refunded_amount,
        "refundable": refundable,
        "partially_refundable": refundable,
        "refunds": refunds_list(charge),
        "transaction": charge.transaction_id,
        "failure_code": charge.failure_code,
        "failure_message": charge.failure_message,
        "card": charge.card,
        "source": _source_field(charge, public_url),
        "link": charge.link_id,
        "customer_email": charge.customer_email,
        "authorize_uri": authorize_uri(charge, public_url),
        "return_uri": charge.return_uri,
        "paid_at": format_time(charge.paid_at),
        "expires_at": format_time(charge.expires_at),
        "expired_at": format_time(charge.expired_at),
        "reversed_at": format_time(charge.reversed_at),
        "created_at": format_time(charge.created_at),
    }
