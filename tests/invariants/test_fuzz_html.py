"""Fuzzing the HTML side, as test_fuzz.py fuzzes the API: every route of the hosted payment page
and the dashboard, taken from the app's own route table, called with each method it allows. Path
parameters are real ids of an account that has objects, or generated text (NUL, control
characters, digits by the thousand, other scripts' digits); query strings and forms are
generated; dashboard requests come signed in (mostly) with a valid, wrong or missing CSRF token,
page forms with a valid, forged or missing form token. Never a 5xx, never a trace, and every
HTML answer carries the security headers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from factories import TestAccount, auth, form_tokens, link, open_page, pay, pay_on_page
from fuzzing import fuzz_settings
from hypothesis import example, given
from hypothesis import strategies as st
from starlette.routing import Route
from starlette.testclient import TestClient

from paylinks.accounts.service import find_principal
from paylinks.app import routes
from paylinks.auth import hash_key
from paylinks.checkout import pages as checkout_pages
from paylinks.clock import SystemClock
from paylinks.dashboard import pages as dashboard_pages
from paylinks.dashboard import sessions
from paylinks.db import Database
from paylinks.web.ratelimit import MemoryLimiter, parse_policy

HTML_AREAS = ("/pay/", "/static/", "/dashboard")
SECURITY_HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options",
                    "referrer-policy")  # fmt: skip
HTML_FUZZ = fuzz_settings(20)


def _html_routes() -> dict[str, set[str]]:
    """Every route template of the page and the dashboard, with the methods it allows (a path
    may be declared once per method)."""
    found: dict[str, set[str]] = {}
    for route in routes():
        if isinstance(route, Route) and route.path.startswith(HTML_AREAS):
            found.setdefault(route.path, set()).update(route.methods or ())
    return found


ROUTES = _html_routes()
TEMPLATES = {route.path: route for route in routes() if isinstance(route, Route)}

TRICKY = [
    *("\x00", "a\x00b", "\r\nSet-Cookie: x=1", "\x1b[31m", "\t", " ", "..", "%00", "%2F"),
    *("9" * 20, "9" * 5000, "-1", "0", "1e99999999999", "-1e99999999999", "1e-99999999999"),
    *("１０００", "٥٠٠", "²", "١٢/٣٥", "NaN", "Infinity", "1,250.50", "100", "50.5"),
    *("on", "yes", "paid", "failed", "live", "test", "customer", "fixed", "preview", "create"),
    *("edit", "oldest", "th", "en", "thb", "jpy", "xxx", "omise", "seed", "link.create", "*"),
    *("<script>alert(1)</script>", "'\"", "{}", "[1]", '{"k": "\\u0000"}', "12/35", "1235"),
    *("a@example.com", "a\x00@x", "http://127.0.0.1:9/hook", "https://example.com/h", "#12ab34"),
    *("/dashboard/developers/events", "//evil.example", "4242424242424242", "2026-01-01"),
]
TEXT = st.text(max_size=24) | st.sampled_from(TRICKY)
QUERY_KEYS = [
    *("page", "offset", "q", "days", "from", "to", "currency", "sort", "key", "locale"),
    *("next", "saved", "roll", "active", "used", "deleted", "multiple", "v"),
]
FORM_KEYS = [
    *("title", "description", "amount", "amount_min", "amount_max", "amount_type", "currency"),
    *("multiple", "usage_limit", "expires_at", "action", "meta_key_0", "meta_value_0"),
    *("email", "password", "secret_key", "next", "mode", "confirm", "metadata", "url"),
    *("events", "scheme", "enabled", "endpoint", "back", "display_name", "brand_color"),
    *("support_email", "remove_logo", "name", "number", "expiry", "security_code", "outcome"),
]
PAIRS = st.lists(st.tuples(st.sampled_from(QUERY_KEYS) | st.text(max_size=8), TEXT), max_size=5)
FORM = st.lists(st.tuples(st.sampled_from(FORM_KEYS) | st.text(max_size=8), TEXT), max_size=8)
Pairs = list[tuple[str, str]]
FORGED_TOKEN = "0" * 32 + ".1700000000." + "A" * 43
NASTY_IDS = ["payl_test_\x00x", "\x00", "9" * 5000, "１２３", "a/b", "%00", "\r\n"]
HUGE = "1e99999999999"
ODD_NUMBERS = [("page", "9" * 5000), ("offset", "9" * 5000), ("days", "²"), ("q", "ab " * 40)]
HUGE_AMOUNTS = [("amount", HUGE), ("amount_min", HUGE), ("amount_max", HUGE),
                ("amount_type", "customer"), ("action", "preview")]  # fmt: skip
NUL_FIELDS = [("description", "a\x00b"), ("email", "a\x00@x"), ("display_name", "\x00")]


@dataclass
class Scene:
    """An account with one of each object the pages show, and the page's form tokens."""

    client: TestClient
    db: Database
    account: TestAccount
    ids: dict[str, list[str]] = field(default_factory=dict)
    page_tokens: dict[str, str] = field(default_factory=dict)


