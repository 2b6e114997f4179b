"""Access control, exhaustively: every API route with an id, called by every other (account,
mode) — another account's test and live keys, and the owner's other mode — answers
`404 not_found` and never shows or changes the object. The route list comes from the app's own
route table, so a new route with an id is covered (or this test fails until it is)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from factories import TestAccount, auth, link, token
from starlette.routing import Route
from starlette.testclient import TestClient

from paylinks.app import routes

PAGES = ("/pay/", "/static/", "/dashboard", "/sources/{source_id}/qr.", "/payments/")
# Authenticated by Omise's signature, not by a key: tests/upstream/test_live_charges.py.
SIGNED = ("/omise/webhooks/",)
ID_ROUTES = sorted(
    (route.path, method)
    for route in routes()
    if isinstance(route, Route)
    and "{" in route.path
    and not route.path.startswith(PAGES + SIGNED)
    and not route.path.endswith("/")
    for method in (route.methods or ())
    if method != "HEAD"
)


def _pending_charge(client: TestClient, owner: TestAccount) -> str:
    source = client.post(
        "/sources", auth=auth(owner.test.public_key),
        json={"type": "promptpay", "amount": 100000, "currency": "thb"},
    ).json()  # fmt: skip
    charge = client.post(
        "/charges", auth=auth(owner.test.secret_key),
        json={"source": source["id"], "link": link(client, owner)["id"]},
    ).json()  # fmt: skip
    return str(charge["id"])


def _newest_event(client: TestClient, owner: TestAccount) -> str:
    link(client, owner)
    newest = client.get(
        "/events", auth=auth(owner.test.secret_key), params={"order": "reverse_chronological"}
    )
    return str(newest.json()["data"][0]["id"])


def _stable(found: dict[str, Any]) -> dict[str, Any]:
    """Without what moves by itself: an embedded list's `to` (the time of the request)."""
    return {
        k: {**v, "to": None} if isinstance(v, dict) and v.get("object") == "list" else v
        for k, v in found.items()
    }


# What to make for each path parameter, owned by the account under test (test mode).
MAKERS: dict[str, Callable[[TestClient, TestAccount], str]] = {
    "link_id": lambda c, a: str(link(c, a)["id"]),
    "charge_id": _pending_charge,
    "event_id": lambda c, a: _newest_event(c, a),
    "token_id": lambda c, a: token(c, a),
    "source_id": lambda c, a: str(
        c.post(
            "/sources",
            auth=auth(a.test.public_key),
            json={"type": "promptpay", "amount": 100000, "currency": "thb"},
        ).json()["id"]
    ),
    "endpoint_id": lambda c, a: str(
        c.post(
            "/webhook_endpoints",
            auth=auth(a.test.secret_key),
            json={"url": "http://127.0.0.1:9/hook"},
        ).json()["id"]
    ),
}
READ_BACK = {
    "link_id": "/links/{id}",
    "charge_id": "/charges/{id}",
    "event_id": "/events/{id}",
    "token_id": "/tokens/{id}",
    "source_id": "/sources/{id}",
    "endpoint_id": "/webhook_endpoints/{id}",
    "refund_id": "/charges/{charge}/refunds/{id}",
}


def _refund(client: TestClient, owner: TestAccount) -> str:
    """A refund of a paid charge, as "charge_id/refund_id" (its path names both)."""
    charge = client.post(
        "/charges", auth=auth(owner.test.secret_key),
        json={"card": token(client, owner), "amount": 5000, "currency": "thb"},
    ).json()  # fmt: skip
    refund = client.post(
        f"/charges/{charge['id']}/refunds", auth=auth(owner.test.secret_key), json={"amount": 1}
    ).json()
    return f"{charge['id']}/{refund['id']}"


MAKERS["refund_id"] = _refund


def _target(path: str, object_id: str) -> tuple[str, str]:
    """The route with the made object's id(s) filled in, and where its owner reads it back."""
    param = _param(path)
    if param == "refund_id":
        charge_id, refund_id = object_id.split("/")
        target = path.replace("{charge_id}", charge_id).replace("{refund_id}", refund_id)
        return target, READ_BACK[param].format(charge=charge_id, id=refund_id)
    target = path.replace("{" + param + "}", object_id)
    return target, READ_BACK[param].format(id=object_id)


