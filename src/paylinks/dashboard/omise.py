"""Developers → Omise: the account's connection to its own Omise account, where its live
payments go. Connecting or disconnecting decides where money goes, so it is done from a
live-mode session and only after the person at the keyboard proves again who they are (the
current live secret key, or the user's password), as rolling keys is."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from paylinks.dashboard.access import reauthenticated
from paylinks.dashboard.pages import MerchantVisit, page, redirect
from paylinks.upstream import connections
from paylinks.upstream.currencies import capability_currencies
from paylinks.upstream.omise_api import UpstreamRefused, check_keys


def routes() -> list[BaseRoute]:
    return [
        Route("/dashboard/developers/omise", page(omise_page), methods=["GET"]),
        Route("/dashboard/developers/omise/connect", page(connect), methods=["POST"]),
        Route("/dashboard/developers/omise/disconnect", page(disconnect), methods=["POST"]),
    ]


async def omise_page(
    visit: MerchantVisit, *, error: str | None = None, status: int = 200
) -> Response:
    found = await visit.runtime.db.read(
        connections.connection_of, account_pk=visit.session.account_pk
    )
    return visit.render(
        "omise.html",
        status=status,
        title="Omise",
        connection=found,
        error=error,
        saved=visit.request.query_params.get("saved"),
        api_url=visit.runtime.settings.omise_api_url,
        webhook_url=f"{visit.runtime.settings.public_url}/omise/webhooks/{visit.session.account_id}",
    )


async def _refusal(visit: MerchantVisit) -> Response | None:
    """The page to answer with when this form may not change the connection; None if it may."""
    if not visit.session.livemode:
        return await omise_page(
            visit, error="Switch to live mode to connect or disconnect Omise.", status=403
        )
    if not await reauthenticated(visit):
        message = "That did not match: enter the current live secret key or your password."
        return await omise_page(visit, error=message, status=403)
    return None


async def connect(visit: MerchantVisit) -> Response:
    refused = await _refusal(visit)
    if refused is not None:
        return refused
    runtime = visit.runtime
    public_key = visit.field("public_key").strip()
    secret_key = visit.field("secret_key").strip()
    try:
        capability = await check_keys(
            api_url=runtime.settings.omise_api_url, public_key=public_key, secret_key=secret_key
        )
    except UpstreamRefused as problem:
        return await omise_page(visit, error=f"Not connected: {problem.message}", status=400)
    await runtime.db.write(
        connections.connect,
        account_id=visit.session.account_id,
        public_key=public_key,
        secret_key=secret_key,
        sealing_key=await runtime.keyring.get(connections.SEALING_KEY),
        now=runtime.clock.now(),
        currencies=capability_currencies(capability),
        webhook_secret=visit.field("webhook_secret").strip() or None,
    )
    return redirect("/dashboard/developers/omise?saved=connected")


async def disconnect(visit: MerchantVisit) -> Response:
    refused = await _refusal(visit)
    if refused is not None:
        return refused
    await visit.runtime.db.write(connections.disconnect, account_id=visit.session.account_id)
    return redirect("/dashboard/developers/omise?saved=disconnected")
