"""`paylinks trigger KEY`: make a server produce one event from real test-mode objects, created
through the public API as a merchant and a customer would, to exercise a webhook handler."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import click

from paylinks.cli_common import api_options, mode_of
from paylinks.client import Client, PaylinksError

TRIGGERS = (
    "link.create",
    "link.update",
    "link.destroy",
    "charge.create",
    "charge.complete",
    "charge.failed",
)
LINK_TITLE = "Triggered by paylinks trigger"
SUCCESS_CARD = "4242424242424242"
DECLINED_CARD = "4111111111140011"  # the test processor: insufficient funds


@dataclass
class Report:
    """What a trigger did: the objects it made (by kind, the latest state) and the event keys."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    def note(self, kind: str, obj: dict[str, Any], what: str) -> None:
        self.objects[kind] = obj
        self.lines.append(f"{kind} {obj['id']} {what}")


def _card(number: str) -> dict[str, Any]:
    return {
        "name": "Paylinks Trigger",
        "number": number,
        "expiration_month": 12,
        "expiration_year": datetime.now(UTC).year + 5,
        "security_code": "123",
    }


def _make_link(api: Client, report: Report) -> dict[str, Any]:
    link = api.create_link(amount=100000, currency="thb", title=LINK_TITLE)
    report.note("link", link, "created")
    report.events.append("link.create")
    return link


def _trigger_link(api: Client, key: str, report: Report) -> None:
    link = _make_link(api, report)
    if key == "link.update":
        stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"
        updated = api.update_link(link["id"], description=f"Updated by paylinks trigger {stamp}")
        report.note("link", updated, "updated")
        report.events.append("link.update")
    elif key == "link.destroy":
        report.note("link", api.destroy_link(link["id"]), "destroyed")
        report.events.append("link.destroy")


def _trigger_charge(api: Client, key: str, report: Report) -> None:
    link = _make_link(api, report)
    token = api.create_token(_card(DECLINED_CARD if key == "charge.failed" else SUCCESS_CARD))
    report.note("token", token, "created")
    # Amount and currency come from the link.
    charge = api.create_charge(card=token["id"], link=link["id"])
    report.note("charge", charge, charge["status"])
    # The charge's events as the server recorded them, not as we expect them.
    report.events.extend(e["key"] for e in api.charge_events(charge["id"])["data"])


def run_trigger(api: Client, key: str, report: Report) -> None:
    """Create what produces `key`, noting each step in `report`. Raises `PaylinksError` when
    the API refuses a step, `click.ClickException` when `key` was not produced."""
    if key.startswith("link."):
        _trigger_link(api, key, report)
    else:
        _trigger_charge(api, key, report)
    if key not in report.events:
        raise click.ClickException(
            f"the server did not produce {key} (it produced {', '.join(report.events)})"
        )


@click.command()
@click.argument("key", type=click.Choice(TRIGGERS), metavar="KEY")
@api_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: objects, events.")
def trigger(key: str, api_url: str, secret_key: str, as_json: bool) -> None:
    """Make the server produce the event KEY from real test-mode objects.

    KEY is one of link.create, link.update, link.destroy, charge.create, charge.complete,
    charge.failed. Every step goes through the API: a link of 1,000.00 THB (then updated or
    deleted), and for charges a token of test card 4242 4242 4242 4242 (4111 1111 1114 0011,
    declined for insufficient funds, for charge.failed) charged against the link. Test mode only.
    """
    if mode_of(secret_key) != "test":
        raise click.ClickException(
            "trigger works in test mode only: this is a live secret key; use the account's "
            "skey_test_… key"
        )
    report = Report()
    try:
        with Client(api_url, secret_key) as api:
            run_trigger(api, key, report)
    except (PaylinksError, click.ClickException) as exc:
        for line in report.lines:  # what was made before the failure
            click.echo(line, err=True)
        if isinstance(exc, click.ClickException):
            raise
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps({**report.objects, "events": report.events}))
        return
    for line in report.lines:
        click.echo(line)
    click.echo(f"events: {', '.join(report.events)}")
