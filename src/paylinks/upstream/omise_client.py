"""Calls to a connected account's Omise for its live charges, with every answer sorted into what
the live processor must tell apart (live-connector notes):

- an Omise object: what Omise did (a charge, successful or failed, is an answer, not an error);
- `UpstreamRefused`: Omise answered with an error object (4xx) — nothing was done;
- `UpstreamUnknown`: no answer that says what happened (a timeout, a dropped connection, a 5xx,
  a body that is not Omise's). The charge may or may not exist at Omise: never retry it blindly;
  reconcile first (`find_charges`, by the metadata paylinks puts on every charge it makes).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from paylinks.clock import format_time
from paylinks.upstream.omise_api import UpstreamRefused

# The metadata key naming the paylinks charge an Omise charge was made for.
CHARGE_KEY = "paylinks_charge_id"
PAGE = 100  # Omise's largest list page


class UpstreamUnknown(Exception):
    """The call may or may not have taken effect at Omise; `message` says what was seen."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OmiseClient:
    """One connected account's Omise API (its secret key), over a shared HTTP client."""

    def __init__(
        self, http: httpx.AsyncClient, *, api_url: str, secret_key: str, timeout: float = 30.0
    ) -> None:
        self._http = http
        self._api = api_url.rstrip("/")
        self._auth = (secret_key, "")
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            answer = await self._http.request(
                method, self._api + path, json=body, auth=self._auth, timeout=self._timeout
            )
        except httpx.HTTPError as problem:
            raise UpstreamUnknown(f"{method} {path}: {type(problem).__name__}") from None
        try:
            found = answer.json()
        except ValueError:
            found = None
        if answer.status_code >= 500 or not isinstance(found, dict):
            raise UpstreamUnknown(f"{method} {path}: HTTP {answer.status_code}")
        if found.get("object") == "error":
            code, message = str(found.get("code")), str(found.get("message"))
            # Omise's own words: they reach the merchant as Omise's error object would.
            raise UpstreamRefused(message, code=code, status=answer.status_code)
        return found

    async def create_charge(
        self, *, paylinks_charge_id: str, amount: int, currency: str, **payment: Any
    ) -> dict[str, Any]:
        """`payment`: `card` (a token) or `source`, and `capture`, `return_uri`, `description`.
        The charge carries the paylinks charge's id in its metadata, for reconciliation."""
        body = {"amount": amount, "currency": currency, **payment}
        body["metadata"] = {**payment.get("metadata", {}), CHARGE_KEY: paylinks_charge_id}
        made: dict[str, Any] = await self._call("POST", "/charges", body)
        return made

    async def retrieve_charge(self, upstream_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self._call("GET", f"/charges/{upstream_id}")
        return found

    async def capture_charge(self, upstream_id: str) -> dict[str, Any]:
        done: dict[str, Any] = await self._call("POST", f"/charges/{upstream_id}/capture")
        return done

    async def reverse_charge(self, upstream_id: str) -> dict[str, Any]:
        done: dict[str, Any] = await self._call("POST", f"/charges/{upstream_id}/reverse")
        return done

    async def expire_charge(self, upstream_id: str) -> dict[str, Any]:
        done: dict[str, Any] = await self._call("POST", f"/charges/{upstream_id}/expire")
        return done

    async def create_source(self, *, type: str, amount: int, currency: str) -> dict[str, Any]:
        """A source (PromptPay) made with the secret key: no money moves until it is charged."""
        body = {"type": type, "amount": amount, "currency": currency}
        made: dict[str, Any] = await self._call("POST", "/sources", body)
        return made

    async def refund_charge(
        self, upstream_id: str, *, amount: int, metadata: dict[str, Any]
    ) -> dict[str, Any]:
        body = {"amount": amount, "metadata": metadata}
        made: dict[str, Any] = await self._call("POST", f"/charges/{upstream_id}/refunds", body)
        return made

    async def refunds_of(self, upstream_id: str) -> list[dict[str, Any]]:
        """Every refund of an Omise charge."""
        found: list[dict[str, Any]] = []
        while True:
            page = await self._call(
                "GET", f"/charges/{upstream_id}/refunds?limit={PAGE}&offset={len(found)}"
            )
            data = page.get("data") or []
            found += data
            if not data or len(found) >= int(page.get("total", 0)):
                return found

    async def find_charges(
        self, *, paylinks_charge_id: str, around: datetime, window: timedelta
    ) -> list[dict[str, Any]]:
        """Every Omise charge made for this paylinks charge, found by listing the window of
        time around the attempt and matching metadata (Omise's search of metadata is not
        documented, so it is not relied on)."""
        start, end = format_time(around - window), format_time(around + window)
        matches: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = await self._call(
                "GET", f"/charges?from={start}&to={end}&limit={PAGE}&offset={offset}"
            )
            data = page.get("data") or []
            matches += [
                c for c in data if (c.get("metadata") or {}).get(CHARGE_KEY) == paylinks_charge_id
            ]
            offset += len(data)
            if not data or offset >= int(page.get("total", 0)):
                return matches
