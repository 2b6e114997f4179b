"""Who the client is: the connecting address, unless a trusted proxy forwarded for someone."""

from __future__ import annotations

import ipaddress

import pytest
from starlette.requests import Request

from paylinks.web.proxies import ClientAddresses, parse_networks


def request(peer: str | None, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    scope = {"type": "http", "headers": headers, "client": (peer, 1234) if peer else None}
    return Request(scope)


def test_networks_are_read_from_a_comma_separated_list() -> None:
    assert parse_networks("10.0.0.5, 10.1.0.0/16 ,::1,, ") == (
        ipaddress.ip_network("10.0.0.5/32"),
        ipaddress.ip_network("10.1.0.0/16"),
        ipaddress.ip_network("::1/128"),
    )
    assert parse_networks("10.0.0.7/24") == (ipaddress.ip_network("10.0.0.0/24"),)  # not strict
    assert parse_networks("") == ()
    with pytest.raises(ValueError):
        parse_networks("10.0.0.5 10.0.0.6")
    with pytest.raises(ValueError):
        parse_networks("proxy.example")


TRUSTED = ClientAddresses(parse_networks("10.0.0.0/24, fd00::/8"))


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # not a proxy: the header is ignored
        ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.2", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # the client's own entry: no
        ("10.0.0.2", ["198.51.100.1, 10.0.0.3"], "198.51.100.1"),  # skipping trusted hops
        ("10.0.0.2", ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),  # several header lines
        ("10.0.0.2", ["198.51.100.1:5000"], "198.51.100.1"),  # a port after an IPv4
        ("10.0.0.2", ["[2001:db8::7]:443"], "2001:db8::7"),  # a bracketed IPv6 with a port
        ("10.0.0.2", ["2001:db8::7"], "2001:db8::7"),
        ("10.0.0.2", ["not-an-address"], "10.0.0.2"),  # garbled: the proxy itself
        ("10.0.0.2", ["10.0.0.3"], "10.0.0.2"),  # only trusted hops
        ("10.0.0.2", [], "10.0.0.2"),
        ("fd00::5", ["198.51.100.2"], "198.51.100.2"),
        ("testclient", ["198.51.100.3"], "testclient"),  # a peer that is no address
    ],
)
def test_the_client_behind_trusted_proxies(peer: str, forwarded: list[str], client: str) -> None:
    assert TRUSTED.of(request(peer, *forwarded)) == client


def test_nobody_is_trusted_by_default() -> None:
    assert ClientAddresses().of(request("10.0.0.2", "198.51.100.1")) == "10.0.0.2"
    assert ClientAddresses().of(request(None, "198.51.100.1")) == "unknown"


def test_is_trusted_needs_an_address_inside_a_network() -> None:
    assert TRUSTED.is_trusted("10.0.0.200") and TRUSTED.is_trusted("[fd00::1]:80")
    assert not TRUSTED.is_trusted("10.0.1.1") and not TRUSTED.is_trusted("garbage")
