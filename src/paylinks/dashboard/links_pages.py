"""The links list and each link's page: fields, QR code, edits, charges, performance."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    return []
