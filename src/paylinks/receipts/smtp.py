"""The SMTP server receipts go through (`PAYLINKS_SMTP_URL`), and what its answers mean."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool  # smtps: TLS from the first byte
    start_tls: bool | None  # None: STARTTLS when the server offers it; False: never


def parse_smtp_url(url: str) -> SmtpServer:
    """`smtp://[user:password@]host[:port][?tls=off]` or `smtps://…`; ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("PAYLINKS_SMTP_URL must look like smtp://user:password@host:587")
    tls = parse_qs(parts.query).get("tls", ["auto"])[-1]
    if tls not in ("auto", "off"):
        raise ValueError("PAYLINKS_SMTP_URL: tls= is auto or off")
    secure = parts.scheme == "smtps"
    return SmtpServer(
        host=parts.hostname,
        port=parts.port or (465 if secure else 587),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=secure,
        start_tls=False if secure or tls == "off" else None,
    )


class Refused(Exception):
    """The message was not taken. `permanent`: the server refused this recipient or message for
    good (5xx: asking again will not help, e.g. an address that does not exist)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Send(Protocol):
    async def __call__(self, message: EmailMessage) -> None: ...


class SmtpSend:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def __call__(self, message: EmailMessage) -> None:
        server = self.server
        try:
            await aiosmtplib.send(
                message, hostname=server.host, port=server.port, username=server.username,
                password=server.password, use_tls=server.use_tls, start_tls=server.start_tls,
                timeout=TIMEOUT_SECONDS,
            )  # fmt: skip
        except aiosmtplib.SMTPRecipientsRefused as error:
            # The customer's address (or its mailbox) refused: 5xx will not change.
            codes = [refusal.code for refusal in error.recipients]
            raise Refused(f"recipient refused ({codes})", permanent=min(codes) >= 500) from error
        except aiosmtplib.SMTPDataError as error:  # the message itself refused
            raise Refused(f"{error.code} {error.message}", permanent=error.code >= 500) from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            # Refused logins and senders, connections, timeouts: this installation's to fix,
            # and the receipt waits for the next try.
            raise Refused(f"{type(error).__name__}: {error}", permanent=False) from error
