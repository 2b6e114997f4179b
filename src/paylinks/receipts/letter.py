"""What a receipt e-mail says: the receipt page's facts, in the customer's language, as plain
text and HTML, from the merchant (its display name; its support e-mail as Reply-To)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

import jinja2
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.branding.service import Branding, get_branding
from paylinks.charges.service import Charge, get_charge
from paylinks.checkout.messages import Messages
from paylinks.checkout.visits import in_thailand
from paylinks.models import accounts, charges, links
from paylinks.money import format_money
from paylinks.receipts.outbox import Claimed

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)
DEFAULT_COLOR = "#1f5fbf"


@dataclass(frozen=True)
class Receipt:
    """Everything one receipt e-mail shows."""

    claimed: Claimed
    charge: Charge
    title: str
    merchant: str
    branding: Branding | None


def gather(conn: Connection, *, claimed: Claimed) -> Receipt:
    row = conn.execute(
        sa.select(
            charges.c.id, charges.c.account_pk, charges.c.livemode, accounts.c.id.label("account"),
            accounts.c.name, links.c.title,
        )
        .join(accounts, accounts.c.pk == charges.c.account_pk)
        .join(links, links.c.pk == charges.c.link_pk)
        .where(charges.c.pk == claimed.charge_pk)
    ).one()  # fmt: skip
    principal = Principal(row.account_pk, row.account, bool(row.livemode), "secret", "")
    charge = get_charge(conn, principal=principal, charge_id=row.id)
    branding = get_branding(conn, account_pk=row.account_pk)
    merchant = (branding.display_name if branding else None) or row.name
    return Receipt(claimed, charge, row.title, merchant, branding)


def message_id(receipt: Receipt, domain: str) -> str:
    """One per receipt, the same on every try: a copy sent again after a crash is recognisably
    the same message (`outbox` says when that can happen)."""
    return f"<receipt.{receipt.charge.id}@{domain}>"


def compose(receipt: Receipt, *, sender: str) -> EmailMessage:
    """The message: plain text first, HTML as the alternative (clients show the richer one)."""
    charge = receipt.charge
    t = Messages(receipt.claimed.language)
    assert charge.paid_at is not None  # released only when paid
    time, date = in_thailand(charge.paid_at)
    branding = receipt.branding
    facts = {
        "t": t,
        "merchant": receipt.merchant,
        "title": receipt.title,
        "amount": format_money(charge.amount, charge.currency, t.locale),
        "paid_at": t("receipt_paid_at_value", date=date, time=time),
        "method": _method(t, charge),
        "reference": charge.id,
        "color": (branding.brand_color if branding else None) or DEFAULT_COLOR,
        "support": branding.support_email if branding else None,
        "test": not charge.livemode,
    }
    message = EmailMessage()
    message["Subject"] = t(
        "receipt_mail_subject", merchant=receipt.merchant, amount=facts["amount"]
    )
    message["From"] = formataddr((receipt.merchant, sender))
    message["To"] = receipt.claimed.email
    if facts["support"]:
        message["Reply-To"] = str(facts["support"])
    message["Date"] = format_datetime(charge.paid_at)
    message["Message-ID"] = message_id(receipt, sender.rpartition("@")[2] or "paylinks.invalid")
    message.set_content(_TEMPLATES.get_template("receipt.txt").render(facts))
    message.add_alternative(_TEMPLATES.get_template("receipt.html").render(facts), subtype="html")
    message["Content-Language"] = t.locale  # after the body: setting it clears Content-*
    return message


def _method(t: Messages, charge: Charge) -> str:
    if charge.card is None:
        return "PromptPay"
    return t("receipt_card", brand=charge.card["brand"], last_digits=charge.card["last_digits"])
