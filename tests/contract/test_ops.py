"""Contract scenarios of what an installation serves besides the resources: the document
itself, health, readiness and metrics."""

from __future__ import annotations

from typing import Any

from checker import (
    DOC,
    Ctx,
    scenario,
)

from paylinks.ops import health

# --- getOpenApiDocument


@scenario("getOpenApiDocument", 200)
def get_the_document_without_a_key(ctx: Ctx) -> None:
    assert ctx.call("getOpenApiDocument", status=200, key=None).json() == DOC
    assert ctx.call("getOpenApiDocument", status=200, key=None, slash=True).json() == DOC


# --- getHealth, getReadiness


@scenario("getHealth", 200)
def the_process_is_up(ctx: Ctx) -> None:
    response = ctx.call("getHealth", status=200, key=None, slash=True)
    assert response.headers["x-request-id"].startswith("req_")


@scenario("getReadiness", 200)
def ready_with_a_current_schema(ctx: Ctx) -> None:
    given = {"X-Request-Id": "lb-probe-0001"}
    response = ctx.call("getReadiness", status=200, key=None, headers=given)
    assert response.json()["checks"] == {"database": "ok", "redis": "not used"}
    assert response.headers["x-request-id"] == "lb-probe-0001"


@scenario("getReadiness", 503)
def not_ready_when_the_schema_is_behind(ctx: Ctx) -> None:
    ctx.monkeypatch.setattr(health, "_head", lambda: "9999")
    response = ctx.call("getReadiness", status=503, key=None)
    assert response.json()["checks"]["database"].startswith("schema at")

    async def broken(_services: Any) -> str:
        raise OSError("connection refused")

    ctx.monkeypatch.setattr(health, "_check_database", broken)
    response = ctx.call("getReadiness", status=503, key=None)
    assert response.json()["checks"]["database"] == "failed: OSError"


@scenario("getMetrics", 200)
def metrics_when_on(ctx: Ctx) -> None:
    client = ctx.make_client(metrics=True)
    ctx.new_charge()  # a charge in the database: counted at scrape time
    ctx.call("listLinks", status=200, client=client)
    text = ctx.call("getMetrics", status=200, client=client, key=None).text
    assert 'paylinks_http_requests_total{method="GET",route="/links",status="200"}' in text
    assert 'paylinks_charges{livemode="false",status="successful"}' in text
    assert "paylinks_outbox_backlog" in text and "payl_test_" not in text  # templates, not ids


@scenario("getMetrics", 401)
def metrics_behind_a_token(ctx: Ctx) -> None:
    client = ctx.make_client(metrics=True, metrics_token="scrape-me-please")
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        ctx.call("getMetrics", status=401, client=client, key=None, headers=headers)
    right = {"Authorization": "Bearer scrape-me-please"}
    ctx.call("getMetrics", status=200, client=client, key=None, headers=right, slash=True)


@scenario("getMetrics", 404)
def metrics_off_by_default(ctx: Ctx) -> None:
    ctx.call("getMetrics", status=404, key=None)
