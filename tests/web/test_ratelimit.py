"""Rate limits: moving windows per key, judged together, with truthful headers."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import pytest
from factories import TestAccount, auth
from starlette.testclient import TestClient

from paylinks.web.ratelimit import MemoryLimiter, RedisLimiter, Window, headers_for, parse_policy

SEED = [Window(60, 60, "minute"), Window(1000, 3600, "hour")]


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_policy_parsing() -> None:
    assert parse_policy("60/minute;1000/hour") == SEED
    assert parse_policy("20/2seconds") == [Window(20, 2, "2seconds")]
    assert parse_policy("5 per hour") == [Window(5, 3600, "hour")]
    assert parse_policy("off") == [] and parse_policy("") == []
    for bad in ("60", "sixty/minute", "0/minute", "60/fortnight"):
        with pytest.raises(ValueError, match="rate limit"):
            parse_policy(bad)


def test_70_requests_in_one_second_admit_exactly_60() -> None:
    clock = FakeTime()
    limiter = MemoryLimiter(SEED, clock)
    decisions = []
    for _ in range(70):
        decisions.append(limiter.hit_now("k"))
        clock.now += 1 / 70
    assert sum(d.allowed for d in decisions) == 60
    rejected = [d for d in decisions if not d.allowed]
    assert len(rejected) == 10
    # The first counted request was at t=1000; it leaves the minute window at t=1060.
    for d in rejected:
        assert 59 <= d.retry_after <= 60
        assert d.binding().window.name == "minute" and d.binding().remaining == 0


def test_boundary_burst_cannot_double_the_limit() -> None:
    clock = FakeTime()
    limiter = MemoryLimiter(SEED, clock)
    clock.now = 1059.9
    assert all(limiter.hit_now("k").allowed for _ in range(60))
    clock.now = 1060.1  # a fixed window would reset here and admit 60 more
    assert not any(limiter.hit_now("k").allowed for _ in range(60))


def test_adversarial_schedule_never_exceeds_any_trailing_window() -> None:
    rng = random.Random(7)
    clock = FakeTime()
    limiter = MemoryLimiter(SEED, clock)
    accepted: list[float] = []
    for _ in range(6000):
        clock.now += rng.expovariate(1 / 0.3) if rng.random() < 0.9 else rng.uniform(0, 30)
        if limiter.hit_now("k").allowed:
            accepted.append(clock.now)
    for i, t in enumerate(accepted):
        assert sum(1 for u in accepted[i:] if u < t + 60) <= 60
        assert sum(1 for u in accepted[i:] if u < t + 3600) <= 1000


def test_steady_rate_hits_the_hour_limit_at_1000() -> None:
    clock = FakeTime()
    limiter = MemoryLimiter(SEED, clock)
    allowed = 0
    last = None
    for _ in range(20 * 60):  # one request a second for 20 minutes
        last = limiter.hit_now("k")
        allowed += last.allowed
        clock.now += 1
    assert allowed == 1000
    assert last is not None and not last.allowed
    assert last.binding().window.name == "hour"
    assert 3600 - 1200 <= last.retry_after <= 3600


def test_a_request_refused_by_the_minute_window_spends_no_hour_quota() -> None:
    clock = FakeTime()
    limiter = MemoryLimiter(SEED, clock)
    for _ in range(60):
        limiter.hit_now("k")
    hour_before = limiter.hit_now("k").states[1].remaining
    for _ in range(30):
        assert not limiter.hit_now("k").allowed
    assert limiter.hit_now("k").states[1].remaining == hour_before == 940


def test_keys_have_separate_buckets() -> None:
    limiter = MemoryLimiter([Window(2, 60, "minute")], FakeTime())
    assert [limiter.hit_now("a").allowed for _ in range(3)] == [True, True, False]
    assert limiter.hit_now("b").allowed


def test_http_429_carries_error_object_and_headers(
    make_client: Any, account: TestAccount, other_account: TestAccount
) -> None:
    client: TestClient = make_client(rate_limits="3/minute;100/hour")
    key = account.test.secret_key
    responses = [client.get("/links", auth=auth(key)) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    ok, limited = responses[0], responses[3]
    assert ok.headers["x-ratelimit-limit"] == "3" and ok.headers["x-ratelimit-remaining"] == "2"
    assert ok.headers["ratelimit-policy"] == '"minute";q=3;w=60, "hour";q=100;w=3600'
    assert limited.json()["object"] == "error" and limited.json()["code"] == "too_many_requests"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.headers["ratelimit"].startswith('"minute";r=0;')
    # Another key — another account, or the same account's live key — is not affected.
    assert client.get("/links", auth=auth(other_account.test.secret_key)).status_code == 200
    assert client.get("/links", auth=auth(account.live.secret_key)).status_code == 200


def test_unknown_keys_are_limited_per_client_address(make_client: Any) -> None:
    client: TestClient = make_client(rate_limits="3/minute")
    codes = [client.get("/links", auth=auth(f"skey_test_guess{i}")).status_code for i in range(5)]
    assert codes == [401, 401, 401, 429, 429]


def test_redis_limiter_is_shared_between_processes(redis_url: str) -> None:
    windows = [Window(5, 2, "2seconds"), Window(8, 3600, "hour")]
    key = f"test-{uuid.uuid4().hex}"

    clock = FakeTime()

    async def scenario() -> tuple[list[bool], list[bool], bool]:
        # Two limiters stand for two server processes sharing one Redis (and one clock).
        first = RedisLimiter(windows, redis_url, clock=clock)
        second = RedisLimiter(windows, redis_url, clock=clock)
        try:
            burst = [(await (first if i % 2 else second).hit(key)).allowed for i in range(7)]
            clock.now += 2.1
            later = [(await first.hit(key)).allowed for _ in range(4)]
            refused = await second.hit(key)
            return burst, later, refused.retry_after > 3000
        finally:
            await first.close()
            await second.close()

    burst, later, hour_binding = asyncio.run(scenario())
    assert burst == [True] * 5 + [False] * 2
    # The 2-second window has emptied; the hour window (8) admits 3 more, then binds.
    assert later == [True, True, True, False]
    assert hour_binding


def test_retry_after_waits_for_the_longest_exhausted_window(
    make_client: Any, account: TestAccount
) -> None:
    """Both windows spent: a client that came back after the first one's wait would be refused
    again, so Retry-After names the moment every window has room."""
    clock = FakeTime()
    limiter = MemoryLimiter([Window(1, 10, "10seconds"), Window(1, 60, "minute")], clock)
    assert limiter.hit_now("k").allowed
    clock.now += 1
    refused = limiter.hit_now("k")
    assert not refused.allowed and refused.retry_after == pytest.approx(59)
    client: TestClient = make_client(rate_limits="1/10seconds;1/minute")
    key = account.test.secret_key
    assert client.get("/links", auth=auth(key)).status_code == 200
    limited = client.get("/links", auth=auth(key))
    assert limited.status_code == 429 and 58 <= int(limited.headers["retry-after"]) <= 60


def test_redis_retry_after_waits_for_the_longest_exhausted_window(redis_url: str) -> None:
    limiter = RedisLimiter(
        [Window(1, 10, "10seconds"), Window(1, 60, "minute")], redis_url, prefix="test-ra:"
    )

    async def go() -> tuple[bool, float]:
        try:
            key = uuid.uuid4().hex
            first = await limiter.hit(key)
            second = await limiter.hit(key)
            return first.allowed and not second.allowed, second.retry_after
        finally:
            await limiter.close()

    refused, retry_after = asyncio.run(go())
    assert refused and 58 < retry_after <= 60


def test_headers_describe_the_binding_window(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeTime()
    limiter = MemoryLimiter([Window(3, 10, "10seconds"), Window(5, 60, "minute")], clock)
    first = limiter.hit_now("k")
    headers = headers_for(first, now_epoch=1_000_000.5)
    # Both windows have room; the one with least left binds (10 s: 2 left, minute: 4 left).
    assert headers == {
        "X-RateLimit-Limit": "3",
        "X-RateLimit-Remaining": "2",
        "X-RateLimit-Reset": str(1_000_000 + 10),
        "X-RateLimit-Window": "10seconds",
        "RateLimit-Policy": '"10seconds";q=3;w=10, "minute";q=5;w=60',
        "RateLimit": '"10seconds";r=2;t=10',
    }
    clock.now += 0.2
    limiter.hit_now("k")
    limiter.hit_now("k")
    refused = limiter.hit_now("k")
    limited = headers_for(refused, now_epoch=1_000_000.0)
    assert limited["Retry-After"] == "10" and limited["X-RateLimit-Remaining"] == "0"
    assert limited["X-RateLimit-Reset"] == str(1_000_000 + 10)


def test_a_tie_reports_the_longer_window() -> None:
    limiter = MemoryLimiter([Window(1, 10, "10seconds"), Window(1, 60, "minute")], FakeTime())
    decision = limiter.hit_now("k")
    assert decision.binding().window.name == "minute"  # both have 0 left: the longer binds


def test_retry_after_is_at_least_a_second() -> None:
    clock = FakeTime()
    limiter = MemoryLimiter([Window(1, 1, "second")], clock)
    limiter.hit_now("k")
    clock.now += 0.999
    refused = limiter.hit_now("k")
    assert not refused.allowed and refused.retry_after == pytest.approx(0.001)
    assert headers_for(refused, now_epoch=0)["Retry-After"] == "1"


def test_a_request_exactly_one_window_later_is_admitted() -> None:
    clock = FakeTime()
    limiter = MemoryLimiter([Window(1, 60, "minute")], clock)
    assert limiter.hit_now("k").allowed
    clock.now += 60  # the first hit has just left the window
    assert limiter.hit_now("k").allowed
    clock.now += 59.999
    assert not limiter.hit_now("k").allowed


def test_idle_keys_are_forgotten_and_logs_stay_short() -> None:
    clock = FakeTime()
    limiter = MemoryLimiter([Window(2, 10, "10seconds")], clock)
    for n in range(50):
        limiter.hit_now(f"idle-{n}")
    limiter.hit_now("busy")
    limiter.hit_now("busy")
    clock.now += 10  # every log's newest hit is now a window old
    limiter.hit_now("busy")
    assert set(limiter._logs) == {"busy"}  # the idle keys are gone; the busy one kept
    assert len(limiter._logs["busy"]) <= 2  # never more than the deepest window needs


def test_policies_that_mean_no_limit() -> None:
    for text in ("", "off", "OFF", "none", "None", "0", "  off  "):
        assert parse_policy(text) == []


def test_the_redis_limiter_reports_what_is_left(redis_url: str) -> None:
    clock = FakeTime()
    limiter = RedisLimiter(
        [Window(3, 10, "10seconds"), Window(5, 60, "minute")], redis_url, prefix="t-left:",
        clock=clock,
    )  # fmt: skip

    async def go() -> list[Any]:
        key = uuid.uuid4().hex
        try:
            decisions = []
            for _ in range(4):
                decisions.append(await limiter.hit(key))
                clock.now += 1
            return decisions
        finally:
            await limiter.close()

    decisions = asyncio.run(go())
    assert [d.allowed for d in decisions] == [True, True, True, False]
    first = decisions[0]
    assert [(s.window.name, s.remaining) for s in first.states] == [("10seconds", 2), ("minute", 4)]
    assert first.states[0].reset_after == pytest.approx(10) and first.retry_after == 0
    refused = decisions[3]
    assert [s.remaining for s in refused.states] == [0, 2]
    assert refused.retry_after == pytest.approx(7)  # the first hit leaves the 10 s window at +10
