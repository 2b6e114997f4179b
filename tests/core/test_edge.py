"""Input no client should send, from anyone (most of it without signing in): control characters
in paths and query strings (refused at the edge, before any route), numbers too large for the
arithmetic or the database, and digits that are not ASCII. Always a 4xx: an Omise error object
on the API, an HTML page with the security headers elsewhere; never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from factories import CARD, TestAccount, auth, form_tokens, link, open_page, sign_in
from starlette.testclient import TestClient

HUGE = "1e99999999999"  # a Decimal whose abs() overflows the default context
MANY_NINES = "9" * 5000  # more digits than int() reads, and far beyond 64 bits
TIP_JAR = {"amount": 10000, "multiple": True, "amount_type": "customer"}
HTML_HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options")


def assert_error_object(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text[:300]
    body: dict[str, Any] = response.json()
    assert set(body) == {"object", "location", "code", "message"} and body["object"] == "error"
    return body


def assert_html_page(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    for name in HTML_HEADERS:
        assert response.headers.get(name), f"{name} is missing"
    assert "Traceback" not in response.text
    return response.text


def signed_in(make_client: Any, account: TestAccount) -> tuple[TestClient, str]:
    client: TestClient = make_client()
    return client, sign_in(client, account.test.secret_key)


# --- the guard at the edge ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/links/payl_test_%00x",
        "/links?note=%00",
        "/search?scope=link&query=a%0Db",
        "/sources/src_%00/qr.svg",
        "/charges?note=%1b[31m",
        "/nowhere/%00",
    ],
)
def test_control_characters_in_api_paths_and_queries_are_an_error_object(
    client: TestClient, account: TestAccount, path: str
) -> None:
    response = client.get(path, auth=auth(account.test.secret_key))
    assert assert_error_object(response)["code"] == "bad_request"


@pytest.mark.parametrize(
    "path",
    [
        "/pay/payl_test_%00x",
        "/pay/%00/logo",
        "/pay/payl_test_x?locale=%00",
        "/static/checkout/checkout.css%0A",
        "/dashboard/links/payl_%00",
        "/dashboard/links?q=%00",
        "/dashboard/sign-in?next=/dashboard%0D%0ASet-Cookie:x",
    ],
)
def test_control_characters_in_page_paths_and_queries_are_an_html_400(
    make_client: Any, account: TestAccount, path: str
) -> None:
    client, _ = signed_in(make_client, account)
    assert_html_page(client.get(path), 400)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/pay/payl_test_x/a/b", 404),
        ("DELETE", "/pay/payl_test_x", 405),
        ("GET", "/static/nothing", 404),
        ("PUT", "/dashboard/sign-in", 405),
    ],
)
def test_unknown_page_paths_and_methods_are_answered_with_a_page(
    client: TestClient, method: str, path: str, status: int
) -> None:
    """The router's own 404 and 405 speak the area's language too, not the API's JSON."""
    response = client.request(method, path)
    assert_html_page(response, status)
    if status == 405:
        assert response.headers["allow"]


def test_a_tab_in_a_query_value_passes_a_line_break_does_not(
    client: TestClient, account: TestAccount
) -> None:
    key = auth(account.test.secret_key)
    assert client.get("/search?scope=link&query=a%09b", auth=key).status_code == 200
    assert_error_object(client.get("/search?scope=link&query=a%0Ab", auth=key))


# --- numbers too large ------------------------------------------------------------------------


def test_a_huge_amount_on_the_hosted_page_is_a_field_error(
    client: TestClient, account: TestAccount
) -> None:
    tip = link(client, account, **TIP_JAR)
    tokens = form_tokens(open_page(client, tip["id"]))
    for route, token in (("", "card_token"), ("/promptpay", "promptpay_token")):
        response = client.post(
            f"/pay/{tip['id']}{route}",
            data={**CARD, "number": "4242424242424242", token: tokens[token], "amount": HUGE},
        )
        assert "enter the amount" in assert_html_page(response, 422).lower()


def test_a_huge_amount_filter_in_search_is_invalid_filter(
    client: TestClient, account: TestAccount
) -> None:
    for value in (HUGE, f"..{HUGE}", f"-{HUGE}..", "1e-99999999999"):
        response = client.get(
            "/search",
            params={"scope": "link", "filters[amount]": value},
            auth=auth(account.test.secret_key),
        )
        assert assert_error_object(response)["code"] == "invalid_filter", value


