"""The dashboard's front page (the overview issue fills it with revenue and top links)."""

from __future__ import annotations

from starlette.responses import Response

from paylinks.dashboard.pages import Visit


async def overview(visit: Visit) -> Response:
    return visit.render("home.html", title="Overview")
