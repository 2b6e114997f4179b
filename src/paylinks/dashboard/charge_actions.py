"""What a merchant does to a link's charge after the payment, from the link's page: refund part
or all of a captured charge, capture or reverse an authorization. The same flows as the API
(`payments.flow`), so the same rules and the same one processor call each.

A refund form names how much of the charge was refunded when the page was shown: a form sent
twice (a double click, a reload) finds the charge changed and refunds nothing more."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from paylinks.charges.service import Charge, get_charge
from paylinks.dashboard.links_pages import link_page
from paylinks.dashboard.pages import MerchantVisit, page, redirect
from paylinks.errors import ApiError, NotFound
from paylinks.money import major_to_minor, parse_currency
from paylinks.params import clamped_integer
from paylinks.payments import flow

BASE = "/dashboard/links/{link_id}/charges/{charge_id}"


def routes() -> list[BaseRoute]:
    return [
        Route(f"{BASE}/refund", page(refund), methods=["POST"]),
        Route(f"{BASE}/capture", page(capture), methods=["POST"]),
        Route(f"{BASE}/reverse", page(reverse), methods=["POST"]),
    ]


async def _charge(visit: MerchantVisit) -> Charge:
    """The charge of the path, if it is the link's: another link's is not found here."""
    charge_id = visit.path_param("charge_id")
    charge = await visit.runtime.db.read(get_charge, principal=visit.principal, charge_id=charge_id)
    if charge.link_id != visit.path_param("link_id"):
        raise NotFound(f"no charge {charge_id} on this link")
    return charge


def _back(visit: MerchantVisit) -> Response:
    return redirect(f"/dashboard/links/{visit.path_param('link_id')}")


async def refund(visit: MerchantVisit) -> Response:
    charge = await _charge(visit)
    runtime = visit.runtime
    try:
        amount = int(major_to_minor(visit.field("amount").strip(), parse_currency(charge.currency)))
        await flow.refund(
            runtime.db,
            principal=visit.principal,
            charge_id=charge.id,
            amount=amount,
            metadata={},
            now=visit.now(),
            processor=await runtime.processor_of(visit.principal),
            record=runtime.recorder,
            refunded_before=_shown_refunded(visit, charge.amount),
        )
    except ValueError:
        return await link_page(visit, error="Enter the amount to refund, like 250.00.", status=400)
    except ApiError as problem:
        return await link_page(visit, error=problem.message, status=400)
    return _back(visit)


def _shown_refunded(visit: MerchantVisit, amount: int) -> int | None:
    """How much of the charge the page showed refunded (None: a form without it)."""
    shown = clamped_integer(visit.field("refunded_before"), low=0, high=amount, default=-1)
    return None if shown < 0 else shown


async def capture(visit: MerchantVisit) -> Response:
    return await _authorization(visit, capture=True)


async def reverse(visit: MerchantVisit) -> Response:
    return await _authorization(visit, capture=False)


async def _authorization(visit: MerchantVisit, *, capture: bool) -> Response:
    """Capture or reverse; racing forms are safe as the API is: one of them wins."""
    charge_id = (await _charge(visit)).id
    runtime = visit.runtime
    action = flow.capture if capture else flow.reverse
    try:
        await action(
            runtime.db,
            principal=visit.principal,
            charge_id=charge_id,
            now=visit.now(),
            processor=await runtime.processor_of(visit.principal),
            record=runtime.recorder,
        )
    except ApiError as problem:
        return await link_page(visit, error=problem.message, status=400)
    return _back(visit)
