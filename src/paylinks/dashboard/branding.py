"""The payment page's design per account: display name, logo, brand colour, support e-mail."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    return []
