"""What every `paylinks` command shares: settings from options and the environment, the
database they name, and the account/mode options of per-account commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from sqlalchemy.engine import Connection

from paylinks import migrate
from paylinks.accounts import service as accounts
from paylinks.auth import Principal
from paylinks.config import Settings
from paylinks.db import Database, is_sqlite_url, normalise_url

F = TypeVar("F", bound=Callable[..., Any])

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


def principal_for(conn: Connection, account_id: str, mode: str) -> Principal:
    """Act as the account's secret key of `mode`."""
    found = [a for a, _ in accounts.list_accounts(conn) if a.id == account_id]
    if not found:
        raise click.ClickException(f"account {account_id} was not found")
    return Principal(found[0].pk, account_id, mode == "live", "secret", "")


# Commands that talk to a running server over the API (not to the database).


def mode_of(secret_key: str) -> str:
    """`test` or `live`, from the key's prefix (`skey_test_…` or `skey_…`)."""
    if secret_key.startswith("skey_test_"):
        return "test"
    if secret_key.startswith("skey_"):
        return "live"
    raise click.BadParameter(
        "must be a secret key (skey_test_… or skey_…)", param_hint="'--secret-key'"
    )


def api_options(command: F) -> F:
    """--api-url and --secret-key, for commands that work through the API of a running server."""
    command = click.option(
        "--secret-key",
        envvar="PAYLINKS_SECRET_KEY",
        show_envvar=True,
        required=True,
        help="The account's secret key.",
    )(command)
    return click.option(
        "--api-url",
        envvar="PAYLINKS_API_URL",
        show_envvar=True,
        default="http://127.0.0.1:8000",
        show_default=True,
        help="The paylinks server.",
    )(command)
