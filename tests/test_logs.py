"""Log lines: card-number-like digit runs are redacted whatever separates the digits, and no line
grows past a few kilobytes, whatever the request or the error held."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from paylinks.logs import MAX_ERROR_CHARS, MAX_FIELD_CHARS, JsonFormatter, TextFormatter, redact


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
