"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd, in a thread of its own): keeps every
message it accepts, and refuses the recipients it is told to."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Mailbox:
    url: str = ""
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    # Recipient address -> the answers to give its RCPT TO, in order (then 250).
    refusals: dict[str, list[str]] = field(default_factory=dict)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[EmailMessage]:
        """The first `count` messages, once that many have arrived."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"{len(self.messages)} messages arrived, not {count}")
            return self.messages[:count]


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        answers = self.box.refusals.get(address)
        if answers:
            return answers.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        parsed = email.message_from_bytes(
            envelope.original_content or b"", policy=email.policy.default
        )
        assert isinstance(parsed, EmailMessage)
        with self.box.arrived:
            self.box.messages.append(parsed)
            self.box.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
            self.box.arrived.notify_all()
        return "250 Message accepted"


class _Credentials:
    def __init__(self, username: str, password: str) -> None:
        self.expected = (username.encode(), password.encode())

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == self.expected
        return AuthResult(success=ok)


@contextmanager
def mailbox(*, username: str = "", password: str = "") -> Iterator[Mailbox]:
    """An SMTP server for one test; with `username`, it requires that login (over plain text:
    a test server on loopback)."""
    box = Mailbox()
    loop = asyncio.new_event_loop()
    handler = _Handler(box)
    auth: dict[str, Any] = {}
    if username:
        auth = {
            "auth_required": True,
            "auth_require_tls": False,
            "authenticator": _Credentials(username, password),
        }

    def factory() -> SMTP:
        with warnings.catch_warnings():  # "AUTH without TLS": on loopback, for a test
            warnings.simplefilter("ignore", UserWarning)
            return SMTP(handler, hostname="mail.test", loop=loop, **auth)

    # Started from its own thread's loop: the caller's thread may be running a loop already
    # (Playwright's sync API does), and a second one cannot run there.
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    listening = loop.create_server(factory, "127.0.0.1", 0)
    server = asyncio.run_coroutine_threadsafe(listening, loop).result(10)
    port = server.sockets[0].getsockname()[1]
    box.url = f"smtp://127.0.0.1:{port}?tls=off"
    try:
        yield box
    finally:
        asyncio.run_coroutine_threadsafe(_shut(server), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


async def _shut(server: asyncio.Server) -> None:
    """Stop listening, then end every session still open (a client that has not said QUIT):
    a session task left pending when the loop closes is reported as destroyed, which fails
    whichever test happens to be running then."""
    server.close()
    sessions = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in sessions:
        task.cancel()
    await asyncio.gather(*sessions, return_exceptions=True)
    await server.wait_closed()