@pytest.mark.parametrize("field", ["amount", "amount_min", "amount_max"])
def test_a_huge_amount_in_the_new_link_form_is_a_form_error(
    make_client: Any, account: TestAccount, field: str
) -> None:
    client, csrf = signed_in(make_client, account)
    form = {"csrf": csrf, "title": "T", "amount": "100", "currency": "thb", "multiple": "on"}
    form.update({"amount_type": "customer", "action": "preview", field: HUGE})
    text = assert_html_page(client.post("/dashboard/links/new", data=form), 400)
    assert "enter amounts in THB" in text


@pytest.mark.parametrize(
    "path",
    [
        f"/dashboard/links?page={MANY_NINES}",
        "/dashboard/links?page=99999999999999999999",
        f"/dashboard/developers/events?offset={MANY_NINES}",
        "/dashboard/developers/events?offset=99999999999999999999",
        f"/dashboard?days={MANY_NINES}",
        "/dashboard/links?page=²",
        "/dashboard/developers/events?offset=²",
        "/dashboard?days=³",
    ],
)
def test_huge_or_odd_page_numbers_in_the_dashboard_show_a_page(
    make_client: Any, account: TestAccount, path: str
) -> None:
    client, _ = signed_in(make_client, account)
    link(client, account)
    assert_html_page(client.get(path), 200)  # clamped: an empty page of the list


def test_huge_endpoint_log_offsets_show_a_page(make_client: Any, account: TestAccount) -> None:
    client, _ = signed_in(make_client, account)
    made = client.post(
        "/webhook_endpoints",
        auth=auth(account.test.secret_key),
        json={"url": "http://127.0.0.1:9/hook"},
    ).json()
    for offset in (MANY_NINES, "99999999999999999999", "²"):
        page = client.get(f"/dashboard/developers/endpoints/{made['id']}?offset={offset}")
        assert_html_page(page, 200)


# --- NUL in form bodies -------------------------------------------------------------------------


def test_a_nul_in_the_sign_in_form_is_refused_with_a_page(make_client: Any) -> None:
    client: TestClient = make_client()
    response = client.post("/dashboard/sign-in", data={"email": "a\x00@x", "password": "p"})
    assert_html_page(response, 400)


def test_a_nul_in_a_dashboard_form_is_refused_with_a_page(
    make_client: Any, account: TestAccount
) -> None:
    client, csrf = signed_in(make_client, account)
    made = link(client, account)
    edit = {"csrf": csrf, "description": "a\x00b", "metadata": "{}"}
    assert_html_page(client.post(f"/dashboard/links/{made['id']}/edit", data=edit), 400)
    brand = {"csrf": csrf, "display_name": "Shop\x00"}
    assert_html_page(client.post("/dashboard/branding", data=brand), 400)


# --- ASCII digits only --------------------------------------------------------------------------


def test_full_width_digits_are_not_an_amount_on_the_api(
    client: TestClient, account: TestAccount
) -> None:
    body = {"amount": "１００００００", "currency": "thb", "title": "Wide"}
    response = client.post("/links", auth=auth(account.test.secret_key), data=body)
    assert assert_error_object(response)["code"] == "invalid_amount"
    query = client.get("/links?limit=１０", auth=auth(account.test.secret_key))
    assert assert_error_object(query)["code"] == "bad_request"


def test_full_width_digits_are_a_field_error_on_the_hosted_page(
    client: TestClient, account: TestAccount
) -> None:
    tip = link(client, account, **TIP_JAR)
    tokens = form_tokens(open_page(client, tip["id"]))
    form = {**CARD, "number": "4242424242424242", "card_token": tokens["card_token"]}
    response = client.post(f"/pay/{tip['id']}", data={**form, "amount": "５００"})
    assert "enter the amount" in assert_html_page(response, 422).lower()
    expiry = client.post(f"/pay/{tip['id']}", data={**form, "amount": "500", "expiry": "١٢/٣٥"})
    assert "Enter a valid expiry date" in assert_html_page(expiry, 422)


def test_full_width_digits_are_a_form_error_in_the_dashboard(
    make_client: Any, account: TestAccount
) -> None:
    client, csrf = signed_in(make_client, account)
    form = {"csrf": csrf, "title": "T", "currency": "thb", "action": "preview"}
    wide_amount = client.post("/dashboard/links/new", data={**form, "amount": "１００"})
    assert "enter amounts in THB" in assert_html_page(wide_amount, 400)
    wide_limit = client.post(
        "/dashboard/links/new",
        data={**form, "amount": "100", "multiple": "on", "usage_limit": "１０"},
    )
    assert "usage_limit must be an integer" in assert_html_page(wide_limit, 400)
