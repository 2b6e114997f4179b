"""Prometheus metrics at `GET /metrics`, when `PAYLINKS_METRICS` is on (and, with
`PAYLINKS_METRICS_TOKEN`, only for `Authorization: Bearer <token>`).

Request counts and latencies are kept per process; with `serve --workers N` they are shared
through files in `PROMETHEUS_MULTIPROC_DIR` (set by `serve`), so any process answers for all.
Charges, webhook deliveries and the outbox are counted in the database at scrape time, so they
are the same whichever process answers.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.engine import Connection
from starlette.requests import Request
from starlette.responses import Response

from paylinks.api.pipeline import error_response
from paylinks.clock import to_micros
from paylinks.errors import AuthenticationFailure, NotFound
from paylinks.models import charges, webhook_deliveries
from paylinks.runtime import Runtime

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class RequestMetrics:
    """What every request adds: its route (the template, never the ids), method and status."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "paylinks_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "paylinks_http_request_duration_seconds",
            "Time to answer, by route template and method.",
            ["route", "method"],
            buckets=BUCKETS,
            registry=self.registry,
        )

    def observe(self, *, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def exposition(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            merged = CollectorRegistry()
            multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
            return generate_latest(merged)
        return generate_latest(self.registry)


class _Snapshot:
    """Families computed before the scrape is rendered (a collector must not do I/O)."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def _database_families(conn: Connection, *, now: datetime) -> list[Metric]:
    by_status = GaugeMetricFamily(
        "paylinks_charges", "Charges by status and mode.", labels=["status", "livemode"]
    )
    for status, livemode, count in conn.execute(
        sa.select(charges.c.status, charges.c.livemode, sa.func.count()).group_by(
            charges.c.status, charges.c.livemode
        )
    ):
        by_status.add_metric([status, str(bool(livemode)).lower()], count)
    deliveries = GaugeMetricFamily(
        "paylinks_webhook_deliveries", "Webhook deliveries by outcome.", labels=["status"]
    )
    for status, count in conn.execute(
        sa.select(webhook_deliveries.c.status, sa.func.count()).group_by(
            webhook_deliveries.c.status
        )
    ):
        deliveries.add_metric([status], count)
    pending = webhook_deliveries.c.status == "pending"
    backlog, oldest = conn.execute(
        sa.select(sa.func.count(), sa.func.min(webhook_deliveries.c.created_at)).where(pending)
    ).one()
    age = (to_micros(now) - oldest) / 1e6 if oldest is not None else 0.0
    return [
        by_status,
        deliveries,
        GaugeMetricFamily(
            "paylinks_outbox_backlog", "Webhook deliveries waiting to be sent.", value=backlog
        ),
        GaugeMetricFamily(
            "paylinks_outbox_oldest_age_seconds",
            "Age of the oldest delivery still waiting (0 when none).",
            value=max(age, 0.0),
        ),
    ]


def _authorised(request: Request, token: str) -> bool:
    if not token:
        return True
    sent = request.headers.get("authorization", "")
    return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())


async def metrics(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    if not settings.metrics:
        return error_response(NotFound(f"the requested path {request.url.path} was not found"))
    if not _authorised(request, settings.metrics_token):
        return error_response(AuthenticationFailure("metrics need the metrics bearer token"))
    families = await runtime.db.read(_database_families, now=runtime.clock.now())
    snapshot = CollectorRegistry()
    snapshot.register(_Snapshot(families))
    body = request.app.state.request_metrics.exposition() + generate_latest(snapshot)
    return Response(body, 200, {"Cache-Control": "no-store"}, media_type=CONTENT_TYPE)