def _scene(client: TestClient, db: Database, account: TestAccount) -> Scene:
    secret = auth(account.test.secret_key)
    tip = link(client, account, amount=10000, multiple=True, amount_type="customer")
    fixed = link(client, account, multiple=True)  # still payable after the charge below
    gone = link(client, account)
    client.delete(f"/links/{gone['id']}", auth=secret)
    paid = pay(client, account, fixed["id"]).json()
    tokens = {lid: form_tokens(open_page(client, lid)) for lid in (tip["id"], fixed["id"])}
    qr = client.post(
        f"/pay/{tip['id']}/promptpay",
        data={"promptpay_token": tokens[tip["id"]]["promptpay_token"], "amount": "100"},
    ).text
    pending = re.search(r"/promptpay/(chrg_test_\w+)", qr)
    assert pending is not None, qr[:300]
    hook = client.post("/webhook_endpoints", auth=secret, json={"url": "http://127.0.0.1:9/h"})
    events = client.get("/events", auth=secret).json()["data"]
    on_page = pay_on_page(client, fixed["id"], token=tokens[fixed["id"]]["card_token"])
    assert on_page.status_code == 200, on_page.text[:300]
    made = client.get(f"/links/{fixed['id']}/charges", auth=secret).json()["data"]
    nonces = [c["metadata"]["checkout_nonce"] for c in made if c["metadata"]]
    scene = Scene(client, db, account)
    scene.ids = {
        "link_id": [tip["id"], fixed["id"], gone["id"]],
        "charge_id": [pending.group(1), paid["id"]],
        "nonce": [*nonces, "0" * 32],
        "endpoint_id": [hook.json()["id"]],
        "event_id": [e["id"] for e in events[:3]],
        "name": [*checkout_pages.PAGES.static_files, *dashboard_pages.PAGES.static_files],
        "kind": ["svg", "png"],
        "rest": ["nothing/here", "links"],
    }
    # A page token names no field: one of a link's tokens is valid in any of its forms.
    scene.page_tokens = {lid: found["card_token"] for lid, found in tokens.items()}
    return scene


def _path_values(names: list[str], scene: Scene) -> st.SearchStrategy[dict[str, str]]:
    """For each path parameter: a real id of its kind, or generated text (never empty, which
    would be another route)."""
    generated = (
        st.sampled_from(NASTY_IDS)
        | st.text(min_size=1, max_size=24)
        | st.sampled_from([t for t in TRICKY if t])
        | st.integers(min_value=0).map(str)
    )
    return st.fixed_dictionaries(
        {name: st.sampled_from(scene.ids[name]) | generated for name in names}
    )


def _signed_in(scene: Scene, *, livemode: bool) -> str:
    """A new session, opened in the database as sign-in opens it (a fuzzed sign-out or key roll
    must not sign later examples out); its CSRF token."""
    now = SystemClock().now()
    key = scene.account.live.secret_key if livemode else scene.account.test.secret_key
    with scene.db.transaction() as conn:
        principal = find_principal(conn, key_hash=hash_key(key))
        assert principal is not None
        token = sessions.start_session(
            conn,
            account_pk=scene.account.pk,
            user_pk=None,
            api_key_pk=principal.key_pk,
            livemode=livemode,
            now=now,
        )
        found = sessions.find_session(conn, token=token, now=now)
    assert found is not None
    scene.client.cookies.set(sessions.COOKIE, token)
    return found.csrf_token


def _encode(pairs: Pairs) -> str:
    return "&".join(f"{quote(k, safe='[]')}={quote(v)}" for k, v in pairs)


