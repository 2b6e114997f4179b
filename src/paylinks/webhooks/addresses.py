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


def _getaddrinfo(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def resolve_safely(
    host: str,
    port: int,
    *,
    allow_loopback: bool,
    resolver: Callable[[str, int], list[str]] = _getaddrinfo,
) -> list[str]:
    """The host's addresses, if every one of them may be called; `UnsafeWebhookUrl` if not."""
    try:
        found = resolver(host, port)
    except OSError as exc:
        raise UnsafeWebhookUrl(f"cannot resolve {host}: {exc}") from None
    if not found or not all(_allowed(a, allow_loopback=allow_loopback) for a in found):
        raise UnsafeWebhookUrl(f"{host} resolves to an address webhooks may not reach")
    return found
