"""HTTP for tokens (the vault): create with a card, retrieve. Public or secret key."""

from __future__ import annotations

from typing import Any

from paylinks.api.pipeline import ApiCall
from paylinks.errors import LiveModeUnavailable
from paylinks.tokens import schemas, service


async def create_token(call: ApiCall) -> dict[str, Any]:
    card_input = schemas.parse_card(call.params)
    processor = call.runtime.processor_for(call.principal.livemode)
    if processor is None:
        raise LiveModeUnavailable(
            "live mode has no card processor configured; no card was stored (use test keys)"
        )
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