def _token_fields(template: str, scene: Scene, link_id: str, csrf: str, mode: str) -> Pairs:
    """The token fields a form of `template` carries: valid, wrong or none."""
    if mode == "absent":
        return []
    if template.startswith("/dashboard"):
        return [("csrf", csrf if mode == "valid" else "f" * 64)]
    token = scene.page_tokens.get(link_id) if mode == "valid" else None
    return [(name, token or FORGED_TOKEN) for name in ("card_token", "promptpay_token", "token")]


def _check(response: httpx.Response) -> None:
    request = f"{response.request.method} {response.request.url}"
    assert response.status_code < 500, f"{request}: {response.text[:500]}"
    assert b"Traceback" not in response.content, request
    kind = response.headers.get("content-type", "")
    if response.status_code >= 400 and kind.startswith("application/json") and response.content:
        # The API's error object has no place here (the QR page's status answers JSON of its
        # own: `{"status": null}` for an attempt it does not know).
        answer = response.json()
        assert answer.get("object") != "error" and set(answer) == {"status"}, request
    if kind.startswith("text/html"):
        missing = [h for h in SECURITY_HEADERS if not response.headers.get(h)]
        assert not missing, f"{request}: no {missing}"


@dataclass
class Call:
    """One generated request to a route template."""

    method: str
    values: dict[str, str]  # path parameters, unencoded
    query: Pairs
    form: Pairs
    token_mode: str  # valid | wrong | absent
    session: str  # test | live | none (a dashboard session of that mode, or none)
    logo: bytes | None  # an upload: the form goes as multipart


def _send(scene: Scene, template: str, call: Call) -> httpx.Response:
    client = scene.client
    client.cookies.clear()
    csrf = "" if call.session == "none" else _signed_in(scene, livemode=call.session == "live")
    safe = "/" if "{rest:path}" in template else ""  # the catch-all takes slashes
    encoded = {k: quote(v, safe=safe) for k, v in call.values.items()}
    path = TEMPLATES[template].path_format.format(**encoded)
    url = f"{path}?{_encode(call.query)}" if call.query else path
    if call.method != "POST":
        return client.request(call.method, url)
    link_id = call.values.get("link_id", "")
    fields = [*_token_fields(template, scene, link_id, csrf, call.token_mode), *call.form]
    if call.logo is None:
        headers = {"content-type": "application/x-www-form-urlencoded"}
        return client.post(url, content=_encode(fields), headers=headers)
    files = {"logo": ("logo.png", b"\x89PNG\r\n\x1a\n" + call.logo, "image/png")}
    return client.post(url, data=dict(fields), files=files)


def _known_cases(methods: list[str], names: list[str], scene: Scene) -> list[Call]:
    """Beside the generated examples, every route gets the 500s this file was written for."""
    real = {name: scene.ids[name][0] for name in names}  # the customer-decided link first
    nul = {name: NASTY_IDS[0] for name in names}
    first, last = methods[0], methods[-1]  # POST sorts last
    return [
        Call(first, nul, [("q", "\x00")], [], "valid", "test", None),
        Call(last, real, ODD_NUMBERS, HUGE_AMOUNTS, "valid", "test", None),
        Call(last, real, [], NUL_FIELDS, "valid", "test", None),
    ]


@pytest.mark.parametrize("template", sorted(ROUTES))
def test_every_html_route_answers_generated_requests_without_a_5xx(
    make_client: Any, db: Database, account: TestAccount, template: str
) -> None:
    client: TestClient = make_client(checkout_ip_limits="off", checkout_link_limits="off")
    # Sign-in allows 10 attempts a minute per address; the fuzz makes more than that.
    client.app.state.sign_in_limiter = MemoryLimiter(parse_policy("100000/minute"))  # type: ignore[attr-defined]
    scene = _scene(client, db, account)
    methods = sorted(ROUTES[template])
    names = list(TEMPLATES[template].param_convertors)
    calls = st.builds(
        Call,
        method=st.sampled_from(methods),
        values=_path_values(names, scene),
        query=PAIRS,
        form=FORM,
        token_mode=st.sampled_from(["valid", "valid", "wrong", "absent"]),
        session=st.sampled_from(["test", "test", "live", "none"]),
        logo=st.none() | st.binary(max_size=64),
    )

    def generated(call: Call) -> None:
        _check(_send(scene, template, call))

    test = given(call=calls)(generated)
    for case in _known_cases(methods, names, scene):
        test = example(call=case)(test)
    HTML_FUZZ(test)()
