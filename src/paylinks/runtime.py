"""The runtime: what every handler, page and worker may use, built once by `create_app` (and the
CLI's commands) from the settings, kept on `app.state`, and closed with the app. Only core types
here: the seams (clock, processor, recorder) are protocols, so no feature is imported.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from paylinks.auth import Authenticator, Principal
from paylinks.clock import Clock
from paylinks.config import Settings
from paylinks.db import Database
from paylinks.eventlog import Recorder
from paylinks.keyring import Keyring
from paylinks.processors.protocol import Processor
from paylinks.processors.sandbox import TestProcessor
from paylinks.web.proxies import ClientAddresses
from paylinks.web.ratelimit import Limiter, Limits
from paylinks.web.recent import RecentKeys

if TYPE_CHECKING:  # the pipeline imports this module: a type only, never an import at run time
    from paylinks.api.pipeline import ApiCall

# Renders an object by id as its retrieve endpoint does (`recovery.rebuild`).
Rebuilder = Callable[["ApiCall", str], Awaitable[dict[str, Any]]]
# The processor behind an account's live keys (its connected Omise), or None when not connected.
LiveProcessors = Callable[[Principal], Awaitable[Processor | None]]


@dataclass
class Runtime:
    """What every handler may use."""

    settings: Settings
    db: Database
    clock: Clock
    authenticator: Authenticator
    limits: Limits
    clients: ClientAddresses  # who the client is (trusted proxies)
    viewers: RecentKeys  # hosted-page visitors counted lately (a view a visitor a day)
    keyring: Keyring
    test_processor: TestProcessor
    recorder: Recorder  # records an event in the transaction of every state change
    # Renders an object by id as the request that made it would have: for idempotent retries
    # of requests that died after their change committed.
    rebuild: Rebuilder | None = None
    live_processors: LiveProcessors | None = None

    @property
    def limiter(self) -> Limiter | None:
        """The API's limiter (per key)."""
        return self.limits.api

    async def processor_of(self, principal: Principal) -> Processor | None:
        return await processor_of(principal, test=self.test_processor, live=self.live_processors)


async def processor_of(
    principal: Principal, *, test: Processor, live: LiveProcessors | None
) -> Processor | None:
    """The processor behind a key: the test processor in test mode; in live mode the account's
    connected Omise, or None when it has not connected one (or `live` is None)."""
    if not principal.livemode:
        return test
    return None if live is None else await live(principal)