def _param(path: str) -> str:
    """The object a route is about: its last path parameter (a refund, not its charge)."""
    found: list[str] = re.findall(r"{(\w+)}", path)
    return found[-1]


def test_every_id_route_is_in_the_matrix() -> None:
    params = {name for path, _ in ID_ROUTES for name in re.findall(r"{(\w+)}", path)}
    assert params <= set(MAKERS), f"no maker for {params - set(MAKERS)}"
    assert len(ID_ROUTES) >= 17


def _strangers(owner: TestAccount, other: TestAccount, path: str) -> list[str]:
    keys = [other.test.secret_key, other.live.secret_key, owner.live.secret_key]
    if path.startswith(("/tokens", "/sources")):  # they take public keys too
        keys += [other.test.public_key, owner.live.public_key]
    return keys


BODY: dict[str, Any] = {"description": "mine now", "url": "http://127.0.0.1:9/x"}


def _owner_may(client: TestClient, method: str, path: str, key: str) -> None:
    """The positive control: the owner's own call reaches the object (whatever it then says,
    never "no such object"), so the strangers' 404s are about them, not a broken route."""
    response = client.request(method, path, auth=auth(key), json=BODY)
    assert response.status_code != 404, response.text
    assert response.status_code < 500, response.text


@pytest.mark.parametrize(("path", "method"), ID_ROUTES)
def test_strangers_get_not_found_and_change_nothing(
    client: TestClient,
    account: TestAccount,
    other_account: TestAccount,
    path: str,
    method: str,
) -> None:
    param = _param(path)
    object_id = MAKERS[param](client, account)
    owner_key = account.test.secret_key
    target, read_back = _target(path, object_id)
    found = client.get(read_back, auth=auth(owner_key))
    assert found.status_code == 200, found.text
    before = _stable(found.json())
    for key in _strangers(account, other_account, path):
        response = client.request(method, target, auth=auth(key), json=BODY)
        assert response.status_code == 404, (key, response.text)
        assert response.json()["code"] == "not_found"
    assert _stable(client.get(read_back, auth=auth(owner_key)).json()) == before
    _owner_may(
        client, method, target, owner_key if "tokens" not in path else account.test.public_key
    )


# Objects a live key can make today (live mode has no processor: no live tokens or charges).
LIVE_MAKERS: dict[str, Callable[[TestClient, TestAccount], str]] = {
    "link_id": lambda c, a: str(
        c.post(
            "/links",
            auth=auth(a.live.secret_key),
            json={"amount": 100000, "currency": "thb", "title": "Live"},
        ).json()["id"]
    ),
    "endpoint_id": lambda c, a: str(
        c.post(
            "/webhook_endpoints",
            auth=auth(a.live.secret_key),
            json={"url": "https://93.184.216.34/hook"},
        ).json()["id"]
    ),
}
LIVE_ROUTES = [
    (path, method)
    for path, method in ID_ROUTES
    if set(re.findall(r"{(\w+)}", path)) <= set(LIVE_MAKERS)
]


@pytest.mark.parametrize(("path", "method"), LIVE_ROUTES)
def test_test_keys_cannot_reach_live_objects(
    client: TestClient,
    account: TestAccount,
    other_account: TestAccount,
    path: str,
    method: str,
) -> None:
    param = _param(path)
    object_id = LIVE_MAKERS[param](client, account)
    assert "_test_" not in object_id
    owner_key = account.live.secret_key
    target, read_back = _target(path, object_id)
    found = client.get(read_back, auth=auth(owner_key))
    assert found.status_code == 200, found.text
    before = _stable(found.json())
    for key in (
        account.test.secret_key,
        other_account.test.secret_key,
        other_account.live.secret_key,
    ):
        response = client.request(method, target, auth=auth(key), json=BODY)
        assert response.status_code == 404, (key, response.text)
    assert _stable(client.get(read_back, auth=auth(owner_key)).json()) == before
    _owner_may(client, method, target, owner_key)
