"""Webhook URL safety: only public addresses in live mode (loopback too in test mode)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit


class UnsafeWebhookUrl(ValueError):
    pass


@dataclass(frozen=True)
class ParsedTarget:
    scheme: str
    host: str
    port: int


def check_url(url: str, *, allow_loopback: bool, allow_http: bool) -> ParsedTarget:
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeWebhookUrl(f"webhook URLs must use {' or '.join(schemes)}")
    if parts.username or parts.password or not parts.hostname:
        raise UnsafeWebhookUrl("webhook URLs need a host and no user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeWebhookUrl("the port of the webhook URL is invalid") from None
    return ParsedTarget(parts.scheme, parts.hostname, port)


def _allowed(address: str, *, allow_loopback: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if allow_loopback and ip.is_loopback:
        return True
    if ip.is_multicast or not ip.is_global:
        return False
    blocked = ("64:ff9b::/96", "2002::/16", "100.64.0.0/10", "198.18.0.0/15", "0.0.0.0/8")
    return not any(
        ip in ipaddress.ip_network(net)
        for net in blocked
        if ip.version == ipaddress.ip_network(net).version
    )


Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def literal_address(host: str) -> str | None:
    """The host when it is an IP address in standard notation (no DNS needed), else None."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def resolve(host: str, port: int, *, resolver: Resolver = system_resolver) -> list[str]:
    """The host's addresses; `UnsafeWebhookUrl` when it has none."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        found = resolver(host, port)
    except OSError as exc:
        raise UnsafeWebhookUrl(f"cannot resolve {host}: {exc}") from None
    if not found:
        raise UnsafeWebhookUrl(f"{host} has no address")
    return found


def resolve_safely(
    host: str, port: int, *, allow_loopback: bool, resolver: Resolver = system_resolver
) -> list[str]:
    """The host's addresses, if every one of them may be called; `UnsafeWebhookUrl` if not."""
    found = resolve(host, port, resolver=resolver)
    if not all(_allowed(a, allow_loopback=allow_loopback) for a in found):
        raise UnsafeWebhookUrl(f"{host} resolves to an address webhooks may not reach")
    return found


@dataclass(frozen=True)
class Pinned:
    """A request aimed at one checked address, still naming the host (Host header, TLS SNI and
    certificate check), so that a second DNS answer cannot send it elsewhere (rebinding)."""

    url: str
    host_header: str
    sni_hostname: str | None


def pin(url: str, address: str) -> Pinned:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{address}]" if ":" in address else address
    if parts.port is not None:
        netloc += f":{parts.port}"
    tls_name = host if parts.scheme == "https" and literal_address(host) is None else None
    return Pinned(parts._replace(netloc=netloc).geturl(), parts.netloc, tls_name)


def unpinned(url: str) -> Pinned:
    return Pinned(url, urlsplit(url).netloc, None)
