"""Reading the key from `Authorization: Basic`, and the short per-process cache of keys."""

from __future__ import annotations

import asyncio
import base64

import pytest

from paylinks import auth as auth_module
from paylinks.auth import Authenticator, Principal, hash_key, key_from_header
from paylinks.errors import AuthenticationFailure


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("header", "key"),
    [
        (basic("skey_test_abc:"), "skey_test_abc"),
        (basic("skey_test_abc"), "skey_test_abc"),  # no colon at all
        (basic("skey_test_abc:pass:word"), "skey_test_abc"),  # the password is ignored
        ("basic " + base64.b64encode(b"skey_x:").decode(), "skey_x"),  # the scheme's case
        ("Basic  " + base64.b64encode(b"skey_y:").decode() + " ", "skey_y"),  # spaces around
        (None, None),
        ("", None),
        ("Basic", None),
        ("Basic ", None),
        ("Bearer " + base64.b64encode(b"skey_z:").decode(), None),
        ("Basic not*base64!", None),  # refused, not decoded leniently
        ("Basic " + base64.b64encode(b"\xff\xfe:").decode(), None),  # not UTF-8
        (basic(":password"), None),  # an empty key
    ],
)
def test_the_key_is_read_from_basic_auth(header: str | None, key: str | None) -> None:
    assert key_from_header(header) == key


def test_two_base64_words_are_not_one_credential() -> None:
    header = (
        "Basic " + base64.b64encode(b"skey_a:").decode() + " " + base64.b64encode(b"b:").decode()
    )
    assert key_from_header(header) is None


class Keys:
    """A lookup that counts its calls, as the database read would be."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self.calls = 0
        self.revoked = False

    async def __call__(self, digest: str) -> Principal | None:
        self.calls += 1
        if self.revoked or digest != self.principal.key_hash:
            return None
        return self.principal


def principal_for(key: str, kind: str = "secret") -> Principal:
    return Principal(1, "acct_x", False, kind, hash_key(key))


def test_a_key_is_looked_up_once_while_cached_and_again_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr(auth_module.time, "monotonic", lambda: now[0])
    keys = Keys(principal_for("skey_cached"))
    authenticator = Authenticator(keys, cache_seconds=5)

    def authenticate() -> Principal:
        return asyncio.run(authenticator.authenticate(basic("skey_cached:"), secret=True))

    assert authenticate() == keys.principal and keys.calls == 1
    now[0] += 4.9
    keys.revoked = True  # rolled in another process: still cached here for a moment
    assert authenticate() == keys.principal and keys.calls == 1
    now[0] += 0.2
    with pytest.raises(AuthenticationFailure):
        authenticate()
    assert keys.calls == 2


def test_without_a_cache_every_request_looks_the_key_up() -> None:
    keys = Keys(principal_for("skey_fresh"))
    authenticator = Authenticator(keys, cache_seconds=0)
    for _ in range(3):
        asyncio.run(authenticator.authenticate(basic("skey_fresh:"), secret=True))
    assert keys.calls == 3


def test_forgetting_drops_every_cached_key() -> None:
    keys = Keys(principal_for("skey_forget"))
    authenticator = Authenticator(keys, cache_seconds=60)
    asyncio.run(authenticator.authenticate(basic("skey_forget:"), secret=True))
    keys.revoked = True
    authenticator.forget_all()
    with pytest.raises(AuthenticationFailure):
        asyncio.run(authenticator.authenticate(basic("skey_forget:"), secret=True))


def test_a_public_key_is_refused_where_a_secret_key_is_needed() -> None:
    keys = Keys(principal_for("pkey_test_x", kind="public"))
    authenticator = Authenticator(keys, cache_seconds=60)
    with pytest.raises(AuthenticationFailure, match="secret key"):
        asyncio.run(authenticator.authenticate(basic("pkey_test_x:"), secret=True))
    found = asyncio.run(authenticator.authenticate(basic("pkey_test_x:"), secret=False))
    assert found.kind == "public"


def test_a_cached_answer_is_for_its_own_key_only() -> None:
    first, second = principal_for("skey_one"), principal_for("skey_two")
    answers = {first.key_hash: first, second.key_hash: second}

    async def lookup(digest: str) -> Principal | None:
        return answers.get(digest)

    authenticator = Authenticator(lookup, cache_seconds=60)
    assert asyncio.run(authenticator.authenticate(basic("skey_one:"), secret=True)) == first
    assert asyncio.run(authenticator.authenticate(basic("skey_two:"), secret=True)) == second
    with pytest.raises(AuthenticationFailure):
        asyncio.run(authenticator.authenticate(basic("skey_three:"), secret=True))
