"""Views of the hosted page: counted once per visitor per link per day, without a write per
request (the probe inflated `views`, and with it conversion, by reloading a page).

A browser gets a day's cookie for the link's page; a client without cookies is recognised by a
keyed hash of its address and user agent, remembered in memory (`recent.RecentKeys`). Only a
first sighting writes.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.responses import Response

from paylinks.links import service as links_service
from paylinks.links.service import Link
from paylinks.runtime import Runtime

COOKIE = "paylinks_seen"
DAY_SECONDS = 86400


def _today(runtime: Runtime) -> str:
    return runtime.clock.now().strftime("%Y%m%d")


async def count_view(
    runtime: Runtime, *, link: Link, cookie: str | None, client: str, agent: str
) -> bool:
    """Count this visit unless the visitor was counted today; whether it was counted."""
    today = _today(runtime)
    if cookie == today:
        return False
    secret = await runtime.keyring.get("page-views")
    visitor = hmac.new(
        secret, f"{today}|{link.id}|{client}|{agent}".encode(), hashlib.sha256
    ).hexdigest()
    if not runtime.viewers.first_sighting(visitor):
        return False
    await runtime.db.write(links_service.record_view, link_pk=link.pk)
    return True


def remember(runtime: Runtime, response: Response, *, link: Link) -> Response:
    """The day's cookie, sent back only to this link's page."""
    response.set_cookie(
        COOKIE,
        _today(runtime),
        max_age=DAY_SECONDS,
        path=f"/pay/{link.id}",
        httponly=True,
        samesite="lax",
        secure=runtime.settings.public_url.startswith("https:"),
    )
    return response
