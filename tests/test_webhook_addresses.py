"""Webhook address safety with a stub resolver: no test opens a connection anywhere."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

import pytest

from paylinks.webhooks.addresses import UnsafeWebhookUrl, check_url, resolve_safely

NAMES = {
    "localhost": ["127.0.0.1", "::1"],
    "internal.example": ["10.0.0.1"],
    "mixed.example": ["93.184.216.34", "192.168.1.10"],
    "public.example": ["93.184.216.34", "2606:4700::1111"],
}


def stub(host: str, _port: int) -> list[str]:
    """Names from the table; literal addresses normalised as getaddrinfo would (no network)."""
    if host in NAMES:
        return NAMES[host]
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        return [socket.inet_ntoa(socket.inet_aton(host))]  # 2130706433, 0x7f000001, 127.1, …


@pytest.fixture(autouse=True)
def no_real_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the real resolver must not be used in these tests")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)


UNSAFE = [
    "127.0.0.1", "localhost", "[::1]", "0.0.0.0", "2130706433", "0x7f000001", "017700000001",  # noqa: S104
    "0177.0.0.1", "127.1", "169.254.169.254", "10.0.0.1", "172.16.0.1", "192.168.0.1",
    "100.64.0.1", "198.18.0.1", "224.0.0.1", "[::ffff:127.0.0.1]", "[64:ff9b::7f00:1]",
    "[fd00::1]", "[fe80::1]", "internal.example", "mixed.example",
]  # fmt: skip


def target_of(host: str) -> tuple[str, int]:
    parsed = check_url(f"https://{host}/hook", allow_loopback=False, allow_http=False)
    return parsed.host, parsed.port


@pytest.mark.parametrize("host", UNSAFE)
def test_unsafe_addresses_are_refused_in_live_mode(host: str) -> None:
    name, port = target_of(host)
    with pytest.raises(UnsafeWebhookUrl):
        resolve_safely(name, port, allow_loopback=False, resolver=stub)


@pytest.mark.parametrize("host", ["public.example", "93.184.216.34", "[2606:4700::1111]"])
def test_public_addresses_are_allowed(host: str) -> None:
    name, port = target_of(host)
    assert resolve_safely(name, port, allow_loopback=False, resolver=stub)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_loopback_is_allowed_in_test_mode(host: str) -> None:
    name, port = target_of(host)
    assert resolve_safely(name, port, allow_loopback=True, resolver=stub)


def test_rebinding_is_caught_by_the_check_at_each_delivery() -> None:
    answers = iter([["93.184.216.34"], ["10.0.0.1"]])
    rebinding: Callable[[str, int], list[str]] = lambda _h, _p: next(answers)  # noqa: E731
    assert resolve_safely("rebind.example", 443, allow_loopback=False, resolver=rebinding)
    with pytest.raises(UnsafeWebhookUrl):
        resolve_safely("rebind.example", 443, allow_loopback=False, resolver=rebinding)


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "gopher://example.com/", "ftp://example.com/", "http://example.com/",
     "https://user:pass@example.com/", "https:///nohost", "https://example.com:99999/"],
)  # fmt: skip
def test_bad_schemes_credentials_and_ports_are_refused(url: str) -> None:
    with pytest.raises(UnsafeWebhookUrl):
        check_url(url, allow_loopback=False, allow_http=False)


def test_http_is_allowed_only_when_asked() -> None:
    assert check_url("http://127.0.0.1:3000/x", allow_loopback=True, allow_http=True).port == 3000
