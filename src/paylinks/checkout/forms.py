"""The page's form tokens (CSRF defence and idempotency key in one), the same-origin check, and
reading a posted form.

A token is `nonce.issued.mac`: HMAC-SHA256 over the link id, a random nonce and the issue time,
keyed by the installation's `checkout-csrf` secret. It is stateless (nothing is stored until a
payment is attempted), bound to one link, and expires. The nonce then names the payment attempt:
a charge made with it carries it in its metadata, so a resubmitted form finds that charge instead
of making another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl

from starlette.requests import Request

from paylinks.charges.schemas import parse_email
from paylinks.checkout.messages import Messages
from paylinks.errors import BadRequest
from paylinks.links.service import Link
from paylinks.money import major_to_minor, parse_currency
from paylinks.tokens.schemas import CardInput

TOKEN_LIFETIME = 2 * 3600  # seconds
CLOCK_SKEW = 60  # seconds a token may seem to come from the future (processes' clocks differ)
MAX_FORM_BYTES = 16 * 1024
# ASCII digits only (`\d` would also read "١٢/٣٥").
_EXPIRY = re.compile(r"\s*([0-9]{1,2})\s*/\s*([0-9]{2}|[0-9]{4})\s*|\s*([0-9]{2})([0-9]{2})\s*")
# Shown again after a decline; never the card number.
KEPT_FIELDS = ("name", "expiry", "email", "amount")
_TOKEN = re.compile(r"([0-9a-f]{32})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")
_NONCE = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Verdict:
    """A checked token: its nonce when valid; otherwise why not (forged or stale)."""

    nonce: str | None
    problem: str | None = None  # "forged" | "stale"


def _mac(key: bytes, link_id: str, nonce: str, issued: int) -> str:
    digest = hmac.new(key, f"{link_id}.{nonce}.{issued}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue_token(key: bytes, *, link_id: str, now: datetime) -> str:
    nonce = secrets.token_hex(16)  # hex, so it is also safe inside a LIKE pattern
    issued = int(now.timestamp())
    return f"{nonce}.{issued}.{_mac(key, link_id, nonce, issued)}"


def is_nonce(text: str) -> bool:
    """Whether `text` could be a nonce `issue_token` made (it then names a payment attempt)."""
    return _NONCE.fullmatch(text) is not None


def verify_token(key: bytes, token: str | None, *, link_id: str, now: datetime) -> Verdict:
    match = _TOKEN.fullmatch(token or "")
    if match is None:
        return Verdict(None, "forged")
    nonce, issued, mac = match.group(1), int(match.group(2)), match.group(3)
    if not hmac.compare_digest(mac, _mac(key, link_id, nonce, issued)):
        return Verdict(None, "forged")
    age = now.timestamp() - issued
    if age > TOKEN_LIFETIME or age < -CLOCK_SKEW:
        return Verdict(None, "stale")
    return Verdict(nonce)


async def read_form(request: Request) -> dict[str, str] | None:
    """The urlencoded fields (first value of each); None when too large or not a form."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return {}
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        pairs = parse_qsl(
            body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=40
        )
    except ValueError:  # more fields than any of our forms has
        return None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:  # no browser sends one; PostgreSQL cannot store it
            return None
        fields.setdefault(name, value)
    return fields


class FormErrors(Exception):
    """Fields the visitor must fix, each with the message to show beside it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid form")
        self.errors = errors


def _email(fields: dict[str, str], t: Messages, errors: dict[str, str]) -> str | None:
    try:
        return parse_email(fields.get("email", "").strip() or None)
    except BadRequest:
        errors["email"] = t("err_email_invalid")
        return None


def read_email(fields: dict[str, str], t: Messages) -> str | None:
    """The optional receipt e-mail, or `FormErrors`."""
    errors: dict[str, str] = {}
    email = _email(fields, t, errors)
    if errors:
        raise FormErrors(errors)
    return email


def read_card(fields: dict[str, str], t: Messages) -> tuple[CardInput, str | None]:
    """The card as typed (the number unchecked: the card service judges it) and the e-mail, or
    `FormErrors` naming every field that is missing or unreadable. Expiry is `MM/YY`, `MM/YYYY`
    or `MMYY`."""
    errors: dict[str, str] = {}
    email = _email(fields, t, errors)
    name, number = fields.get("name", "").strip(), fields.get("number", "").strip()
    typed_expiry = fields.get("expiry", "").strip()
    expiry = _EXPIRY.fullmatch(typed_expiry)
    if not name:
        errors["name"] = t("err_name_required")
    if not number:
        errors["number"] = t("err_number_required")
    if expiry is None:
        errors["expiry"] = t("err_expiry_invalid" if typed_expiry else "err_expiry_required")
    if errors:
        raise FormErrors(errors)
    assert expiry is not None
    month, year = (int(group) for group in expiry.groups() if group is not None)
    code = fields.get("security_code", "").strip() or None
    return CardInput(number, name[:100], month, year, code, address={}), email


def read_amount(fields: dict[str, str], link: Link, t: Messages) -> int | None:
    """The amount the customer typed (major units) for a link whose customer decides it, in
    minor units and within the link's bounds; None for a fixed-amount link. `FormErrors` with
    the field's message otherwise (the charge service checks the bounds again)."""
    if not link.customer_decides:
        return None
    currency = parse_currency(link.currency)
    text = fields.get("amount", "").strip().replace(",", "")
    try:
        amount = int(major_to_minor(text, currency))
    except ValueError:
        raise FormErrors({"amount": t("err_amount_invalid")}) from None
    low = link.amount_min if link.amount_min is not None else currency.minimum
    high = link.amount_max if link.amount_max is not None else currency.maximum
    if not low <= amount <= high:
        raise FormErrors({"amount": t("err_amount_range")})
    return amount
