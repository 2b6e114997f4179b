"""`paylinks accounts connect-omise` and `disconnect-omise`: where an account's live payments
go. The keys are checked with Omise before anything is stored; the secret key is sealed and
only its last four characters are ever shown again."""

from __future__ import annotations

import asyncio

import click

from paylinks.cli_common import database_url_option, open_database, settings_from
from paylinks.clock import SystemClock
from paylinks.errors import NotFound
from paylinks.keyring import installation_key
from paylinks.upstream import connections
from paylinks.upstream.currencies import capability_currencies
from paylinks.upstream.omise_api import UpstreamRefused, check_keys


@click.command("connect-omise")
@click.argument("account_id")
@click.option("--public-key", required=True, help="The Omise account's public key (pkey_…).")
@click.option(
    "--secret-key",
    envvar="OMISE_SECRET_KEY",
    show_envvar=True,
    prompt=True,
    hide_input=True,
    help="The Omise account's secret key (skey_…); asked for when not given, so that it stays "
    "out of the shell's history.",
)
@click.option(
    "--webhook-secret",
    envvar="OMISE_WEBHOOK_SECRET",
    show_envvar=True,
    default=None,
    help="The secret Omise signs webhooks with (Omise dashboard: Webhooks). Without it, Omise's "
    "webhooks to paylinks are refused and the sweeper alone reconciles pending charges.",
)
@database_url_option
def connect_omise(
    account_id: str,
    public_key: str,
    secret_key: str,
    webhook_secret: str | None,
    database_url: str | None,
) -> None:
    """Send ACCOUNT_ID's live payments to its own Omise account (replacing any earlier one)."""
    settings = settings_from(database_url=database_url)
    public_key, secret_key = public_key.strip(), secret_key.strip()
    try:
        capability = asyncio.run(
            check_keys(api_url=settings.omise_api_url, public_key=public_key, secret_key=secret_key)
        )
    except UpstreamRefused as refused:
        raise click.ClickException(f"not connected: {refused.message}") from None
    db = open_database(database_url)
    try:
        with db.transaction() as conn:
            key = installation_key(conn, master=settings.secret, name=connections.SEALING_KEY)
            made = connections.connect(
                conn, account_id=account_id, public_key=public_key, secret_key=secret_key,
                sealing_key=key, now=SystemClock().now(),
                currencies=capability_currencies(capability),
                webhook_secret=(webhook_secret or "").strip() or None,
            )  # fmt: skip
    except NotFound as exc:
        raise click.ClickException(exc.message) from None
    finally:
        db.close()
    click.echo(
        f"{account_id}: connected to Omise at {settings.omise_api_url} "
        f"({made.shown_public_key}, {made.shown_secret_key})"
    )
    hook = f"{settings.public_url}/omise/webhooks/{account_id}"
    if made.webhook_secret_sealed is None:
        click.echo(f"No webhook secret given: Omise's webhooks to {hook} will be refused.")
    else:
        click.echo(f"In Omise's dashboard, set the webhook endpoint to {hook}")
    if public_key.startswith("pkey_test_"):
        click.echo("These are Omise test keys: live payments will go to Omise's test mode.")


@click.command("disconnect-omise")
@click.argument("account_id")
@database_url_option
def disconnect_omise(account_id: str, database_url: str | None) -> None:
    """Stop ACCOUNT_ID's live payments now, and forget its Omise keys."""
    db = open_database(database_url)
    try:
        with db.transaction() as conn:
            had = connections.disconnect(conn, account_id=account_id)
    except NotFound as exc:
        raise click.ClickException(exc.message) from None
    finally:
        db.close()
    click.echo(f"{account_id}: {'disconnected from Omise' if had else 'was not connected'}")
