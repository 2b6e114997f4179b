"""The token and card wire format: card fields in (as the SDKs send them), token objects out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paylinks.clock import format_time
from paylinks.errors import InvalidCard
from paylinks.params import Params
from paylinks.tokens.service import Token

ADDRESS_FIELDS = ("street1", "street2", "city", "state", "postal_code", "country", "phone_number")


@dataclass(frozen=True)
class CardInput:
    """A card as submitted. `number` and `security_code` live only as long as the request."""

    number: str
    name: str
    expiration_month: int
    expiration_year: int
    security_code: str | None
    address: dict[str, str | None]

    def __repr__(self) -> str:  # never print the number or the code, even by accident
        expiry = f"{self.expiration_month}/{self.expiration_year}"
        return f"CardInput(name={self.name!r}, expiration={expiry})"


def _text(card: dict[str, Any], name: str, *, limit: int = 255) -> str | None:
    value = card.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, (dict, list, bool)):
        raise InvalidCard(f"card[{name}] must be a string")
    text = str(value).strip()
    if not text:
        return None
    if len(text) > limit:
        raise InvalidCard(f"card[{name}] is too long")
    return text


def _month_or_year(card: dict[str, Any], name: str) -> int:
    value = card.get(name)
    if isinstance(value, bool) or value is None or value == "":
        raise InvalidCard(f"card[{name}] is required")
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 4):
        raise InvalidCard(f"card[{name}] must be a number")
    return int(text)


def parse_card(params: Params) -> CardInput:
    """Card fields from `card[...]` (values may be numbers or strings); `InvalidCard` naming the
    field when one is missing or malformed. Error messages never contain the number or code."""
    card = params.mapping("card", error=InvalidCard)
    if card is None:
        raise InvalidCard(
            "card is required: send card[number], card[name], "
            "card[expiration_month] and card[expiration_year]"
        )
    number = card.get("number")
    if number is None or number == "" or isinstance(number, (bool, dict, list)):
        raise InvalidCard("card[number] is required")
    name = _text(card, "name", limit=100)
    if name is None:
        raise InvalidCard("card[name] is required")
    code = card.get("security_code")
    return CardInput(
        number=str(number),
        name=name,
        expiration_month=_month_or_year(card, "expiration_month"),
        expiration_year=_month_or_year(card, "expiration_year"),
        security_code=None if code is None or code == "" else str(code).strip(),
        address={field: _text(card, field) for field in ADDRESS_FIELDS},
    )


def token_to_wire(token: Token) -> dict[str, Any]:
    return {
        "object": "token",
        "id": token.id,
        "livemode": token.livemode,
        "location": f"/tokens/{token.id}",
        "used": token.used,
        "charge_status": token.charge_status,
        "card": token.card,
        "created_at": format_time(token.created_at),
    }
