"""The `paylinks` command: serve, accounts, db, worker; webhooks and the developer tools live
in their own modules. Builds `Settings` once and passes them down."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from paylinks import migrate
from paylinks.accounts import service as accounts
from paylinks.cli_common import database_url_option, open_database, settings_from
from paylinks.clock import SystemClock, format_time
from paylinks.config import Settings
from paylinks.dashboard.commands import users_group
from paylinks.db import Database
from paylinks.remote.clock import clock_group
from paylinks.remote.commands import charges_group, links_group
from paylinks.remote.listen import listen
from paylinks.remote.trigger import trigger
from paylinks.upstream.commands import connect_omise, disconnect_omise
from paylinks.web.ratelimit import parse_policy
from paylinks.webhooks.commands import webhooks_group


def _account_json(account: accounts.Account, keys: dict[str, accounts.KeyPair]) -> dict[str, Any]:
    return {
        "object": "account",
        "id": account.id,
        "name": account.name,
        "created_at": format_time(account.created_at),
        "keys": {
            mode: {"public_key": pair.public_key, "secret_key": pair.secret_key}
            for mode, pair in keys.items()
        },
    }


@click.group()
@click.version_option(package_name="paylinks")
def main() -> None:
    """paylinks: a self-hosted payment links server that speaks the Omise API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@database_url_option
@click.option("--public-url", help="Base of every payment_uri (default http://HOST:PORT).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(
    host: str, port: int, database_url: str | None, public_url: str | None, workers: int
) -> None:
    """Apply migrations (SQLite) and serve the API."""
    settings = settings_from(database_url=database_url, public_url=public_url)
    if public_url is None and "PAYLINKS_PUBLIC_URL" not in os.environ:
        settings = settings.model_copy(update={"public_url": f"http://{host}:{port}"})
    try:
        windows = parse_policy(settings.rate_limits)
    except ValueError as exc:
        raise click.UsageError(f"PAYLINKS_RATE_LIMITS: {exc}") from None
    if workers > 1 and windows and not settings.redis_url:
        raise click.UsageError(
            f"--workers {workers} needs PAYLINKS_REDIS_URL: rate limits kept in each process's "
            "memory would let every key through once per process. Set PAYLINKS_REDIS_URL "
            "(e.g. redis://127.0.0.1:6379/0) or PAYLINKS_RATE_LIMITS=off."
        )
    db = Database(settings.resolved_database_url)
    try:
        _prepare_database(db, settings)
    finally:
        db.close()
    from paylinks import logs
    from paylinks.server import serve as run_server

    if settings.metrics and workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker process writes its counters here; any of them answers /metrics for all.
        import tempfile

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="paylinks-metrics-")

    logs.configure(level=settings.log_level, fmt=settings.log_format)
    run_server(settings, host=host, port=port, workers=workers)


def refuse_unsafe(settings: Settings, db: Database) -> None:
    """In live mode, stop with every unsafe setting named (see `safety`)."""
    if not settings.live_mode:
        return
    from paylinks.ops import safety

    found = safety.problems(settings, db)
    if found:
        listed = "\n".join(f"  - {problem}" for problem in found)
        raise click.ClickException(f"PAYLINKS_LIVE_MODE is on, but:\n{listed}")
    for line in safety.live_accounts(db):
        click.echo(line)


def _prepare_database(db: Database, settings: Settings) -> None:
    if db.is_sqlite:
        migrate.upgrade(db.write_engine)
    elif not migrate.is_current(db.write_engine):
        raise click.ClickException(
            "the PostgreSQL schema is not at the current revision; run `paylinks db upgrade` "
            "first (migrations first, then processes)"
        )
    refuse_unsafe(settings, db)
    with db.transaction() as conn:
        if accounts.count_accounts(conn):
            return
        account, keys = accounts.create_account(
            conn, name="Default account", now=SystemClock().now()
        )
    test = keys["test"]
    click.echo(f'Created account {account.id} ("{account.name}"). Its test keys:\n')
    click.echo(f"  public key  {test.public_key}")
    click.echo(f"  secret key  {test.secret_key}\n")
    click.echo("Secret keys are stored hashed and shown only now. Try:\n")
    click.echo(
        f"  curl {settings.public_url}/links -u {test.secret_key}: \\\n"
        '    -d amount=100000 -d currency=thb -d "title=Product Purchase" -d multiple=true\n'
    )


@main.group(name="accounts")
def accounts_group() -> None:
    """Create and list accounts; roll their keys."""


@accounts_group.command("create")
@click.option("--name", required=True)
@database_url_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def accounts_create(name: str, database_url: str | None, as_json: bool) -> None:
    """Create an account with test and live key pairs (secret keys are shown once)."""
    db = open_database(database_url)
    with db.transaction() as conn:
        account, keys = accounts.create_account(conn, name=name, now=SystemClock().now())
    db.close()
    payload = _account_json(account, keys)
    if as_json:
        click.echo(json.dumps(payload))
        return
    click.echo(f"{account.id}  {account.name}")
    for mode, pair in keys.items():
        click.echo(f"  {mode}: public {pair.public_key}\n        secret {pair.secret_key}")


@accounts_group.command("list")
@database_url_option
@click.option("--json", "as_json", is_flag=True)
def accounts_list(database_url: str | None, as_json: bool) -> None:
    """List accounts with their public keys."""
    db = open_database(database_url)
    with db.snapshot() as conn:
        rows = accounts.list_accounts(conn)
    db.close()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "object": "list",
                    "data": [
                        {
                            "object": "account",
                            "id": a.id,
                            "name": a.name,
                            "created_at": format_time(a.created_at),
                            "public_keys": keys,
                        }
                        for a, keys in rows
                    ],
                    "total": len(rows),
                }
            )
        )
        return
    for account, keys in rows:
        click.echo(
            f"{account.id}  {account.name}  "
            f"test {keys.get('test', '-')}  live {keys.get('live', '-')}"
        )


