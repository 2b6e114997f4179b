"""Contract scenarios of PromptPay sources and their QR images."""

from __future__ import annotations

from typing import Any

from checker import (
    Ctx,
    error_code,
    scenario,
)

from paylinks.sources import service as sources_service

# --- createSource, getSource, getSourceQr


@scenario("createSource", 200)
def create_sources_with_either_key(ctx: Ctx) -> None:
    source = ctx.new_source(amount=100050)
    assert source["scannable_code"]["raw_data"].startswith("000201")
    form = {"type": "promptpay", "amount": "2000", "currency": "THB"}
    ctx.call("createSource", status=200, form=form, slash=True)


@scenario("createSource", 400)
def sources_the_server_refuses(ctx: Ctx) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"amount": 100000, "currency": "thb"}, "bad_request"),
        ({"type": "bitcoin", "amount": 100000, "currency": "thb"}, "bad_request"),
        ({"type": "promptpay", "amount": 5000, "currency": "usd"}, "bad_request"),
        ({"type": "promptpay", "amount": 100, "currency": "thb"}, "invalid_amount"),
        ({"type": "promptpay", "currency": "thb"}, "invalid_amount"),
        ({"type": "promptpay", "amount": 100000, "currency": "xyz"}, "invalid_currency"),
    ]
    for body, code in cases:
        assert error_code(ctx.call("createSource", status=400, json=body)) == code, body


@scenario("getSource", 200)
def get_a_source(ctx: Ctx) -> None:
    source = ctx.new_source()
    public = ctx.account.test.public_key
    got = ctx.call("getSource", status=200, key=public, source_id=source["id"], slash=True)
    assert got.json() == source


@scenario("getSource", 400)
def get_a_source_with_a_malformed_body(ctx: Ctx) -> None:
    headers = {"content-type": "application/json"}
    source_id = ctx.new_source()["id"]
    ctx.call("getSource", status=400, source_id=source_id, content=b"{", headers=headers)


@scenario("getSource", 404)
def get_sources_of_others(ctx: Ctx) -> None:
    source_id = ctx.new_source()["id"]
    ctx.call("getSource", status=404, source_id=source_id, key=ctx.other_account.test.secret_key)


@scenario("getSourceQr", 200)
def get_the_qr_images(ctx: Ctx) -> None:
    source = ctx.new_source()
    image = source["scannable_code"]["image"]
    for kind, uri in (("svg", image["download_uri"]), ("png", image["png_uri"])):
        response = ctx.call("getSourceQr", status=200, key=None, source_id=source["id"], kind=kind)
        assert uri.endswith(f"/sources/{source['id']}/qr.{kind}")
        assert response.headers["content-type"] == f"image/{'svg+xml' if kind == 'svg' else kind}"


@scenario("getSourceQr", 400)
def get_a_qr_image_in_another_format(ctx: Ctx) -> None:
    source_id = ctx.new_source()["id"]
    # `kind` is outside the documented enum: the request itself is invalid, as intended.
    ctx.call("getSourceQr", status=400, key=None, source_id=source_id, kind="jpg")


@scenario("getSourceQr", 404)
def get_the_qr_image_of_a_missing_source(ctx: Ctx) -> None:
    ctx.call("getSourceQr", status=404, key=None, source_id="src_test_missing", kind="svg")


@scenario("getSourceQr", 500)
def qr_image_when_the_database_fails(ctx: Ctx) -> None:
    source_id = ctx.new_source()["id"]

    def explode(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("boom")

    ctx.monkeypatch.setattr(sources_service, "find_source", explode)
    response = ctx.call("getSourceQr", status=500, key=None, source_id=source_id, kind="png")
    assert error_code(response) == "internal_error" and "boom" not in response.text
