"""HTTP for tokens (the vault): create with a card, retrieve. Public or secret key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from paylinks.api.pipeline import ApiCall
from paylinks.errors import LiveModeUnavailable
from paylinks.tokens import schemas, service


async def create_token(call: ApiCall) -> dict[str, Any]:
    card_input = schemas.parse_card(call.params)
    if call.principal.livemode:
        # Card data never reaches paylinks in live mode: Omise's vault tokenizes it.
        raise LiveModeUnavailable(
            "live cards are tokenized by Omise (Omise.js, vault.omise.co) with the account's "
            "Omise public key, never by paylinks; no card was stored"
        )
    processor = call.runtime.test_processor
    now = call.now()
    secret = await call.runtime.keyring.get("card-fingerprint")
    valid = service.validate_card(card_input, now=now, secret=secret)
    # The number goes no further than the processor's vault.
    processor_ref = processor.vault(valid.digits)
    card = service.card_object(card_input, valid, livemode=call.principal.livemode, now=now)
    token = await call.db.write(
        service.create_token,
        principal=call.principal,
        card=card,
        processor_ref=processor_ref,
        now=now,
    )
    return schemas.token_to_wire(token)


async def retrieve_token(call: ApiCall) -> dict[str, Any]:
    token = await call.db.read(
        service.get_token, principal=call.principal, token_id=call.path_param("token_id")
    )
    return schemas.token_to_wire(token)


# Read once: the file never changes while the server runs.
OMISE_JS = (Path(__file__).parent / "static" / "omise.js").read_bytes()


async def omise_js(_request: Request) -> Response:
    """An offline Omise.js (a paylinks extension): the calls a payment page makes to Omise.js,
    answered by this server's vault (see the file). Any page may load it, as it may Omise's."""
    headers = {
        "Cache-Control": "public, max-age=300",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    return Response(OMISE_JS, 200, headers, media_type="text/javascript; charset=utf-8")
