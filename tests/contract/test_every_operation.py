"""Contract scenarios every secured operation shares, made for each from the document: a wrong
or missing key (401), a body too large (413), a rate limit (429), an unexpected error (500);
and for every write, an Idempotency-Key reused with other parameters (422) or retried while
the first request has not answered (409)."""

from __future__ import annotations

from typing import Any

from checker import (
    DOC,
    FORM,
    SECURED,
    Ctx,
    Scenario,
    error_code,
    operations,
    path_params,
    scenario,
    takes_public_key,
    valid_request,
)

from paylinks.api import idempotency
from paylinks.api import pipeline as api

# --- What every secured operation shares: 401, 413, 429, 500


def _unauthorized(op: str) -> Scenario:
    def wrong_or_missing_key(ctx: Ctx) -> None:
        keys: list[str | None] = [None, "skey_test_unknown", "pkey_test_unknown"]
        if not takes_public_key(op):
            keys.append(ctx.account.test.public_key)
        for key in keys:
            response = ctx.call(op, status=401, key=key, **valid_request(ctx, op))
            assert error_code(response) == "authentication_failure"

    return wrong_or_missing_key


def _too_large(op: str) -> Scenario:
    def huge_body_declared_and_streamed(ctx: Ctx) -> None:
        ids = path_params(valid_request(ctx, op))
        body = b"title=" + b"x" * 70_000
        headers = {"content-type": FORM}
        response = ctx.call(op, status=413, content=body, headers=headers, **ids)
        assert error_code(response) == "payload_too_large"
        chunks = iter([b"title="] + [b"x" * 10_000] * 7)  # no Content-Length: read and cut
        ctx.call(op, status=413, content=chunks, headers=headers, **ids)

    return huge_body_declared_and_streamed


def _rate_limited(op: str) -> Scenario:
    def third_request_in_a_minute(ctx: Ctx) -> None:
        limited = ctx.make_client(rate_limits="2/minute")
        for remaining in ("1", "0"):
            ok = ctx.call(op, status=200, client=limited, **valid_request(ctx, op))
            assert ok.headers["x-ratelimit-remaining"] == remaining
            assert ok.headers["x-ratelimit-limit"] == "2" and "ratelimit-policy" in ok.headers
        refused = ctx.call(op, status=429, client=limited, **valid_request(ctx, op))
        assert error_code(refused) == "too_many_requests"
        assert 1 <= int(refused.headers["retry-after"]) <= 60

    return third_request_in_a_minute


def _internal_error(op: str) -> Scenario:
    def unexpected_exception(ctx: Ctx) -> None:
        request = valid_request(ctx, op)

        def explode(*_args: Any, **_kwargs: Any) -> None:
            raise RuntimeError("boom")

        ctx.monkeypatch.setattr(api, "Params", explode)
        response = ctx.call(op, status=500, check_request=False, **request)
        assert error_code(response) == "internal_error" and "boom" not in response.text

    return unexpected_exception


def _key_reused(op: str) -> Scenario:
    def same_key_other_parameters(ctx: Ctx) -> None:
        request = valid_request(ctx, op)
        key = {"Idempotency-Key": f"reuse-{op}"}
        first = ctx.call(op, status=200, headers=key, **request)
        again = ctx.call(op, status=200, headers=key, **request)
        assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
        other = {**request, "query": {**request.get("query", {}), "probe": "different"}}
        refused = ctx.call(op, status=422, headers=key, **other)
        assert error_code(refused) == "idempotency_key_reused"

    return same_key_other_parameters


def _key_in_use(op: str) -> Scenario:
    def retried_while_the_first_has_not_answered(ctx: Ctx) -> None:
        request = valid_request(ctx, op)
        key = {"Idempotency-Key": f"busy-{op}"}

        def dies(*_args: Any, **_kwargs: Any) -> None:
            raise RuntimeError("killed after the commit, before the answer was stored")

        ctx.monkeypatch.setattr(idempotency, "store", dies)
        ctx.call(op, status=500, headers=key, check_request=False, **request)
        busy = ctx.call(op, status=409, headers=key, **request)
        assert error_code(busy) == "idempotency_key_in_use"

    return retried_while_the_first_has_not_answered


WRITES = [
    op["operationId"]
    for _path, method, op in operations()
    if method in ("post", "patch", "delete") and op.get("security", DOC.get("security")) != []
]

for _op in WRITES:
    scenario(_op, 409)(_key_in_use(_op))
    scenario(_op, 422)(_key_reused(_op))

for _op in SECURED:
    scenario(_op, 401)(_unauthorized(_op))
    scenario(_op, 413)(_too_large(_op))
    scenario(_op, 429)(_rate_limited(_op))
    scenario(_op, 500)(_internal_error(_op))


@scenario("listLinks", 401)
@scenario("listLinks", 429)
def guessing_keys_is_limited_per_address(ctx: Ctx) -> None:
    limited = ctx.make_client(rate_limits="2/minute")
    for _ in range(2):  # 401s carry no rate-limit headers (the check fails if they did)
        ctx.call("listLinks", status=401, client=limited, key="skey_test_guess")
    ctx.call("listLinks", status=429, client=limited, key="skey_test_guess")
