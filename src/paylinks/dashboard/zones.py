"""The account's time zone in the dashboard: times shown in it, with the zone's abbreviation
("2026-12-03 14:05 JST"), and the times a merchant types (`datetime-local` fields, which
carry no zone) read in it. Stored times stay UTC; only what a person reads or types is local."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, available_timezones

DEFAULT = "Asia/Bangkok"
# What `<input type="datetime-local">` sends: minutes, or seconds when a step asks for them.
_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?")


@functools.cache
def names() -> tuple[str, ...]:
    """The zones a merchant may choose: IANA's Area/Location names, and UTC (zoneinfo also
    knows legacy aliases such as "EST5EDT", which nobody needs to pick)."""
    found = {name for name in available_timezones() if "/" in name and not name.startswith("Etc/")}
    return tuple(sorted(found | {"UTC"}))


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


@functools.cache
def zone_named(name: str | None) -> ZoneInfo:
    """The account's zone; the default for NULL (or a name this system's tzdata lacks, so that
    a page never fails over a setting)."""
    return ZoneInfo(name if name and name in _known() else DEFAULT)


def abbreviation(local: datetime) -> str:
    """The zone's abbreviation at that moment ("JST", "EST"). tzdata writes zones without a
    common one as a bare offset ("+07" for Bangkok since 2017): shown as "UTC+07"."""
    name = local.tzname() or ""
    return f"UTC{name}" if name[:1] in "+-" else name


def shown(value: datetime, zone: ZoneInfo) -> str:
    """A stored (UTC) time as the dashboard writes it: "2026-12-03 14:05 UTC+07"."""
    local = value.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {abbreviation(local)}"


def from_local(text: str, zone: ZoneInfo) -> datetime:
    """A `datetime-local` value ("2026-12-31T23:59") as a moment in the account's zone, in UTC.
    ValueError if it is not one. A wall time skipped by a DST change is read with the offset
    before it (PEP 495's fold=0); Asia/Bangkok has none."""
    if not _LOCAL.fullmatch(text):
        raise ValueError(text)
    return datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC)


def to_local(value: datetime, zone: ZoneInfo) -> str:
    """A stored time as a `datetime-local` field's value, in the account's zone."""
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