@accounts_group.command("roll-keys")
@click.argument("account_id")
@click.option("--mode", type=click.Choice(["test", "live"]), default="test", show_default=True)
@database_url_option
@click.option("--json", "as_json", is_flag=True)
def accounts_roll_keys(account_id: str, mode: str, database_url: str | None, as_json: bool) -> None:
    """Revoke a mode's key pair and issue a new one (running servers notice within seconds)."""
    from paylinks.errors import NotFound

    db = open_database(database_url)
    try:
        with db.transaction() as conn:
            pair = accounts.roll_keys(
                conn, account_id=account_id, livemode=mode == "live", now=SystemClock().now()
            )
    except NotFound as exc:
        raise click.ClickException(exc.message) from None
    finally:
        db.close()
    if as_json:
        click.echo(json.dumps({"public_key": pair.public_key, "secret_key": pair.secret_key}))
    else:
        click.echo(f"{mode}: public {pair.public_key}\n      secret {pair.secret_key}")


@accounts_group.command("set")
@click.argument("account_id")
@click.option(
    "--three-d-secure",
    type=click.Choice(["on", "off"]),
    required=True,
    help="Ask card customers on the hosted page to confirm with their bank.",
)
@database_url_option
def accounts_set(account_id: str, three_d_secure: str, database_url: str | None) -> None:
    """Change an account's settings (running servers use them on the next payment)."""
    from paylinks.errors import NotFound

    db = open_database(database_url)
    try:
        with db.transaction() as conn:
            accounts.set_three_d_secure(conn, account_id=account_id, enabled=three_d_secure == "on")
    except NotFound as exc:
        raise click.ClickException(exc.message) from None
    finally:
        db.close()
    click.echo(f"{account_id}: 3-D Secure {three_d_secure} on the hosted payment page")


@main.group(name="db")
def db_group() -> None:
    """Schema migrations."""


@db_group.command("upgrade")
@database_url_option
def db_upgrade(database_url: str | None) -> None:
    """Apply every pending migration (run before starting new server processes)."""
    settings = settings_from(database_url=database_url)
    db = Database(settings.resolved_database_url)
    migrate.upgrade(db.write_engine)
    click.echo(f"schema at revision {migrate.current_revision(db.write_engine)}")
    db.close()


@db_group.command("current")
@database_url_option
def db_current(database_url: str | None) -> None:
    """Print the schema revision and whether it is the newest."""
    settings = settings_from(database_url=database_url)
    db = Database(settings.resolved_database_url)
    current = migrate.current_revision(db.write_engine)
    db.close()
    head = migrate.head_revision()
    click.echo(f"{current or 'empty'} (newest: {head})")
    if current != head:
        sys.exit(1)


@main.command()
@database_url_option
def worker(database_url: str | None) -> None:
    """Deliver webhooks (run any number of these beside `serve`, on any machine)."""
    import asyncio
    import functools
    import signal

    from paylinks import logs
    from paylinks.clock import SystemClock
    from paylinks.keyring import Keyring
    from paylinks.ops import housekeeping
    from paylinks.payments import settlement
    from paylinks.processors.sandbox import TestProcessor
    from paylinks.receipts.mailer import mailer_of
    from paylinks.recording import EventRecorder
    from paylinks.runtime import processor_of
    from paylinks.upstream.processor import LiveProcessors
    from paylinks.webhooks.worker import Worker

    settings = settings_from(database_url=database_url)
    logs.configure(level=settings.log_level, fmt=settings.log_format)
    db = open_database(database_url)
    try:
        refuse_unsafe(settings, db)
    except click.ClickException:
        db.close()
        raise

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        delivery = Worker(
            db,
            allow_private=settings.allow_private_webhooks,
            lease_seconds=settings.webhook_lease_seconds,
        )
        clock = SystemClock()
        # Its own test processor knows no calls: a test-mode charge interrupted in a `serve`
        # process is failed (no money moved). Live charges are asked of the account's Omise.
        processor = TestProcessor(journal=settings.test_processor_journal)
        live = LiveProcessors(db, settings=settings, keyring=Keyring(db, master=settings.secret))
        processors = functools.partial(processor_of, test=processor, live=live)

        sweepers = [
            asyncio.create_task(housekeeping.run_forever(db, clock, stop)),
            asyncio.create_task(
                settlement.run_forever(
                    db,
                    processors=processors,
                    record=EventRecorder(public_url=settings.public_url),
                    clock=clock,
                    stop=stop,
                )
            ),
        ]
        if settings.smtp_url:
            sweepers.append(asyncio.create_task(mailer_of(settings, db, clock).run_forever(stop)))
        try:
            await delivery.run_forever(stop)
        finally:
            await asyncio.gather(*sweepers)
            await delivery.close()
            await live.close()

    click.echo("delivering webhooks; Ctrl-C stops")
    try:
        asyncio.run(run())
    finally:
        db.close()


accounts_group.add_command(connect_omise)
accounts_group.add_command(disconnect_omise)
main.add_command(webhooks_group)
main.add_command(users_group)
main.add_command(listen)
main.add_command(trigger)
main.add_command(links_group)
main.add_command(charges_group)
main.add_command(clock_group)
