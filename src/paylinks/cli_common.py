"""What every `paylinks` command shares: settings from options and the environment, the
database they name, and the account/mode options of per-account commands."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.engine import Connection

from paylinks import migrate
from paylinks.accounts import service as accounts
from paylinks.config import Settings
from paylinks.db import Database, is_sqlite_url, normalise_url

database_url_option = click.option(
    "--database-url", help="SQLAlchemy-style URL (default: a SQLite file under the data directory)."
)
account_option = click.option("--account", "account_id", required=True, help="acct_… id")
mode_option = click.option(
    "--mode", type=click.Choice(["test", "live"]), default="test", show_default=True
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def settings_from(**overrides: Any) -> Settings:
    """Settings from the environment, with the options given on the command line on top."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def open_database(database_url: str | None) -> Database:
    """The configured database, migrated when it is the embedded SQLite file."""
    settings = settings_from(database_url=database_url)
    url = normalise_url(settings.resolved_database_url)
    db = Database(url)
    if is_sqlite_url(url):
        migrate.upgrade(db.write_engine)
    return db


def principal_for(conn: Connection, account_id: str, mode: str) -> accounts.Principal:
    """Act as the account's secret key of `mode`."""
    found = [a for a, _ in accounts.list_accounts(conn) if a.id == account_id]
    if not found:
        raise click.ClickException(f"account {account_id} was not found")
    return accounts.Principal(found[0].pk, account_id, mode == "live", "secret", "")
