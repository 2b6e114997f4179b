"""The links list and each link's page: fields, QR code, edits, charges, performance."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import segno
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from paylinks.auth import Principal
from paylinks.charges import service as charges_service
from paylinks.dashboard import charts, metadata_rows, performance
from paylinks.dashboard.pages import HEADERS, MerchantVisit, money, page, redirect
from paylinks.errors import ApiError, BadRequest, NotFound
from paylinks.links import reads
from paylinks.links import search as links_search
from paylinks.links import service as links_service
from paylinks.links.service import Link
from paylinks.money import parse_currency
from paylinks.pagination import ListQuery
from paylinks.params import clamped_integer
from paylinks.search import service as search

PER_PAGE = 25
STATES = ("active", "used", "deleted", "multiple")


def routes() -> list[BaseRoute]:
    return [
        Route("/dashboard/links", page(list_page), methods=["GET"]),
        Route("/dashboard/links/{link_id}", page(link_page), methods=["GET"]),
        Route("/dashboard/links/{link_id}/edit", page(edit), methods=["POST"]),
        Route("/dashboard/links/{link_id}/delete", page(delete), methods=["POST"]),
        Route("/dashboard/links/{link_id}/qr.{kind}", page(qr_download), methods=["GET"]),
    ]


@dataclass(frozen=True)
class Shown:
    """A link as the dashboard shows it: where customers pay, the price, and the state."""

    link: Link
    uri: str
    price: str  # "฿1,000.00", or what the customer may pay: "฿100.00 – ฿5,000.00"
    state: str  # "active", or why it is closed: see `state_of`


def state_of(link: Link, now: datetime) -> str:
    """The link's state: active, or why customers can no longer pay it, from its own columns
    (in the order `Link.is_active` checks them)."""
    if link.deleted:
        return "deleted"
    if link.used and not link.multiple:
        return "paid"
    if link.expires_at is not None and link.expires_at <= now:
        return "expired"
    if link.usage_limit is not None and link.paid_count >= link.usage_limit:
        return "usage limit reached"
    return "active"


def price_of(link: Link) -> str:
    """The fixed amount, or the range the customer chooses in (the currency's own limits
    where the link sets none, as the payment page applies them)."""
    if not link.customer_decides:
        return money(link.amount, link.currency)
    currency = parse_currency(link.currency)
    low = link.amount_min if link.amount_min is not None else currency.minimum
    high = link.amount_max if link.amount_max is not None else currency.maximum
    return f"{money(low, link.currency)} – {money(high, link.currency)}"


def shown(visit: MerchantVisit, link: Link) -> Shown:
    uri = f"{visit.runtime.settings.public_url}/pay/{link.id}"
    return Shown(link, uri, price_of(link), state_of(link, visit.now()))


def _filters(visit: MerchantVisit) -> tuple[dict[str, str], str, int]:
    """The list's query: search filters (the API's /search ones), order, page."""
    q = visit.request.query_params
    filters = {name: "true" for name in STATES if q.get(name) == "on"}
    if q.get("currency"):
        filters["currency"] = q["currency"]
    if q.get("from") or q.get("to"):
        filters["created"] = f"{q.get('from', '')}..{q.get('to', '')}"
    order = "chronological" if q.get("sort") == "oldest" else "reverse_chronological"
    # A hand-edited page number is clamped, not an error: past the last page the list is empty.
    number = clamped_integer(q.get("page", "1"), low=1, high=search.MAX_PAGE, default=1)
    return filters, order, number


def _find(
    conn: Connection,
    *,
    principal: Principal,
    query: search.SearchQuery,
    conditions: list[sa.ColumnElement[bool]],
    text_match: str | None,
) -> tuple[list[links_service.Link], int]:
    return links_search.search_links(
        conn,
        principal=principal,
        conditions=conditions,
        text_match=text_match,
        reverse=query.order == "reverse_chronological",
        limit=query.per_page,
        offset=query.offset,
    )


async def list_page(visit: MerchantVisit) -> Response:
    filters, order, number = _filters(visit)
    text = visit.request.query_params.get("q", "")
    query = search.SearchQuery("link", text, filters, order, number, PER_PAGE)
    error = None
    db = visit.runtime.db
    try:
        conditions = search.link_conditions(query, now=visit.now())
        # Off the event loop: the list is a search, and counting its matches takes milliseconds
        # at 100,000 links even with no text (a thread hop is nothing next to a page).
        found, total = await db.read_offloaded(
            _find,
            principal=visit.principal,
            query=query,
            conditions=conditions,
            text_match=search.fts_match(text, db.dialect),
        )
    except ApiError as problem:  # a query past the limits, a bad date or currency in the filters
        found, total, error = [], 0, problem.message
    params = {k: v for k, v in visit.request.query_params.items() if k != "page"}
    pages = max(1, -(-total // PER_PAGE))
    return visit.render(
        "links_list.html",
        title="Links",
        rows=[shown(visit, link) for link in found],
        total=total,
        page_number=number,
        pages=pages,
        query=visit.request.query_params,
        states=STATES,
        error=error,
        page_url=lambda n: "/dashboard/links?" + urlencode({**params, "page": n}),
    )


def _details(conn: Connection, *, principal: Principal, link_id: str, now: Any) -> dict[str, Any]:
    link, stats = reads.link_stats(conn, principal=principal, link_id=link_id)
    query = ListQuery(100, 0, "reverse_chronological", None, None)
    found, total = charges_service.list_charges(
        conn, principal=principal, query=query, link_pk=link.pk
    )
    days = performance.daily(
        conn, principal=principal, since=now - timedelta(days=29), now=now, link_pk=link.pk
    )
    return {"link": link, "stats": stats, "charges": found, "charge_total": total, "days": days}


def _qr_data_uri(url: str) -> str:
    # A data: URI, which the page's CSP allows for images (no extra request, nothing external).
    return str(segno.make(url, error="m").svg_data_uri(scale=4, dark="#111", light="#fff"))


async def link_page(
    visit: MerchantVisit,
    *,
    error: str | None = None,
    status: int = 200,
    typed: dict[str, str] | None = None,
) -> Response:
    """The link's page; after a refused edit, with the `error` and the metadata rows as
    `typed`."""
    link_id = visit.path_param("link_id")
    if not link_id.startswith("payl_"):
        raise NotFound(f"no link {link_id}")
    details = await visit.runtime.db.read(
        _details, principal=visit.principal, link_id=link_id, now=visit.now()
    )
    link, stats = details["link"], details["stats"]
    view = shown(visit, link)
    rows = metadata_rows.rows_from_fields(typed) if typed else metadata_rows.rows_of(link.metadata)
    paid = stats.by_status.get("successful", 0)
    return visit.render(
        "link_page.html",
        status=status,
        title=link.title,
        shown=view,
        uri=view.uri,
        qr=_qr_data_uri(view.uri),
        conversion=f"{paid / stats.views:.0%}" if stats.views else "—",
        chart=charts.daily_chart(details["days"], title=f"Payments per day of {link.title}"),
        meta_rows=rows,
        error=error,
        **details,
    )


def _edit(
    conn: Connection, *, visit: MerchantVisit, description: str | None, metadata: dict[str, Any]
) -> None:
    links_service.update_link(
        conn,
        principal=visit.principal,
        link_id=visit.path_param("link_id"),
        description=description,
        metadata=metadata,
        now=visit.now(),
        record=visit.runtime.recorder,
    )


async def edit(visit: MerchantVisit) -> Response:
    typed = metadata_rows.fields(visit.form) if visit.form is not None else {}
    try:
        metadata = metadata_rows.metadata_of(typed)
    except ApiError as problem:
        return await link_page(visit, error=problem.message, status=400, typed=typed)
    description = visit.field("description").strip()
    try:
        await visit.runtime.db.write(
            _edit, visit=visit, description=description or None, metadata=metadata
        )
    except BadRequest as problem:  # e.g. a deleted link
        return await link_page(visit, error=problem.message, status=400, typed=typed)
    return redirect(f"/dashboard/links/{visit.path_param('link_id')}")


async def delete(visit: MerchantVisit) -> Response:
    if visit.field("confirm") != "yes":
        return await link_page(visit, error="Tick the box to confirm the deletion.", status=400)
    await visit.runtime.db.write(
        links_service.delete_link,
        principal=visit.principal,
        link_id=visit.path_param("link_id"),
        now=visit.now(),
        record=visit.runtime.recorder,
    )
    return redirect(f"/dashboard/links/{visit.path_param('link_id')}")


async def qr_download(visit: MerchantVisit) -> Response:
    kind = visit.path_param("kind")
    link = await visit.runtime.db.read(
        links_service.get_link, principal=visit.principal, link_id=visit.path_param("link_id")
    )
    if kind not in ("png", "svg"):
        raise NotFound("QR codes are png or svg")
    code = segno.make(f"{visit.runtime.settings.public_url}/pay/{link.id}", error="m")
    if kind == "svg":
        body, media = code.svg_inline(scale=8).encode(), "image/svg+xml"
    else:
        body, media = code.png_data_uri(scale=8).split(",", 1)[1].encode(), "image/png"
        body = base64.b64decode(body)
    headers = {**HEADERS, "Content-Disposition": f'attachment; filename="{link.id}.{kind}"'}
    return Response(body, 200, headers, media_type=media)
