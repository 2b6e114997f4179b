"""Who the client is: the connecting address, or, behind a proxy the operator trusts, the address
that proxy says it forwarded for.

Limits keyed on the client (card-testing, sign-in) are only as good as this answer. Nobody is
trusted by default: a client can write any `X-Forwarded-For` it likes, so the header counts only
when the connection comes from an address in `PAYLINKS_TRUSTED_PROXIES`. Then the header is read
from the right, skipping the trusted proxies' own entries, and the first other address is the
client (what the nearest trusted proxy saw), never a value the client itself put first.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """`"10.0.0.1, 10.1.0.0/16, ::1"` → networks; ValueError for anything else."""
    found = []
    for part in text.split(","):
        part = part.strip()
        if part:
            found.append(ipaddress.ip_network(part, strict=False))
    return tuple(found)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:5000"
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class ClientAddresses:
    trusted: Sequence[Network] = ()

    def is_trusted(self, address: str) -> bool:
        ip = _ip(address)
        return ip is not None and any(ip in net for net in self.trusted)

    def of(self, request: Request) -> str:
        """The client's address as this installation can know it."""
        peer = request.client.host if request.client else "unknown"
        if not self.trusted or not self.is_trusted(peer):
            return peer
        hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
        for hop in reversed([h for h in hops if h]):
            ip = _ip(hop)
            if ip is None:
                return peer  # a garbled chain: judge by the proxy itself, not by guesswork
            if not any(ip in net for net in self.trusted):
                return str(ip)
        return peer
