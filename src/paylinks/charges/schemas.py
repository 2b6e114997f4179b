"""The charge wire format: parameters in, the charge object out (omise-compat §4.3)."""

from __future__ import annotations

import re
from typing import Any

from paylinks.charges.service import Charge, NewCharge
from paylinks.clock import format_time
from paylinks.errors import BadRequest, InvalidAmount
from paylinks.params import DESCRIPTION_MAX, Params, parse_metadata
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
    )


def _source_field(charge: Charge, public_url: str) -> dict[str, Any] | None:
    if charge.source is not None:
        wire = source_to_wire(charge.source, public_url=public_url, charge_status=charge.status)
        return {**wire, "link": charge.link_id}
    if charge.link_id is not None:
        # Omise: the real API leaves `source` null for card payments and sets `link`; the seed's
        # webhook handler reads `charge.source.type == 'link'` and `charge.source.id`. We do both.
        return {"object": "source", "type": "link", "id": charge.link_id}
    return None


def charge_to_wire(charge: Charge, *, public_url: str) -> dict[str, Any]:
    paid = charge.status == "successful"
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
        "authorized": paid,
        "paid": paid,
        "capture": True,
        "capturable": False,
        "expired": False,
        "reversed": False,
        "refunded_amount": 0,
        "transaction": charge.transaction_id,
        "failure_code": charge.failure_code,
        "failure_message": charge.failure_message,
        "card": charge.card,
        "source": _source_field(charge, public_url),
        "link": charge.link_id,
        "customer_email": charge.customer_email,
        "authorize_uri": None,
        "return_uri": None,
        "paid_at": format_time(charge.paid_at),
        "created_at": format_time(charge.created_at),
    }
