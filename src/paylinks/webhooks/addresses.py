"""Webhook URL safety: which addresses a webhook may reach, judged on the resolved address.

- Public addresses: always.
- Loopback: in test mode only, so that `http://localhost:3000/webhooks` needs no tunnel.
- Every other special-purpose address (the IANA IPv4 and IPv6 special-purpose registries:
  private, shared/CGNAT, link-local, documentation, benchmarking, reserved, unique-local,
  IPv4-compatible, NAT64, 6to4, …): refused in both modes, unless the operator sets
  `PAYLINKS_WEBHOOK_ALLOW_PRIVATE` on purpose (which live mode refuses to start with).
- Unspecified, multicast and broadcast addresses: never; nothing sensible listens there.

The API, the dashboard and the CLI check a URL when it is saved; the worker checks it again at
every attempt (DNS may have changed) and connects to an address it checked (pinning).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

IP = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeWebhookUrl(ValueError):
    pass


class Unresolvable(UnsafeWebhookUrl):
    """The name has no address (now): not unsafe in itself."""


@dataclass(frozen=True)
class ParsedTarget:
    scheme: str
    host: str
    port: int


def check_url(url: str, *, allow_http: bool) -> ParsedTarget:
    """The URL's scheme, host and port, if its form is acceptable (addresses are judged later)."""
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


# (network, what it is). Never reachable, whatever the settings.
_NEVER = tuple(
    (ipaddress.ip_network(net), name)
    for net, name in (
        ("0.0.0.0/8", "a 'this network' address"),
        ("224.0.0.0/4", "a multicast address"),
        ("255.255.255.255/32", "the broadcast address"),
        ("::/128", "the unspecified address"),
        ("ff00::/8", "a multicast address"),
    )
)
_LOOPBACK = tuple(ipaddress.ip_network(net) for net in ("127.0.0.0/8", "::1/128"))
# The rest of the IANA special-purpose registries (IPv4 and IPv6), plus the deprecated forms
# that embed an IPv4 address a gateway might reach for us.
_SPECIAL = tuple(
    (ipaddress.ip_network(net), name)
    for net, name in (
        ("10.0.0.0/8", "a private address (RFC 1918)"),
        ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", "a private address (RFC 1918)"),
        ("192.0.0.0/24", "an IETF protocol address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a 6to4 relay address"),
        ("192.168.0.0/16", "a private address (RFC 1918)"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("240.0.0.0/4", "a reserved address"),
        ("::/96", "an IPv4-compatible address"),
        ("::ffff:0:0:0/96", "an IPv4-translated address"),
        ("64:ff9b::/96", "a NAT64 address"),
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("100::/64", "a discard-only address"),
        ("100:0:0:1::/64", "a dummy IPv6 prefix"),
        ("2001::/23", "an IETF protocol address"),
        ("2001:db8::/32", "a documentation address"),
        ("2002::/16", "a 6to4 address"),
        ("3fff::/20", "a documentation address"),
        ("5f00::/16", "a segment-routing address"),
        ("fc00::/7", "a unique-local address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
    )
)


Networks = tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...]


def _within(ip: IP, networks: Networks) -> str | None:
    for net, name in networks:
        if ip.version == net.version and ip in net:
            return name
    return None


@dataclass(frozen=True)
class Kind:
    """What an address is: `category` is "public", "loopback", "special" or "never"."""

    category: str
    description: str


def classify(address: str) -> Kind:
    ip: IP = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    never = _within(ip, _NEVER)
    if never:
        return Kind("never", never)
    if any(ip.version == net.version and ip in net for net in _LOOPBACK):
        return Kind("loopback", "a loopback address")
    special = _within(ip, _SPECIAL)
    if special:
        return Kind("special", special)
    # Anything Python knows as non-global that the table above missed stays refused.
    if not ip.is_global:
        return Kind("special", "a non-public address")
    return Kind("public", "a public address")


@dataclass(frozen=True)
class Policy:
    """Which addresses one mode's webhooks may reach."""

    livemode: bool
    allow_private: bool = False

    @property
    def allow_http(self) -> bool:
        return not self.livemode

    def refusal(self, address: str) -> str | None:
        """Why `address` may not be called (what it is), or None when it may."""
        kind = classify(address)
        allowed = (
            kind.category == "public"
            or (kind.category == "loopback" and not self.livemode)
            or (kind.category != "never" and self.allow_private)
        )
        return None if allowed else kind.description

    def shows_responses_of(self, address: str) -> bool:
        """Whether what the receiver answered may be kept and shown: only for addresses the
        policy allows by default (public, and loopback in test mode), never for private ones
        reached through `allow_private` (the delivery log must not become a window into the
        operator's network)."""
        return Policy(self.livemode).refusal(address) is None


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
        raise Unresolvable(f"cannot resolve {host}: {exc}") from None
    if not found:
        raise Unresolvable(f"{host} has no address")
    return found


def resolve_safely(
    host: str, port: int, *, policy: Policy, resolver: Resolver = system_resolver
) -> list[str]:
    """The host's addresses, if every one of them may be called; `UnsafeWebhookUrl` if not."""
    found = resolve(host, port, resolver=resolver)
    for address in found:
        why = policy.refusal(address)
        if why is not None:
            raise UnsafeWebhookUrl(
                f"{host} resolves to {address}, {why}, which webhooks may not reach"
            )
    return found


def check_webhook_url(url: str, *, policy: Policy, resolver: Resolver = system_resolver) -> None:
    """Refuse a URL a webhook may not be saved with. In test mode a name that does not resolve
    yet is accepted (a local service may not be up; the worker checks again at every attempt);
    in live mode it is refused."""
    target = check_url(url, allow_http=policy.allow_http)
    try:
        resolve_safely(target.host, target.port, policy=policy, resolver=resolver)
    except Unresolvable:
        if policy.livemode:
            raise


@dataclass(frozen=True)
class Pinned:
    """A request aimed at one checked address, still naming the host (Host header, TLS SNI and
    certificate check), so that a second DNS answer cannot send it elsewhere (rebinding)."""

    url: str
    host_header: str
    sni_hostname: str | None
    address: str


def pin(url: str, address: str) -> Pinned:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{address}]" if ":" in address else address
    if parts.port is not None:
        netloc += f":{parts.port}"
    tls_name = host if parts.scheme == "https" and literal_address(host) is None else None
    return Pinned(parts._replace(netloc=netloc).geturl(), parts.netloc, tls_name, address)
