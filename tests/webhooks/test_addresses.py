"""Webhook address safety with a stub resolver: no test opens a connection anywhere.

The policy: public addresses always; loopback in test mode; every other special-purpose address
(the IANA IPv4 and IPv6 special-purpose registries, and the forms that embed an IPv4 address) in
neither mode, unless the operator allows private targets on purpose."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable

import pytest

from paylinks.webhooks.addresses import (
    Policy,
    UnsafeWebhookUrl,
    check_url,
    check_webhook_url,
    classify,
    pin,
    resolve_safely,
)

NAMES = {
    "localhost": ["127.0.0.1", "::1"],
    "internal.example": ["10.0.0.1"],
    "mixed.example": ["93.184.216.34", "192.168.1.10"],
    "public.example": ["93.184.216.34", "2606:4700::1111"],
    "metadata.example": ["169.254.169.254"],
}

TEST = Policy(livemode=False)
LIVE = Policy(livemode=True)


def stub(host: str, _port: int) -> list[str]:
    """Names from the table; literal addresses normalised as getaddrinfo would (no network)."""
    if host in NAMES:
        return NAMES[host]
    if host.endswith(".nowhere"):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        return [socket.inet_ntoa(socket.inet_aton(host))]  # 2130706433, 0x7f000001, 127.1, …


@pytest.fixture(autouse=True)
def no_real_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the real resolver must not be used in these tests")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)


# One address from every range of the IANA special-purpose registries (and the deprecated
# embedding forms), with the loopback ones apart: test mode allows those.
SPECIAL_PURPOSE = [
    "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.254", "169.254.169.254",
    "172.16.0.1", "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.88.99.1", "192.168.0.1",
    "192.168.1.1", "198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9",
    "240.0.0.1", "255.255.255.254",
    "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::7f00:1", "::127.0.0.1", "::a00:1",
    "::ffff:0:a00:1", "64:ff9b::a00:1", "64:ff9b::7f00:1", "64:ff9b:1::a00:1", "100::1",
    "100:0:0:1::1", "2001::1", "2001:2::1", "2001:db8::1", "2001:10::1", "2002:a00:1::1",
    "3fff::1", "5f00::1", "fc00::1", "fd00::1", "fe80::1", "fec0::1",
]  # fmt: skip
NEVER = ["0.0.0.0", "0.1.2.3", "224.0.0.1", "239.255.255.250", "255.255.255.255", "::", "ff02::1"]  # noqa: S104
LOOPBACK = ["127.0.0.1", "127.255.255.254", "::1", "::ffff:127.0.0.1"]
PUBLIC = ["93.184.216.34", "1.1.1.1", "8.8.8.8", "2606:4700::1111", "2a00:1450:4001:81b::200e"]


@pytest.mark.parametrize("address", SPECIAL_PURPOSE)
def test_special_purpose_addresses_are_refused_in_both_modes(address: str) -> None:
    for policy in (TEST, LIVE):
        assert policy.refusal(address) is not None, (address, policy)


@pytest.mark.parametrize("address", SPECIAL_PURPOSE)
def test_allow_private_admits_special_purpose_addresses_on_purpose(address: str) -> None:
    assert Policy(livemode=False, allow_private=True).refusal(address) is None


@pytest.mark.parametrize("address", NEVER)
def test_unspecified_multicast_and_broadcast_are_never_reached(address: str) -> None:
    for policy in (TEST, LIVE, Policy(livemode=True, allow_private=True)):
        assert policy.refusal(address) is not None


@pytest.mark.parametrize("address", LOOPBACK)
def test_loopback_only_in_test_mode(address: str) -> None:
    assert TEST.refusal(address) is None
    assert LIVE.refusal(address) == "a loopback address"


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed_in_both_modes(address: str) -> None:
    assert classify(address).category == "public"
    assert TEST.refusal(address) is None and LIVE.refusal(address) is None


def test_every_range_of_pythons_non_global_table_is_refused() -> None:
    """A second opinion: any address the standard library calls non-global is refused (the
    table is ours; this catches a range we forgot that Python knows)."""
    for address in SPECIAL_PURPOSE + NEVER:
        ip = ipaddress.ip_address(address)
        if not ip.is_global:
            assert LIVE.refusal(address) is not None


# Loopback written every way getaddrinfo accepts: fine in test mode, refused in live mode.
LOOPBACK_HOSTS = [
    "127.0.0.1", "localhost", "[::1]", "2130706433", "0x7f000001", "017700000001", "0177.0.0.1",
    "127.1", "[::ffff:127.0.0.1]",
]  # fmt: skip
# Refused in both modes.
PRIVATE_HOSTS = [
    "0.0.0.0", "169.254.169.254", "10.0.0.1", "172.16.0.1", "192.168.0.1", "100.64.0.1",  # noqa: S104
    "198.18.0.1", "224.0.0.1", "[64:ff9b::7f00:1]", "[fd00::1]", "[fe80::1]", "[::7f00:1]",
    "[::127.0.0.1]", "[64:ff9b:1::a00:1]", "internal.example", "mixed.example",
    "metadata.example",
]  # fmt: skip


def target_of(host: str) -> tuple[str, int]:
    parsed = check_url(f"https://{host}/hook", allow_http=False)
    return parsed.host, parsed.port


@pytest.mark.parametrize("host", LOOPBACK_HOSTS + PRIVATE_HOSTS)
def test_unsafe_hosts_are_refused_in_live_mode(host: str) -> None:
    name, port = target_of(host)
    with pytest.raises(UnsafeWebhookUrl):
        resolve_safely(name, port, policy=LIVE, resolver=stub)


@pytest.mark.parametrize("host", PRIVATE_HOSTS)
def test_private_hosts_are_refused_in_test_mode(host: str) -> None:
    name, port = target_of(host)
    with pytest.raises(UnsafeWebhookUrl):
        resolve_safely(name, port, policy=TEST, resolver=stub)


@pytest.mark.parametrize("host", ["public.example", "93.184.216.34", "[2606:4700::1111]"])
def test_public_hosts_are_allowed(host: str) -> None:
    name, port = target_of(host)
    assert resolve_safely(name, port, policy=LIVE, resolver=stub)


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
def test_loopback_hosts_are_allowed_in_test_mode(host: str) -> None:
    name, port = target_of(host)
    assert resolve_safely(name, port, policy=TEST, resolver=stub)


def test_rebinding_is_caught_by_the_check_at_each_delivery() -> None:
    answers = iter([["93.184.216.34"], ["10.0.0.1"]])
    rebinding: Callable[[str, int], list[str]] = lambda _h, _p: next(answers)  # noqa: E731
    assert resolve_safely("rebind.example", 443, policy=LIVE, resolver=rebinding)
    with pytest.raises(UnsafeWebhookUrl):
        resolve_safely("rebind.example", 443, policy=LIVE, resolver=rebinding)


def test_a_name_that_does_not_resolve_is_saved_in_test_mode_and_refused_in_live_mode() -> None:
    check_webhook_url("http://receiver.nowhere/hook", policy=TEST, resolver=stub)
    with pytest.raises(UnsafeWebhookUrl, match="cannot resolve"):
        check_webhook_url("https://receiver.nowhere/hook", policy=LIVE, resolver=stub)


def test_the_refusal_names_what_the_address_is() -> None:
    with pytest.raises(UnsafeWebhookUrl, match=re.escape("169.254.169.254, a link-local address")):
        check_webhook_url("http://metadata.example/", policy=TEST, resolver=stub)


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "gopher://example.com/", "ftp://example.com/", "http://example.com/",
     "https://user:pass@example.com/", "https:///nohost", "https://example.com:99999/"],
)  # fmt: skip
def test_bad_schemes_credentials_and_ports_are_refused(url: str) -> None:
    with pytest.raises(UnsafeWebhookUrl):
        check_url(url, allow_http=False)


def test_http_is_allowed_only_in_test_mode() -> None:
    assert check_url("http://127.0.0.1:3000/x", allow_http=TEST.allow_http).port == 3000
    with pytest.raises(UnsafeWebhookUrl):
        check_url("http://127.0.0.1:3000/x", allow_http=LIVE.allow_http)


@pytest.mark.parametrize(
    ("url", "scheme", "host", "port"),
    [
        ("https://hooks.example.com/x", "https", "hooks.example.com", 443),
        ("http://hooks.example.com/x", "http", "hooks.example.com", 80),
        ("https://hooks.example.com:8443/x", "https", "hooks.example.com", 8443),
        ("http://[::1]:3000/x", "http", "::1", 3000),
    ],
)
def test_a_url_names_its_scheme_host_and_port(url: str, scheme: str, host: str, port: int) -> None:
    target = check_url(url, allow_http=True)
    assert (target.scheme, target.host, target.port) == (scheme, host, port)


@pytest.mark.parametrize("url", ["https://user@example.com/", "https://:secret@example.com/"])
def test_a_user_name_or_a_password_alone_is_refused(url: str) -> None:
    with pytest.raises(UnsafeWebhookUrl, match="no user name or password"):
        check_url(url, allow_http=False)


def test_the_resolver_is_asked_with_the_urls_port() -> None:
    asked: list[tuple[str, int]] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["93.184.216.34"]

    check_webhook_url("https://hooks.example.com:8443/x", policy=LIVE, resolver=resolver)
    check_webhook_url("http://hooks.example.com/x", policy=TEST, resolver=resolver)
    assert asked == [("hooks.example.com", 8443), ("hooks.example.com", 80)]


def test_a_scoped_ipv6_address_is_judged_without_its_zone() -> None:
    assert classify("fe80::1%eth0").category == "special"
    assert classify("2606:4700::1111%2").category == "public"
    assert (classify("10.0.0.1").category, classify("8.8.8.8").description) == (
        "special",
        "a public address",
    )


@pytest.mark.parametrize(
    ("url", "address", "pinned_url", "host_header", "sni"),
    [
        ("https://hooks.example.com/x?a=1", "93.184.216.34",
         "https://93.184.216.34/x?a=1", "hooks.example.com", "hooks.example.com"),
        ("https://hooks.example.com:8443/x", "2606:4700::1111",
         "https://[2606:4700::1111]:8443/x", "hooks.example.com:8443", "hooks.example.com"),
        ("http://hooks.example.com/x", "93.184.216.34",
         "http://93.184.216.34/x", "hooks.example.com", None),  # no TLS: no SNI
        ("https://93.184.216.34/x", "93.184.216.34",
         "https://93.184.216.34/x", "93.184.216.34", None),  # an address is no server name
    ],
)  # fmt: skip
def test_a_request_is_pinned_to_the_checked_address(
    url: str, address: str, pinned_url: str, host_header: str, sni: str | None
) -> None:
    pinned = pin(url, address)
    assert (pinned.url, pinned.host_header, pinned.sni_hostname, pinned.address) == (
        pinned_url, host_header, sni, address,
    )  # fmt: skip


def test_private_answers_are_shown_only_where_allowed_by_default() -> None:
    allowing = Policy(livemode=False, allow_private=True)
    assert allowing.refusal("10.0.0.1") is None
    assert not allowing.shows_responses_of("10.0.0.1")
    assert allowing.shows_responses_of("127.0.0.1") and allowing.shows_responses_of("8.8.8.8")
    live_allowing = Policy(livemode=True, allow_private=True)
    assert not live_allowing.shows_responses_of("127.0.0.1")  # loopback: only a test key's
