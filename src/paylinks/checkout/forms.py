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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from starlette.requests import Request

from paylinks.charges.schemas import parse_email
from paylinks.checkout.messages import Messages
from paylinks.errors import BadRequest, InvalidCard
from paylinks.links.service import Link
from paylinks.money import format_money, major_to_minor, parse_currency
from paylinks.tokens import cards
from paylinks.tokens.schemas import CardInput

T = TypeVar("T")
TOKEN_LIFETIME = 2 * 3600  # seconds
CLOCK_SKEW = 60  # seconds a token may seem to come from the future (processes' clocks differ)
MAX_FORM_BYTES = 16 * 1024
# ASCII digits only (`\d` would also read "١٢/٣٥").
_EXPIRY = re.compile(r"\s*([0-9]{1,2})\s*/\s*([0-9]{2}|[0-9]{4})\s*|\s*([0-9]{2})([0-9]{2})\s*")
# Shown again after a decline; never the card number.
# The card brands the server accepts (`tokens.cards.BRANDS`, its own table, so that the page
# never names a brand the server refuses): shown under the pay button, the best known first,
# and given to the page's script with their prefixes, to name the brand as the number is typed.
BEST_KNOWN = ("Visa", "MasterCard", "JCB", "UnionPay")
CARD_BRANDS = sorted(
    (brand for brand, _, _ in cards.BRANDS),
    key=lambda brand: BEST_KNOWN.index(brand) if brand in BEST_KNOWN else len(BEST_KNOWN),
)
BRAND_PREFIXES = ";".join(
    brand + ":" + ",".join(f"{low}-{high}" for low, high in ranges)
    for brand, ranges, _ in cards.BRANDS
)
KEPT_FIELDS = ("name", "expiry", "amount", "method", "email")
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


def read_card(
    fields: dict[str, str], link: Link, t: Messages, *, now: datetime
) -> tuple[int | None, CardInput, str | None]:
    """(amount, card as typed, e-mail), or `FormErrors` naming every field that is missing or
    refused, all at once: the amount (`read_amount`), the e-mail, the name, and the number,
    expiry and security code as the card checks judge each of them on its own (the card
    service then checks the whole card again, and the processor's vault has the last word).
    Expiry is `MM/YY`, `MM/YYYY` or `MMYY`."""
    errors: dict[str, str] = {}
    amount = None
    try:
        amount = read_amount(fields, link, t)
    except FormErrors as error:
        errors.update(error.errors)
    email = _email(fields, t, errors)
    name, number = fields.get("name", "").strip(), fields.get("number", "").strip()
    typed_expiry = fields.get("expiry", "").strip()
    expiry = _EXPIRY.fullmatch(typed_expiry)
    code = fields.get("security_code", "").strip() or None
    if not name:
        errors["name"] = t("err_name_required")
    if expiry is None:
        errors["expiry"] = t("err_expiry_invalid" if typed_expiry else "err_expiry_required")
    month, year = (0, 0) if expiry is None else _month_and_year(expiry)
    card = CardInput(number, name[:100], month, year, code, address={})
    errors.update(_card_refusals(card, t, now=now, expiry_read=expiry is not None))
    if errors:
        raise FormErrors(errors)
    return amount, card, email


def _month_and_year(expiry: re.Match[str]) -> tuple[int, int]:
    month, year = (int(group) for group in expiry.groups() if group is not None)
    return month, year


def _card_refusals(
    card: CardInput, t: Messages, *, now: datetime, expiry_read: bool
) -> dict[str, str]:
    """The card checks, each on its own field (the card service stops at the first)."""
    refusals: dict[str, str] = {}
    brand = None
    if not card.number:
        refusals["number"] = t("err_number_required")
    else:  # the fingerprint is not wanted here: any key will do
        checked = _refusal(refusals, "number", t, cards.check_number, card.number, secret=b"-")
        brand = checked[1].brand if checked is not None else None
    if expiry_read:
        month, year = card.expiration_month, card.expiration_year
        _refusal(refusals, "expiry", t, cards.check_expiry, month, year, now=now)
    if card.security_code is not None and brand is not None:
        code = card.security_code
        _refusal(refusals, "security_code", t, cards.check_security_code, code, brand=brand)
    return refusals


def _refusal(
    refusals: dict[str, str], field: str, t: Messages, check: Callable[..., T], *args: Any,
    **kwargs: Any,
) -> T | None:  # fmt: skip
    """`check(...)`, or None with the field's message noted when the check refuses it."""
    try:
        return check(*args, **kwargs)
    except InvalidCard as error:
        refusals[field] = t.card_error(error)[1]
        return None


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
        shown = [format_money(bound, link.currency, t.locale) for bound in (low, high)]
        raise FormErrors({"amount": t("err_amount_range", low=shown[0], high=shown[1])})
    return amount
