"""The app factory and the whole route table."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from functools import cache
from importlib import resources
from typing import Any

import yaml
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from paylinks import edge, logs, recovery
from paylinks.accounts.service import find_principal
from paylinks.api.pipeline import endpoint, json_response
from paylinks.auth import Authenticator
from paylinks.capability import routes as capability
from paylinks.charges import routes as charges
from paylinks.checkout import authentication
from paylinks.checkout import pages as checkout_pages
from paylinks.checkout import routes as checkout
from paylinks.clock import Clock, SystemClock
from paylinks.config import Settings
from paylinks.dashboard.access import SIGN_IN_LIMITS
from paylinks.dashboard.routes import routes as dashboard_routes
from paylinks.db import Database
from paylinks.events import routes as events
from paylinks.keyring import Keyring
from paylinks.links import routes as links
from paylinks.ops import health, housekeeping, metrics
from paylinks.ops.metrics import RequestMetrics
from paylinks.ops.middleware import RequestIds
from paylinks.payments import omise_webhooks, settlement
from paylinks.payments import routes as payments
from paylinks.processors.sandbox import TestProcessor
from paylinks.receipts.mailer import mailer_of
from paylinks.recording import EventRecorder
from paylinks.refunds import routes as refunds
from paylinks.runtime import Runtime
from paylinks.search import routes as search
from paylinks.sources import routes as sources
from paylinks.testclock import routes as test_clock
from paylinks.tokens import routes as tokens
from paylinks.upstream.processor import LiveProcessors
from paylinks.web import RequestHandler
from paylinks.web.cors import BrowserCors
from paylinks.web.proxies import ClientAddresses, parse_networks
from paylinks.web.ratelimit import Limiter, Limits, build_limiter
from paylinks.web.recent import RecentKeys
from paylinks.webhooks import routes as webhooks
from paylinks.webhooks.worker import Worker

log = logging.getLogger("paylinks")
# Omise: what a shop's page calls from the payer's browser with the public key (Omise.js): the
# vault and /capability. CORS is answered there and nowhere else (web/cors.py).
BROWSER_PATHS = (
    "/tokens", "/tokens/{token_id}", "/sources", "/sources/{source_id}", "/capability",
)  # fmt: skip


@cache
def openapi_document() -> dict[str, Any]:
    text = resources.files("paylinks").joinpath("openapi.yaml").read_text("utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


async def openapi(_request: Request) -> Response:
    return json_response(openapi_document())


def resource(path: str, **handlers: RequestHandler) -> list[BaseRoute]:
    """One route per path (with and without a trailing slash: PHP and the Python SDK add one),
    dispatching on the method, so that a 405 lists every allowed method."""

    async def dispatch(request: Request) -> Response:
        # Starlette adds HEAD wherever GET is allowed; answer it with the GET handler.
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    methods = list(handlers)
    return [Route(p, dispatch, methods=methods) for p in (path, path + "/")]


def routes() -> list[BaseRoute]:
    """Every route of the API."""
    return [
        *resource("/links", GET=endpoint(links.list_links), POST=endpoint(links.create_link)),
        *resource(
            "/links/{link_id}",
            GET=endpoint(links.retrieve_link),
            PATCH=endpoint(links.update_link),
            DELETE=endpoint(links.delete_link),
        ),
        *resource("/links/{link_id}/charges", GET=endpoint(links.list_link_charges)),
        *resource("/links/{link_id}/stats", GET=endpoint(links.link_stats)),
        *resource("/search", GET=endpoint(search.search)),
        *resource(
            "/charges", GET=endpoint(charges.list_charges), POST=endpoint(payments.create_charge)
        ),
        *resource(
            "/charges/{charge_id}",
            GET=endpoint(charges.retrieve_charge),
            PATCH=endpoint(charges.update_charge),
        ),
        *resource("/charges/{charge_id}/events", GET=endpoint(events.list_charge_events)),
        *resource(
            "/charges/{charge_id}/refunds",
            GET=endpoint(refunds.list_charge_refunds),
            POST=endpoint(payments.create_refund),
        ),
        *resource(
            "/charges/{charge_id}/refunds/{refund_id}", GET=endpoint(refunds.retrieve_refund)
        ),
        *resource("/refunds", GET=endpoint(refunds.list_refunds)),
        *resource("/charges/{charge_id}/capture", POST=endpoint(payments.capture_charge)),
        *resource("/charges/{charge_id}/reverse", POST=endpoint(payments.reverse_charge)),
        *resource("/charges/{charge_id}/expire", POST=endpoint(payments.expire_charge)),
        *resource("/charges/{charge_id}/mark_as_paid", POST=endpoint(payments.mark_as_paid)),
        *resource("/charges/{charge_id}/mark_as_failed", POST=endpoint(payments.mark_as_failed)),
        # The test clock (a paylinks extension; test keys only).
        *resource("/test_clock", GET=endpoint(test_clock.retrieve_clock)),
        *resource("/test_clock/advance", POST=endpoint(test_clock.advance_clock)),
        *resource("/test_clock/reset", POST=endpoint(test_clock.reset_clock)),
        *resource("/events", GET=endpoint(events.list_events)),
        *resource("/events/{event_id}", GET=endpoint(events.retrieve_event)),
        *resource("/events/{event_id}/redeliver", POST=endpoint(webhooks.redeliver_event)),
        *resource(
            "/webhook_endpoints",
            GET=endpoint(webhooks.list_endpoints),
            POST=endpoint(webhooks.create_endpoint),
        ),
        *resource(
            "/webhook_endpoints/{endpoint_id}",
            GET=endpoint(webhooks.retrieve_endpoint),
            PATCH=endpoint(webhooks.update_endpoint),
            DELETE=endpoint(webhooks.delete_endpoint),
        ),
        *resource(
            "/webhook_endpoints/{endpoint_id}/roll_secret", POST=endpoint(webhooks.roll_secret)
        ),
        # Omise: tokens live on the vault host; this process serves both (omise-compat §1).
        *resource("/tokens", POST=endpoint(tokens.create_token, auth="public")),
        *resource("/tokens/{token_id}", GET=endpoint(tokens.retrieve_token, auth="public")),
        # Omise: the Python SDK sends the secret key to /sources, the Node SDK the public key.
        *resource("/sources", POST=endpoint(sources.create_source, auth="public")),
        *resource("/sources/{source_id}", GET=endpoint(sources.retrieve_source, auth="public")),
        Route("/sources/{source_id}/qr.{kind}", sources.source_qr, methods=["GET"]),
        # Omise: the SDKs' Capability sends the public key to the API host; a secret key works too.
        *resource("/capability", GET=endpoint(capability.retrieve_capability, auth="public")),
        # Omise's webhooks to paylinks, one endpoint per connected account (signed by Omise).
        Route("/omise/webhooks/{account_id}", omise_webhooks.receive, methods=["POST"]),
        # An offline Omise.js against this vault (a paylinks extension, for test keys).
        Route("/omise.js", tokens.omise_js, methods=["GET"]),
        *resource("/openapi.json", GET=openapi),
        *resource("/healthz", GET=health.healthz),
        *resource("/readyz", GET=health.readyz),
        *resource("/metrics", GET=metrics.metrics),
        # The hosted payment page (`payment_uri`): HTML, no API key; the link id is the key.
        *resource("/pay/{link_id}", GET=checkout.show_page, POST=checkout.pay_by_card),
        *resource(
            "/pay/{link_id}/promptpay", GET=checkout.promptpay_form, POST=checkout.pay_by_promptpay
        ),
        Route("/pay/{link_id}/logo", checkout.logo, methods=["GET"]),
        *resource("/pay/{link_id}/promptpay/{charge_id}", POST=checkout.complete_promptpay),
        # Where 3-D Secure sends the page's customer back (the charge's return_uri).
        *resource("/pay/{link_id}/return/{nonce}", GET=checkout.return_from_bank),
        # The QR page's script asks here whether the attempt is still pending.
        *resource("/pay/{link_id}/return/{nonce}/status", GET=checkout.attempt_status),
        Route("/static/checkout/{name}", checkout_pages.static, methods=["GET"]),
        # Test mode's 3-D Secure step (a charge's `authorize_uri`): HTML, like the payment page.
        *resource(
            "/payments/{charge_id}/authorize",
            GET=authentication.show_authentication,
            POST=authentication.submit_authentication,
        ),
        # The merchant dashboard: HTML pages with a session cookie, not the API.
        *dashboard_routes(),
    ]


def build_limits(settings: Settings, api: Limiter | None) -> Limits:
    """Every limiter, from the settings (`api` when the caller brings its own)."""
    redis = settings.redis_url

    def build(policy: str, prefix: str) -> Limiter | None:
        return build_limiter(policy, redis_url=redis, prefix=f"paylinks:{prefix}:")

    return Limits(
        api=api if api is not None else build(settings.rate_limits, "rl"),
        sign_in=build(SIGN_IN_LIMITS, "sign-in"),
        checkout_ip=build(settings.checkout_ip_limits, "checkout-ip"),
        checkout_link=build(settings.checkout_link_limits, "checkout-link"),
        checkout_card=build(settings.checkout_card_limits, "checkout-card"),
        checkout_account=build(settings.checkout_account_limits, "checkout-account"),
    )


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    database: Database | None = None,
    limiter: Limiter | None = None,
    processor: TestProcessor | None = None,
) -> Starlette:
    """The ASGI app. A `database` passed in is the caller's to close; one built here closes with
    the app."""
    owns_db = database is None
    db = database or Database(settings.resolved_database_url, pool_size=settings.db_pool_size)
    runtime = Runtime(
        settings=settings,
        db=db,
        clock=clock or SystemClock(),
        authenticator=Authenticator(
            lambda digest: db.read(find_principal, key_hash=digest),
            cache_seconds=settings.auth_cache_seconds,
        ),
        limits=build_limits(settings, limiter),
        clients=ClientAddresses(parse_networks(settings.trusted_proxies)),
        viewers=RecentKeys(),
        keyring=Keyring(db, master=settings.secret),
        test_processor=processor or TestProcessor(journal=settings.test_processor_journal),
        recorder=EventRecorder(public_url=settings.public_url),
        rebuild=recovery.rebuild,
    )
    live_processors = LiveProcessors(db, settings=settings, keyring=runtime.keyring)
    runtime.live_processors = live_processors

    @contextlib.asynccontextmanager
    async def lifespan(running: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        sweepers = [
            asyncio.create_task(housekeeping.run_forever(db, runtime.clock, stop)),
            asyncio.create_task(
                settlement.run_forever(
                    db,
                    processors=runtime.processor_of,
                    record=runtime.recorder,
                    clock=runtime.clock,
                    stop=stop,
                )
            ),
        ]
        if settings.smtp_url and settings.send_receipts:
            sweepers.append(
                asyncio.create_task(mailer_of(settings, db, runtime.clock).run_forever(stop))
            )
        worker = delivery = None
        if settings.deliver_webhooks:
            worker = Worker(
                db,
                clock=runtime.clock,
                allow_private=settings.allow_private_webhooks,
                lease_seconds=settings.webhook_lease_seconds,
                in_process=True,
            )
            delivery = asyncio.create_task(worker.run_forever(stop))
        yield
        stop.set()
        await asyncio.gather(*sweepers)
        if worker is not None and delivery is not None:
            await delivery
            await worker.close()
        await runtime.limits.close()
        await live_processors.close()
        if owns_db:
            db.close()

    request_metrics = RequestMetrics() if settings.metrics else None
    app = Starlette(
        routes=routes(),
        # Errors no route answered, in the language of the path's area (JSON or an HTML page).
        exception_handlers={HTTPException: edge.http_exception, Exception: edge.server_error},
        # RequestIds outermost, so that a refused request still has an id and an access line;
        # CORS next, so that a browser can read every answer on its paths, refusals included.
        middleware=[
            Middleware(RequestIds, metrics=request_metrics),
            Middleware(BrowserCors, templates=BROWSER_PATHS),
            Middleware(edge.ControlCharacterGuard),
        ],
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    app.state.runtime = runtime
    app.state.request_metrics = request_metrics
    return app


def create_app_from_env() -> Starlette:
    """Entry point for server worker processes: settings come from `PAYLINKS_*` variables."""
    settings = Settings()
    logs.configure(level=settings.log_level, fmt=settings.log_format)
    return create_app(settings)
