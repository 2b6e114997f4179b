"""Creating a link, fixed-amount or customer-decides-amount, with a preview."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    return []
