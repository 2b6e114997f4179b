"""Time: an injectable clock, and the ISO 8601 forms the API reads and writes."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Protocol

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock for tests: stands still until told to move."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


def monotonic() -> float:
    return time.monotonic()


def format_time(moment: datetime | None) -> str | None:
    """Omise's wire form: UTC, whole seconds, `Z`."""
    if moment is None:
        return None
    return _format(moment)


@lru_cache(maxsize=4096)
def _format(moment: datetime) -> str:
    # Cached: a page of links formats the same few instants (now, the epoch) many times.
    m = moment.astimezone(UTC)
    # Not strftime("%Y"): it does not zero-pad years before 1000.
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_time(value: str, *, end_of_day: bool = False) -> datetime:
    """An ISO 8601 time (offset or `Z`; naive means UTC) or a bare date; ValueError otherwise.

    A bare date is the start of that day, or its last microsecond when `end_of_day` (so that
    `to=2026-03-01` includes the whole day).
    """
    text = value.strip()
    if _DATE_ONLY.match(text):
        day = date.fromisoformat(text)
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return moment + timedelta(days=1, microseconds=-1) if end_of_day else moment
    if not re.match(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}", text):
        raise ValueError(value)
    moment = datetime.fromisoformat(text[:10] + "T" + text[11:].replace("z", "Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_micros(moment: datetime) -> int:
    """A time as integer microseconds since the epoch (how the database stores times)."""
    delta = moment.astimezone(UTC) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int | None) -> datetime | None:
    if micros is None:
        return None
    return EPOCH + timedelta(microseconds=micros)
