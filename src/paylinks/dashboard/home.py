"""The overview: revenue (the page's largest figure), payments, failed payments and refunds
over the last 7, 30 or 90 days, a chart of payments and revenue per day, and the top links by
revenue and by conversion."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection
from starlette.responses import Response

from paylinks.auth import Principal
from paylinks.dashboard import charts, performance
from paylinks.dashboard.pages import MerchantVisit

PERIODS = (7, 30, 90)


def _overview(
    conn: Connection, *, principal: Principal, days: int, now: datetime
) -> dict[str, Any]:
    since = now - timedelta(days=days - 1)
    since = since.replace(hour=0, minute=0, second=0, microsecond=0)
    ranked = performance.paying_links(conn, principal=principal, since=since)
    totals = performance.totals(conn, principal=principal, since=since)
    currency = totals.main_currency
    return {
        "totals": totals,
        "series": performance.daily(
            conn, principal=principal, since=since, now=now, currency=currency
        ),
        "by_revenue": ranked[:5],
        "by_conversion": sorted(ranked, key=lambda r: r.conversion, reverse=True)[:5],
    }


async def overview(visit: MerchantVisit) -> Response:
    asked = visit.request.query_params.get("days", "30")
    days = next((p for p in PERIODS if str(p) == asked), 30)  # only the periods offered
    found = await visit.runtime.db.read(
        _overview, principal=visit.principal, days=days, now=visit.now()
    )
    currency = found["totals"].main_currency
    chart = charts.daily_chart(
        found["series"], title=f"Payments and revenue per day, last {days} days", currency=currency
    )
    return visit.render(
        "home.html",
        title="Overview",
        days=days,
        periods=PERIODS,
        chart=chart,
        chart_currency=currency,
        **found,
    )
