"""Payment attempts allowed on the hosted page: per client address, per link, per account, and
per card.

A public pay form is the classic card-testing target (OWASP API6): a tester tries many cards
on one link, one card on many links, or spreads over a merchant's links from many addresses.
So attempts are counted four ways, and an attempt refused by one count spends none of the later
ones. The card's count is taken once the card is known (its keyed fingerprint) and before the
processor sees it. The limiters are built by `create_app` (see `ratelimit.Limits`).
"""

from __future__ import annotations

import math

from paylinks.web.ratelimit import Limiter, Limits


async def _first_refusal(checks: list[tuple[Limiter | None, str]]) -> int | None:
    for limiter, key in checks:
        if limiter is None:
            continue
        decision = await limiter.hit(key)
        if not decision.allowed:
            return max(1, math.ceil(decision.retry_after))
    return None


async def attempt_refused(
    limits: Limits, *, client: str, link_id: str, account_id: str
) -> int | None:
    """Count one attempt; None if allowed, else the seconds to wait."""
    return await _first_refusal(
        [
            (limits.checkout_ip, client),
            (limits.checkout_link, link_id),
            (limits.checkout_account, account_id),
        ]
    )


async def card_refused(limits: Limits, *, fingerprint: str) -> int | None:
    """Count one attempt with this card (whatever link or merchant); None if allowed."""
    return await _first_refusal([(limits.checkout_card, fingerprint)])
