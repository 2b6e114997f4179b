"""HTTP for sources (PromptPay), and the QR image of a source's payload."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from paylinks.api.pipeline import ApiCall, error_response
from paylinks.errors import BadRequest, InvalidAmount, NotFound
from paylinks.money import check_amount, parse_currency
from paylinks.runtime import Runtime
from paylinks.sources import promptpay, schemas, service


async def create_source(call: ApiCall) -> dict[str, Any]:
    source_type = call.params.string("type", required=True)
    amount = call.params.integer("amount", required=True, error=InvalidAmount)
    currency_code = call.params.string("currency", required=True)
    assert source_type is not None and amount is not None and currency_code is not None
    currency = parse_currency(currency_code)
    check_amount(amount, currency)
    source = await call.db.write(
        service.create_source,
        principal=call.principal,
        type=source_type,
        amount=amount,
        currency=currency.code,
        now=call.now(),
    )
    return schemas.source_to_wire(source, public_url=call.runtime.settings.public_url)


async def retrieve_source(call: ApiCall) -> dict[str, Any]:
    source = await call.db.read(
        service.get_source, principal=call.principal, source_id=call.path_param("source_id")
    )
    return schemas.source_to_wire(source, public_url=call.runtime.settings.public_url)


async def source_qr(request: Request) -> Response:
    """The QR code to scan: `/sources/<id>/qr.svg` or `.png`. The unguessable id is the key."""
    runtime: Runtime = request.app.state.runtime
    source_id = request.path_params["source_id"]
    source = await runtime.db.read(service.find_source, source_id=source_id)
    if source is None:
        return error_response(NotFound.for_object("source", source_id))
    kind = request.path_params["kind"]
    if kind == "svg":
        return Response(promptpay.qr_svg(source.payload), media_type="image/svg+xml")
    if kind == "png":
        return Response(promptpay.qr_png(source.payload), media_type="image/png")
    return error_response(BadRequest("the QR image comes as .svg or .png"))
