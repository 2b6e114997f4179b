"""Payment attempts allowed on the hosted page: per client address and per link.

A public pay form is the classic card-testing target (OWASP API6), so attempts are limited
before anything reaches the processor. The limiters live on `app.state`, built on first use from
the settings (memory for one process, Redis when `PAYLINKS_REDIS_URL` is set).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from starlette.requests import Request

from paylinks.api import Services
from paylinks.ratelimit import Limiter, MemoryLimiter, RedisLimiter, parse_policy


def _limiter(policy: str, redis_url: str, prefix: str) -> Limiter | None:
    windows = parse_policy(policy)
    if not windows:
        return None
    if redis_url:
        return RedisLimiter(windows, redis_url, prefix=prefix)
    return MemoryLimiter(windows)


@dataclass
class AttemptLimits:
    by_ip: Limiter | None
    by_link: Limiter | None

    async def retry_after(self, *, client: str, link_id: str) -> int | None:
        """Count one attempt; None if allowed, else the seconds to wait. An attempt refused by
        the address limit does not spend the link's quota."""
        for limiter, key in ((self.by_ip, client), (self.by_link, link_id)):
            if limiter is None:
                continue
            decision = await limiter.hit(key)
            if not decision.allowed:
                return max(1, math.ceil(decision.retry_after))
        return None


def attempt_limits(request: Request) -> AttemptLimits:
    state = request.app.state
    limits: AttemptLimits | None = getattr(state, "checkout_limits", None)
    if limits is None:
        services: Services = state.services
        settings = services.settings
        limits = AttemptLimits(
            _limiter(settings.checkout_ip_limits, settings.redis_url, "paylinks:checkout-ip:"),
            _limiter(settings.checkout_link_limits, settings.redis_url, "paylinks:checkout-link:"),
        )
        state.checkout_limits = limits
    return limits


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
