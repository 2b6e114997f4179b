"""The synchronous client: one method per API call, each returning the object the API answered
(a parsed JSON dict) or raising a `PaylinksError`. It keeps no state beyond the connection pool."""

from __future__ import annotations

from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from paylinks import __version__
from paylinks.client.errors import PaylinksConnectionError
from paylinks.client.responses import decode

Time = datetime | str


class Client:
    """A connection pool to one paylinks server, authenticated with one account's keys (HTTP
    Basic, the key as user name and an empty password, as Omise does). Use it as a context
    manager, or call `close()`:

        with Client("http://127.0.0.1:8000", "skey_test_…") as api:
            link = api.create_link(amount=100000, currency="thb", title="A mug")
    """

    def __init__(
        self,
        api_url: str,
        secret_key: str,
        *,
        public_key: str | None = None,
        timeout: float = 30,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        # Tokens accept either key; the public one is what a browser would use, so prefer it.
        self._token_auth = httpx.BasicAuth(public_key or secret_key, "")
        self._http = httpx.Client(
            base_url=self.api_url,
            auth=httpx.BasicAuth(secret_key, ""),
            timeout=timeout,
            transport=transport,
            # A redirect would carry the key to another place; the API never sends one.
            follow_redirects=False,
            headers={"User-Agent": f"paylinks-client/{__version__}", "Accept": "application/json"},
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        auth: httpx.Auth | None = None,
    ) -> dict[str, Any]:
        """Send one request (a JSON body when `json` is given); the object answered. Raises
        `PaylinksError` for an error answer, `PaylinksConnectionError` when there is none."""
        try:
            response = self._http.request(
                method,
                path,
                json=json,
                params=params,
                auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TimeoutException as exc:
            raise PaylinksConnectionError(
                f"no answer from the paylinks API at {self.api_url} in time "
                f"({method} {path}: {type(exc).__name__})"
            ) from exc
        except httpx.RequestError as exc:
            raise PaylinksConnectionError(
                f"cannot reach the paylinks API at {self.api_url} "
                f"({method} {path}: {type(exc).__name__}: {exc})"
            ) from exc
        return decode(response)

    # -- links ------------------------------------------------------------------------------

    def create_link(self, **fields: Any) -> dict[str, Any]:
        return self.request("POST", "/links", json=fields)

    def retrieve_link(self, link_id: str) -> dict[str, Any]:
        return self.request("GET", _path("/links", link_id))

    def update_link(self, link_id: str, **fields: Any) -> dict[str, Any]:
        return self.request("PATCH", _path("/links", link_id), json=fields)

    def destroy_link(self, link_id: str) -> dict[str, Any]:
        return self.request("DELETE", _path("/links", link_id))

    # -- tokens and charges -----------------------------------------------------------------

    def create_token(self, card: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "/tokens", json={"card": card}, auth=self._token_auth)

    def create_charge(self, **fields: Any) -> dict[str, Any]:
        return self.request("POST", "/charges", json=fields)

    def retrieve_charge(self, charge_id: str) -> dict[str, Any]:
        return self.request("GET", _path("/charges", charge_id))

    # -- events -----------------------------------------------------------------------------

    def list_events(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        order: str | None = None,
        from_: Time | None = None,
        to: Time | None = None,
    ) -> dict[str, Any]:
        """A list object of events; `from_` and `to` bound `created_at` (both inclusive)."""
        params = {"limit": limit, "offset": offset, "order": order, "from": from_, "to": to}
        return self.request("GET", "/events", params=_query(params))

    def charge_events(self, charge_id: str) -> dict[str, Any]:
        return self.request("GET", _path("/charges", charge_id) + "/events")


def _path(collection: str, object_id: str) -> str:
    # Quoted, so that an id taken from elsewhere can never name another path ("../x", "a?b").
    if not object_id:
        raise ValueError(f"an object id is needed after {collection}/")
    return f"{collection}/{quote(object_id, safe='')}"


def _query(params: dict[str, Any]) -> dict[str, str | int]:
    query: dict[str, str | int] = {}
    for name, value in params.items():
        if isinstance(value, datetime):
            query[name] = _iso_time(value)
        elif value is not None:
            query[name] = value
    return query


def _iso_time(moment: datetime) -> str:
    """The API's time form: UTC, whole seconds (truncated), `Z`; a naive time is UTC."""
    m = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"
