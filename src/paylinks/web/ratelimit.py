"""Rate limits: a moving window per API key, several windows checked and consumed atomically.

At most N requests in *any* trailing window (not fixed buckets that allow 2N across a boundary).
All windows are judged together: a request refused by the minute window does not spend hour
quota. One process keeps the log in memory; several share it in Redis (one Lua script per hit,
timed by the Redis server's clock so that hosts with drifting clocks agree).
"""

from __future__ import annotations

import bisect
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RULE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d+)?\s*(second|minute|hour|day)s?\s*$", re.I)


@dataclass(frozen=True)
class Window:
    amount: int
    seconds: int
    name: str


def parse_policy(text: str) -> list[Window]:
    """`60/minute;1000/hour` (also `20/2seconds`, `5 per hour`); `off` or empty means no limits."""
    if text.strip().lower() in ("", "off", "none", "0"):
        return []
    windows = []
    for part in filter(None, (p.strip() for p in re.split(r"[;,]", text))):
        match = _RULE.match(part)
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"cannot read rate limit {part!r}; write it like 60/minute")
        count = int(match.group(2) or 1)
        unit = match.group(3).lower()
        name = unit if count == 1 else f"{count}{unit}s"
        windows.append(Window(int(match.group(1)), count * UNITS[unit], name))
    return windows


@dataclass(frozen=True)
class WindowState:
    window: Window
    remaining: int
    reset_after: float  # seconds until the oldest counted request leaves the window


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float
    states: list[WindowState]

    def binding(self) -> WindowState:
        """The window with the least remaining (the one to report, per the IETF draft)."""
        return min(self.states, key=lambda s: (s.remaining, -s.window.seconds))


class Limiter(Protocol):
    async def hit(self, key: str) -> Decision: ...

    async def close(self) -> None: ...


def decide(log: list[float], windows: list[Window], now: float) -> Decision:
    """Decide on a sorted log of earlier hits; on success `now` must then be appended."""
    retry = 0.0
    for window in windows:
        if len(log) >= window.amount:
            nth_newest = log[-window.amount]
            if nth_newest > now - window.seconds:
                retry = max(retry, nth_newest + window.seconds - now)
    allowed = retry == 0.0
    candidate = [*log, now] if allowed else log
    states = []
    for window in windows:
        first = bisect.bisect_right(candidate, now - window.seconds)
        counted = len(candidate) - first
        reset = candidate[first] + window.seconds - now if counted else 0.0
        states.append(WindowState(window, max(window.amount - counted, 0), reset))
    return Decision(allowed, retry, states)


class MemoryLimiter:
    """One process's moving-window logs. `clock` returns seconds (monotonic by default)."""

    def __init__(self, windows: list[Window], clock: Callable[[], float] = time.monotonic) -> None:
        self.windows = windows
        self._clock = clock
        self._logs: dict[str, list[float]] = {}
        self._longest = max(w.seconds for w in windows)
        self._deepest = max(w.amount for w in windows)
        self._sweep_at = 0.0

    async def hit(self, key: str) -> Decision:
        return self.hit_now(key)

    async def close(self) -> None:
        """Nothing to release (the protocol's: a Redis limiter has a connection pool)."""

    def hit_now(self, key: str) -> Decision:
        now = self._clock()
        self._sweep(now)
        log = self._logs.setdefault(key, [])
        decision = decide(log, self.windows, now)
        if decision.allowed:
            log.append(now)
            if len(log) > self._deepest:
                del log[: len(log) - self._deepest]
        return decision

    def _sweep(self, now: float) -> None:
        """Forget keys idle for longer than the longest window (bounded memory)."""
        if now < self._sweep_at:
            return
        self._sweep_at = now + self._longest
        horizon = now - self._longest
        for key in [k for k, log in self._logs.items() if not log or log[-1] <= horizon]:
            del self._logs[key]


