"""`paylinks users …`: the people who sign in to the dashboard with an e-mail and a password."""

from __future__ import annotations

import sys

import click

from paylinks.cli_common import database_url_option, open_database
from paylinks.clock import SystemClock
from paylinks.dashboard import users
from paylinks.errors import ApiError

MIN = users.MIN_PASSWORD


@click.group(name="users")
def users_group() -> None:
    """Dashboard users (e-mail and password), each of one account."""


@users_group.command("create")
@click.option("--account", "account_id", required=True, help="acct_… id")
@click.option("--email", required=True)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
@database_url_option
def users_create(
    account_id: str, email: str, password_stdin: bool, database_url: str | None
) -> None:
    """Let someone sign in to the account's dashboard (passwords are stored as scrypt hashes)."""
    from paylinks.accounts import service as accounts

    password = _read_password(password_stdin)
    db = open_database(database_url)
    try:
        with db.transaction() as conn:
            found = [a for a, _ in accounts.list_accounts(conn) if a.id == account_id]
            if not found:
                raise click.ClickException(f"account {account_id} was not found")
            user = users.create_user(
                conn,
                account_pk=found[0].pk,
                email=email,
                password=password,
                now=SystemClock().now(),
            )
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        db.close()
    click.echo(f"{user.id}  {user.email} can now sign in at /dashboard")


@users_group.command("set-password")
@click.option("--email", required=True)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
@database_url_option
def users_set_password(email: str, password_stdin: bool, database_url: str | None) -> None:
    """Give a user a new password (and lift a sign-in lock); every session of the user ends."""
    password = _read_password(password_stdin)
    db = open_database(database_url)
    try:
        stored = users.new_password_hash(password)
        with db.transaction() as conn:
            user = users.find_user(conn, email=email).user
            users.set_password(conn, user_pk=user.pk, password_hash=stored)
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        db.close()
    click.echo(f"{user.email} has a new password; their sessions were signed out")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(
        click.prompt(
            f"Password (at least {MIN} characters)", hide_input=True, confirmation_prompt=True
        )
    )
