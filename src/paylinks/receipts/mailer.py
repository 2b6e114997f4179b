"""Sending receipts: the SMTP server from `PAYLINKS_SMTP_URL`, and the loop that empties the
receipts outbox (`outbox`) through it. Runs in every `serve` process and in `paylinks worker`
when SMTP is configured; claims are leases, so any number may run against one database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

from paylinks.clock import Clock
from paylinks.config import Settings
from paylinks.db import Database
from paylinks.receipts import letter, outbox
from paylinks.receipts.smtp import Refused, Send, SmtpSend, parse_smtp_url

log = logging.getLogger("paylinks.receipts")
EVERY_SECONDS = 2.0


def sender_address(configured: str, public_url: str) -> str:
    """`PAYLINKS_SMTP_FROM`, else receipts@ the public host (a name, not an address: mail
    servers refuse a sender at an IP literal), else receipts@localhost."""
    if configured:
        return configured
    host = urlsplit(public_url).hostname or ""
    named = "." in host and not host.replace(".", "").isdigit()
    return f"receipts@{host if named else 'localhost'}"


class Mailer:
    def __init__(self, db: Database, *, send: Send, sender: str, clock: Clock) -> None:
        self.db = db
        self.send = send
        self.sender = sender
        self.clock = clock

    async def run_once(self) -> int:
        """Claim what is due, send each, record each; how many were tried."""
        now = self.clock.now()
        if not await self.db.read(outbox.anything_due, now=now):
            return 0
        claimed = await self.db.write(outbox.claim_due, now=now)
        await asyncio.gather(*(self._deliver(one) for one in claimed))
        return len(claimed)

    async def _deliver(self, claimed: outbox.Claimed) -> None:
        receipt = await self.db.read(letter.gather, claimed=claimed)
        try:
            await self.send(letter.compose(receipt, sender=self.sender))
        except Refused as refusal:
            log.warning("receipt for %s not sent: %s", receipt.charge.id, refusal)
            await self.db.write(
                outbox.record_failure, claimed=claimed, error=str(refusal),
                permanent=refusal.permanent, now=self.clock.now(),
            )  # fmt: skip
            return
        await self.db.write(outbox.record_sent, pk=claimed.pk, now=self.clock.now())

    async def run_forever(self, stop: asyncio.Event, every: float = EVERY_SECONDS) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # a database hiccup must not end the mailer for good
                log.exception("receipts round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)


def mailer_of(settings: Settings, db: Database, clock: Clock) -> Mailer:
    """The mailer `serve` and `worker` run when `PAYLINKS_SMTP_URL` is set."""
    send = SmtpSend(parse_smtp_url(settings.smtp_url))
    sender = sender_address(settings.smtp_from, settings.public_url)
    return Mailer(db, send=send, sender=sender, clock=clock)