# KEYS[1] = log key; ARGV = amount1, seconds1, amount2, seconds2, ..., now ("" for the Redis
# server's clock; tests give their own). Returns {allowed, retry_after, count1, oldest1, count2,
# oldest2, ...} as strings (Lua numbers would be truncated to integers on the way out).
_SCRIPT = """
local key = KEYS[1]
local n = (#ARGV - 1) / 2
local now = tonumber(ARGV[#ARGV])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local retry = 0
local longest = 0
for i = 1, n do
  local amount = tonumber(ARGV[2 * i - 1])
  local window = tonumber(ARGV[2 * i])
  if window > longest then longest = window end
  local floor = '(' .. string.format('%.6f', now - window)
  local count = redis.call('ZCOUNT', key, floor, '+inf')
  if count >= amount then
    local e = redis.call('ZREVRANGEBYSCORE', key, '+inf', floor,
                         'WITHSCORES', 'LIMIT', amount - 1, 1)
    local r = tonumber(e[2]) + window - now
    if r > retry then retry = r end
  end
end
local allowed = 0
if retry == 0 then
  allowed = 1
  local seq = redis.call('INCR', key .. ':seq')
  redis.call('ZADD', key, now, string.format('%.6f', now) .. ':' .. seq)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.6f', now - longest))
  redis.call('EXPIRE', key, longest + 1)
  redis.call('EXPIRE', key .. ':seq', longest + 1)
end
local out = {tostring(allowed), string.format('%.6f', retry)}
for i = 1, n do
  local window = tonumber(ARGV[2 * i])
  local floor = '(' .. string.format('%.6f', now - window)
  local count = redis.call('ZCOUNT', key, floor, '+inf')
  local oldest = redis.call('ZRANGEBYSCORE', key, floor, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  local reset = 0
  if oldest[2] then reset = tonumber(oldest[2]) + window - now end
  table.insert(out, tostring(count))
  table.insert(out, string.format('%.6f', reset))
end
return out
"""


class RedisLimiter:
    """Moving-window logs shared by every process that points at the same Redis. Time is the
    Redis server's (hosts with drifting clocks agree), unless a test gives a `clock`."""

    def __init__(
        self,
        windows: list[Window],
        url: str,
        *,
        prefix: str = "paylinks:rl:",
        clock: Callable[[], float] | None = None,
    ) -> None:
        import redis.asyncio as redis_asyncio

        self.windows = windows
        self._client: Any = redis_asyncio.Redis.from_url(url)
        self._script = self._client.register_script(_SCRIPT)
        self._prefix = prefix
        self._args = [v for w in windows for v in (w.amount, w.seconds)]
        self._clock = clock

    async def hit(self, key: str) -> Decision:
        now = f"{self._clock():.6f}" if self._clock is not None else ""
        out = [
            x.decode() if isinstance(x, bytes) else str(x)
            for x in await self._script(keys=[self._prefix + key], args=[*self._args, now])
        ]
        states = [
            WindowState(w, max(w.amount - int(out[2 + 2 * i]), 0), float(out[3 + 2 * i]))
            for i, w in enumerate(self.windows)
        ]
        return Decision(out[0] == "1", float(out[1]), states)

    async def ping(self) -> bool:
        return bool(await self._client.ping())

    async def close(self) -> None:
        await self._client.aclose()


def build_limiter(policy: str, *, redis_url: str, prefix: str) -> Limiter | None:
    """The limiter for `policy` (None when it is off): in Redis when there is one (every
    process shares it), else in this process's memory."""
    windows = parse_policy(policy)
    if not windows:
        return None
    if redis_url:
        return RedisLimiter(windows, redis_url, prefix=prefix)
    return MemoryLimiter(windows)


@dataclass
class Limits:
    """Every limiter of an app, built once by `create_app` and closed with it."""

    api: Limiter | None = None  # per API key (unknown keys: per client address)
    sign_in: Limiter | None = None  # dashboard sign-in attempts per client address
    # Hosted-page payment attempts (card-testing defence).
    checkout_ip: Limiter | None = None
    checkout_link: Limiter | None = None
    checkout_card: Limiter | None = None  # per card fingerprint
    checkout_account: Limiter | None = None

    async def close(self) -> None:
        for limiter in vars(self).values():
            if limiter is not None:
                await limiter.close()


def headers_for(decision: Decision, *, now_epoch: float) -> dict[str, str]:
    """Rate-limit headers: the de-facto X-RateLimit-* for the binding window, and the IETF pair."""
    state = decision.binding()
    reset = math.ceil(state.reset_after)
    headers = {
        "X-RateLimit-Limit": str(state.window.amount),
        "X-RateLimit-Remaining": str(state.remaining),
        "X-RateLimit-Reset": str(int(now_epoch) + reset),
        "X-RateLimit-Window": state.window.name,
        "RateLimit-Policy": ", ".join(
            f'"{s.window.name}";q={s.window.amount};w={s.window.seconds}' for s in decision.states
        ),
        "RateLimit": f'"{state.window.name}";r={state.remaining};t={reset}',
    }
    if not decision.allowed:
        headers["Retry-After"] = str(max(1, math.ceil(decision.retry_after)))
    return headers
