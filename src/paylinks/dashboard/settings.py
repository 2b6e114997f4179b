"""The account's settings that are the dashboard's own: the time zone its times are shown in
(and the times typed into its forms are read in)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from paylinks.accounts.service import set_time_zone
from paylinks.dashboard import zones
from paylinks.dashboard.pages import MerchantVisit, page, redirect
from paylinks.errors import BadRequest


def routes() -> list[BaseRoute]:
    return [
        Route("/dashboard/settings", page(form_page), methods=["GET"]),
        Route("/dashboard/settings", page(save), methods=["POST"]),
    ]


def _render(
    visit: MerchantVisit, chosen: str, *, error: str | None = None, status: int = 200
) -> Response:
    return visit.render(
        "settings.html",
        status=status,
        title="Settings",
        chosen=chosen,
        names=zones.names(),
        default=zones.DEFAULT,
        saved=visit.request.query_params.get("saved") == "1",
        error=error,
        now=visit.now(),
    )


async def form_page(visit: MerchantVisit) -> Response:
    return _render(visit, visit.session.time_zone or zones.DEFAULT)


async def save(visit: MerchantVisit) -> Response:
    chosen = visit.field("time_zone").strip()
    # The default is stored as NULL, so that an account follows it if it ever changes.
    stored = None if chosen in ("", zones.DEFAULT) else chosen
    try:
        await visit.runtime.db.write(
            set_time_zone, account_pk=visit.session.account_pk, time_zone=stored
        )
    except BadRequest as problem:
        return _render(visit, chosen, error=problem.message, status=400)
    return redirect("/dashboard/settings?saved=1")
