"""The refund wire format: parameters in, the refund object out (Omise's Refunds API)."""

from __future__ import annotations

from typing import Any

from paylinks.clock import format_time
from paylinks.errors import InvalidAmount
from paylinks.params import Params, parse_metadata
from paylinks.refunds.service import Refund


def parse_create(params: Params) -> tuple[int, dict[str, Any]]:
    """`amount` (required, the currency's smallest unit) and optional `metadata`."""
    amount = params.integer("amount", error=InvalidAmount)
    if amount is None:
        raise InvalidAmount("amount is required: the part of the charge to refund")
    if amount <= 0:
        raise InvalidAmount("amount must be a positive integer in the currency's smallest unit")
    return amount, parse_metadata(params) or {}


def refund_to_wire(refund: Refund) -> dict[str, Any]:
    return {
        "object": "refund",
        "id": refund.id,
        "location": f"/charges/{refund.charge_id}/refunds/{refund.id}",
        "livemode": refund.livemode,
        "amount": refund.amount,
        "currency": refund.currency,
        "charge": refund.charge_id,
        "transaction": refund.transaction_id,
        "metadata": refund.metadata,
        # Omise: a card refund is closed once made; pending while Omise has not confirmed it.
        "status": refund.status,
        "voided": False,  # Omise: a refund before settlement voids the charge; we never void
        "created_at": format_time(refund.created_at),
    }
