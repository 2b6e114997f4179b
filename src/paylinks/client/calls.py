"""Every API call the client knows, described once as a `Call` (method, path, body, query) and
shared by the synchronous and the asynchronous client: `Methods[R]` builds the call and hands it
to `_send`, which returns a dict (sync) or an awaitable of one (async)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

R = TypeVar("R")
Time = datetime | str
WRITES = frozenset({"POST", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, str | int] = field(default_factory=dict)
    public: bool = False  # may use the public key (tokens)
    idempotency_key: str | None = None  # None on a write: the client makes one up

    @property
    def is_write(self) -> bool:
        return self.method in WRITES


class Methods(Generic[R]):
    """One method per API call. Writes take `idempotency_key=`: pass your own (an order
    number, a row of a file) to make a retry across program runs safe; otherwise each call gets
    a fresh one, which makes the client's own retries safe."""

    def _send(self, call: Call) -> R:
        raise NotImplementedError

    # -- links ------------------------------------------------------------------------------

    def create_link(self, *, idempotency_key: str | None = None, **fields: Any) -> R:
        return self._send(Call("POST", "/links", fields, idempotency_key=idempotency_key))

    def retrieve_link(self, link_id: str) -> R:
        return self._send(Call("GET", path("/links", link_id)))

    def update_link(self, link_id: str, *, idempotency_key: str | None = None, **fields: Any) -> R:
        return self._send(
            Call("PATCH", path("/links", link_id), fields, idempotency_key=idempotency_key)
        )

    def destroy_link(self, link_id: str) -> R:
        return self._send(Call("DELETE", path("/links", link_id)))

    def list_links(self, **params: Any) -> R:
        """One page (limit, offset, order, from_, to); `links()` iterates over all of them."""
        return self._send(Call("GET", "/links", params=query(params)))

    def link_charges(self, link_id: str, **params: Any) -> R:
        return self._send(Call("GET", path("/links", link_id) + "/charges", params=query(params)))

    def link_stats(self, link_id: str) -> R:
        return self._send(Call("GET", path("/links", link_id) + "/stats"))

    def search_links(self, text: str = "", **filters: Any) -> R:
        """`GET /search?scope=link`: `text` over titles, descriptions and metadata, `filters`
        such as `used=False` or `currency="thb"`, pages with `page` and `per_page`."""
        params: dict[str, Any] = {"scope": "link", "query": text}
        for name, value in filters.items():
            if name in ("page", "per_page", "order"):
                params[name] = value
            else:
                params[f"filters[{name}]"] = value
        return self._send(Call("GET", "/search", params=query(params)))

    # -- tokens and charges -----------------------------------------------------------------

    def create_token(self, card: dict[str, Any], *, idempotency_key: str | None = None) -> R:
        return self._send(
            Call("POST", "/tokens", {"card": card}, public=True, idempotency_key=idempotency_key)
        )

    def create_charge(self, *, idempotency_key: str | None = None, **fields: Any) -> R:
        return self._send(Call("POST", "/charges", fields, idempotency_key=idempotency_key))

    def retrieve_charge(self, charge_id: str) -> R:
        return self._send(Call("GET", path("/charges", charge_id)))

    def list_charges(self, **params: Any) -> R:
        return self._send(Call("GET", "/charges", params=query(params)))

    def refund_charge(
        self, charge_id: str, amount: int, *, idempotency_key: str | None = None, **fields: Any
    ) -> R:
        body = {"amount": amount, **fields}
        refunds = path("/charges", charge_id) + "/refunds"
        return self._send(Call("POST", refunds, body, idempotency_key=idempotency_key))

    def capture_charge(self, charge_id: str) -> R:
        return self._send(Call("POST", path("/charges", charge_id) + "/capture"))

    def reverse_charge(self, charge_id: str) -> R:
        return self._send(Call("POST", path("/charges", charge_id) + "/reverse"))

    # -- events -----------------------------------------------------------------------------

    def list_events(self, **params: Any) -> R:
        """A list object of events; `from_` and `to` bound `created_at` (both inclusive)."""
        return self._send(Call("GET", "/events", params=query(params)))

    def retrieve_event(self, event_id: str) -> R:
        return self._send(Call("GET", path("/events", event_id)))

    def charge_events(self, charge_id: str) -> R:
        return self._send(Call("GET", path("/charges", charge_id) + "/events"))

    def redeliver_event(self, event_id: str, *, endpoint: str | None = None) -> R:
        body = {"endpoint": endpoint} if endpoint else {}
        return self._send(Call("POST", path("/events", event_id) + "/redeliver", body))

    # -- webhook endpoints ------------------------------------------------------------------

    def create_webhook_endpoint(self, url: str, **fields: Any) -> R:
        return self._send(Call("POST", "/webhook_endpoints", {"url": url, **fields}))

    def list_webhook_endpoints(self, **params: Any) -> R:
        return self._send(Call("GET", "/webhook_endpoints", params=query(params)))

    def retrieve_webhook_endpoint(self, endpoint_id: str) -> R:
        return self._send(Call("GET", path("/webhook_endpoints", endpoint_id)))

    def update_webhook_endpoint(self, endpoint_id: str, **fields: Any) -> R:
        return self._send(Call("PATCH", path("/webhook_endpoints", endpoint_id), fields))

    def delete_webhook_endpoint(self, endpoint_id: str) -> R:
        return self._send(Call("DELETE", path("/webhook_endpoints", endpoint_id)))

    def roll_webhook_secret(self, endpoint_id: str) -> R:
        return self._send(Call("POST", path("/webhook_endpoints", endpoint_id) + "/roll_secret"))

    # -- the test clock (a paylinks extension) ----------------------------------------------

    def test_clock(self) -> R:
        return self._send(Call("GET", "/test_clock"))

    def advance_test_clock(self, seconds: int) -> R:
        return self._send(Call("POST", "/test_clock/advance", {"seconds": seconds}))

    def reset_test_clock(self) -> R:
        return self._send(Call("POST", "/test_clock/reset"))


def path(collection: str, object_id: str) -> str:
    # Quoted, so that an id taken from elsewhere can never name another path ("../x", "a?b").
    if not object_id:
        raise ValueError(f"an object id is needed after {collection}/")
    return f"{collection}/{quote(object_id, safe='')}"


def query(params: dict[str, Any]) -> dict[str, str | int]:
    """Query parameters: None left out, times in the API's form, `from_` spelled `from`."""
    found: dict[str, str | int] = {}
    for name, value in params.items():
        key = "from" if name == "from_" else name
        if isinstance(value, datetime):
            found[key] = iso_time(value)
        elif isinstance(value, bool):
            found[key] = "true" if value else "false"
        elif value is not None:
            found[key] = value
    return found


def iso_time(moment: datetime) -> str:
    """The API's time form: UTC, whole seconds (truncated), `Z`; a naive time is UTC."""
    m = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"
