"""Every route of the dashboard, under /dashboard. Each area adds its pages here."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from paylinks.dashboard import (
    access,
    branding,
    charge_actions,
    developers,
    home,
    link_form,
    links_pages,
    omise,
    page_preview,
    settings,
)
from paylinks.dashboard.pages import MerchantVisit, page, static
from paylinks.errors import NotFound


def routes() -> list[BaseRoute]:
    return [
        Route("/dashboard", page(home.overview), methods=["GET"]),
        Route("/dashboard/sign-in", access.sign_in_page, methods=["GET"]),
        Route("/dashboard/sign-in", access.sign_in, methods=["POST"]),
        Route("/dashboard/sign-out", page(access.sign_out), methods=["POST"]),
        Route("/dashboard/mode", page(access.switch_mode), methods=["POST"]),
        Route("/dashboard/password", page(access.password_page), methods=["GET"]),
        Route("/dashboard/password", page(access.change_password), methods=["POST"]),
        Route("/dashboard/static/{name}", static, methods=["GET"]),
        *page_preview.routes(),  # before links_pages: /dashboard/links/new is not a link id
        *link_form.routes(),  # before links_pages: /dashboard/links/new is not a link id
        *links_pages.routes(),
        *charge_actions.routes(),
        *branding.routes(),
        *developers.routes(),
        *omise.routes(),
        *settings.routes(),
        # Last: any other dashboard path is an HTML 404 (after sign-in), never the API's JSON.
        Route("/dashboard/{rest:path}", page(missing), methods=["GET", "POST"]),
    ]


async def missing(_visit: MerchantVisit) -> Response:
    raise NotFound("no such page")
