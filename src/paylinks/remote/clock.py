"""`paylinks clock …`: a test-mode account's test clock on a running server (through its API):
`show`, `advance 3d`, `reset`. A paylinks extension; see `testclock`."""

from __future__ import annotations

import re

import click

from paylinks.cli_common import api_options
from paylinks.remote import output
from paylinks.remote.commands import connected, json_option

UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"([0-9]{1,9})([wdhms])")


def parse_duration(text: str) -> int:
    """Seconds in `3d`, `1d12h`, `90m`, `45s`, `2w` or a bare number of seconds."""
    text = text.strip().lower()
    if text.isascii() and text.isdigit():
        seconds = int(text)
    else:
        parts = _PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise click.BadParameter(f"{text!r}: write a duration like 3d, 12h, 1d12h or 90m")
        seconds = sum(int(number) * UNITS[unit] for number, unit in parts)
    if seconds <= 0:
        raise click.BadParameter("the clock moves forward only: give a positive duration")
    return seconds


@click.group(name="clock")
def clock_group() -> None:
    """The test clock of the key's account (test keys only)."""


@clock_group.command("show")
@api_options
@json_option
def clock_show(api_url: str, secret_key: str, as_json: bool) -> None:
    """How far the account's clock is ahead, and its time."""
    with connected(api_url, secret_key) as api:
        output.show_object(api.test_clock(), as_json=as_json)


@clock_group.command("advance")
@api_options
@click.argument("duration")
@json_option
def clock_advance(api_url: str, secret_key: str, duration: str, as_json: bool) -> None:
    """Move the clock forward by DURATION (3d, 12h, 1d12h, 90m, 45s): what expires by then has
    expired when this returns."""
    seconds = parse_duration(duration)
    with connected(api_url, secret_key) as api:
        output.show_object(api.advance_test_clock(seconds), as_json=as_json)


@clock_group.command("reset")
@api_options
@json_option
def clock_reset(api_url: str, secret_key: str, as_json: bool) -> None:
    """Back to real time."""
    with connected(api_url, secret_key) as api:
        output.show_object(api.reset_test_clock(), as_json=as_json)
