"""Log lines: card-number-like digit runs are redacted whatever separates the digits, and no line
grows past a few kilobytes, whatever the request or the error held."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from paylinks.logs import (
    MAX_ERROR_CHARS,
    MAX_FIELD_CHARS,
    JsonFormatter,
    TextFormatter,
    clip,
    clip_traceback,
    redact,
)


@pytest.mark.parametrize(
    "number",
    [
        "4242.4242.4242.4242",
        "4242_4242_4242_4242",
        "4242+4242+4242+4242",  # a form-encoded space
        "3782.822463.10005",  # American Express: 15 digits in 4-6-5 groups
        "3782_822463_10005",
        "3782+822463+10005",
    ],
)
def test_card_numbers_with_any_separator_are_redacted(number: str) -> None:
    assert redact(f"/tokens/{number}/x") == "/tokens/[redacted]/x"


@pytest.fixture(params=["json", "text"])
def logged(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """A logger writing through the app's formatter (JSON, then text) into a buffer."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        JsonFormatter() if request.param == "json" else TextFormatter("%(message)s")
    )
    logger = logging.getLogger("paylinks.test_logs")
    logger.addHandler(handler)
    logger.propagate = False
    yield out
    logger.removeHandler(handler)
    logger.propagate = True


def test_a_three_megabyte_message_makes_a_short_line(logged: io.StringIO) -> None:
    huge = "word " * 600_000  # 3 MB: a search query of 600,000 words
    logging.getLogger("paylinks.test_logs").warning(
        "slow search for %s", huge, extra={"fields": {"query": huge, "status": 200}}
    )
    (line,) = logged.getvalue().splitlines()
    assert len(line) < 2 * MAX_FIELD_CHARS + 500
    assert "characters cut]" in line and line.startswith(("{", "slow search for word"))
    if line.startswith("{"):
        entry = json.loads(line)
        assert entry["status"] == 200 and entry["message"].startswith("slow search for word")


def test_a_three_megabyte_error_makes_a_bounded_entry(logged: io.StringIO) -> None:
    try:
        raise RuntimeError("SELECT * FROM links WHERE title ILIKE ? " * 80_000)  # 3 MB of SQL
    except RuntimeError:
        logging.getLogger("paylinks.test_logs").exception("unhandled error in GET /search")
    text = logged.getvalue()
    assert len(text) < MAX_ERROR_CHARS + MAX_FIELD_CHARS
    assert "Traceback" in text and "RuntimeError: SELECT * FROM links" in text
    assert "characters cut]" in text


def record(message: str = "hello %s", *args: object, **attrs: object) -> logging.LogRecord:
    made = logging.LogRecord("paylinks.api", logging.WARNING, __file__, 1, message, args, None)
    made.created = 1_780_000_000.25  # 2026-05-28T20:26:40.250Z
    for name, value in attrs.items():
        setattr(made, name, value)
    return made


class Odd:
    def __str__(self) -> str:
        return "odd" * 2000


def test_a_json_line_has_the_time_level_logger_request_and_fields() -> None:
    line = JsonFormatter().format(
        record("hello %s", "world", request_id="req_1", fields={"status": 201, "odd": Odd()})
    )
    entry = json.loads(line)
    assert entry == {
        "time": "2026-05-28T20:26:40.250+00:00",
        "level": "warning",
        "logger": "paylinks.api",
        "message": "hello world",
        "request_id": "req_1",
        "status": 201,
        "odd": entry["odd"],
    }
    # A value JSON cannot hold is written as text, and clipped like any field.
    assert entry["odd"].startswith("oddodd") and entry["odd"].endswith("characters cut]")
    assert "request_id" not in json.loads(JsonFormatter().format(record()))


def test_a_json_line_carries_the_error() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        import sys

        failed = record(exc_info=sys.exc_info())
    entry = json.loads(JsonFormatter().format(failed))
    assert entry["error"].startswith("Traceback") and "ValueError: broken" in entry["error"]


def test_a_text_line_has_the_fields_and_the_request() -> None:
    text = TextFormatter("%(levelname)s %(message)s")
    assert text.format(record()) == "WARNING hello %s"
    line = text.format(record(request_id="req_2", fields={"status": 404, "path": "/x"}))
    assert line == "WARNING hello %s status=404 path=/x request_id=req_2"
    clipped = text.format(record(fields={"query": "q" * (MAX_FIELD_CHARS + 5)}))
    assert clipped.endswith("…[5 characters cut]")


@pytest.mark.parametrize(("size", "cut"), [(MAX_FIELD_CHARS, 0), (MAX_FIELD_CHARS + 1, 1)])
def test_clipping_starts_just_past_the_limit(size: int, cut: int) -> None:
    text = "x" * size
    assert clip(text) == (text if not cut else "x" * MAX_FIELD_CHARS + f"…[{cut} characters cut]")


def test_a_traceback_keeps_its_lines_and_its_ends() -> None:
    lines = "\n".join(f"frame {n}" for n in range(3))
    assert clip_traceback(lines) == lines
    long = "\n".join(f"frame {n:05}" for n in range(3000))
    clipped = clip_traceback(long)
    assert clipped.startswith("frame 00000\nframe 00001") and clipped.endswith("frame 02999")
    assert len(clipped) <= MAX_ERROR_CHARS + 100 and "characters cut]" in clipped
    lines = MAX_ERROR_CHARS // 1024  # lines of 1,023 characters and a newline each
    at_limit = "\n".join(["z" * 1023] * (lines - 1) + ["z" * 1024])
    assert len(at_limit) == MAX_ERROR_CHARS
    assert clip_traceback(at_limit) == at_limit  # exactly at the limit: kept whole
