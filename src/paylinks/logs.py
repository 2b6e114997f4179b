"""Logging: one JSON object per line (or plain text for a terminal), each carrying the id of the
request it belongs to. Nothing here formats request bodies or headers: card data and keys never
reach a log line (see docs/operations.md). Every line is bounded: a message or field longer than
`MAX_FIELD_CHARS` is cut with a marker, and a traceback is kept to `MAX_ERROR_CHARS`, so that no
request, however large, writes a multi-megabyte line."""

from __future__ import annotations

import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

REQUEST_ID: ContextVar[str | None] = ContextVar("paylinks_request_id", default=None)
# Twelve or more digits (card numbers have 12 to 19; American Express 15), each maybe
# separated from the next by a space, '-', '.', '_' or '+', or a percent-encoded space: what a
# card number pasted into a URL looks like.
_DIGIT_RUN = re.compile(r"\d(?:(?:[ ._+-]|%20)?\d){11,}")
MAX_FIELD_CHARS = 4096
MAX_ERROR_CHARS = 16384


def redact(text: str) -> str:
    """Hide anything that could be a card number (a path may hold one by mistake)."""
    return _DIGIT_RUN.sub("[redacted]", text)


def clip(text: str, limit: int = MAX_FIELD_CHARS) -> str:
    """`text`, or its first `limit` characters and a marker saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[{len(text) - limit} characters cut]"


def clip_traceback(text: str) -> str:
    """A traceback within `MAX_ERROR_CHARS`: each line clipped (an exception's message may hold
    a whole SQL statement), then the middle frames cut, keeping where it began and what it
    raised."""
    text = "\n".join(clip(line) for line in text.split("\n"))
    if len(text) <= MAX_ERROR_CHARS:
        return text
    half = MAX_ERROR_CHARS // 2
    return f"{text[:half]}\n…[{len(text) - 2 * half} characters cut]…\n{text[-half:]}"


def _clip_field(value: object) -> object:
    return clip(value) if isinstance(value, str) else value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": clip(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({k: _clip_field(v) for k, v in fields.items()})
        if record.exc_info:
            entry["error"] = clip_traceback(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=lambda value: clip(str(value))).decode()


class TextFormatter(logging.Formatter):
    # The hooks `logging.Formatter.format` calls: the message, then the traceback.
    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = clip(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:
        return clip_traceback(super().formatException(ei))

    def format(self, record: logging.LogRecord) -> str:
        record.exc_text = None  # another handler may have cached the whole traceback
        text = super().format(record)
        request_id = getattr(record, "request_id", None)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            text += " " + " ".join(f"{k}={clip(str(v))}" for k, v in fields.items())
        return f"{text} request_id={request_id}" if request_id else text


def _stamp_request_ids() -> None:
    """Every record remembers the request it was made in (formatting may happen later)."""
    make = logging.getLogRecordFactory()
    if getattr(make, "stamps_request_ids", False):
        return

    def stamped(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        record.request_id = REQUEST_ID.get()
        return record

    stamped.stamps_request_ids = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(stamped)


def configure(*, level: str, fmt: str) -> None:
    """Send every logger's records to stderr in `fmt` ("json" or "text")."""
    _stamp_request_ids()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else TextFormatter("%(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # paylinks writes its own access line (`middleware.RequestIds`): uvicorn's would repeat it,
    # with the query string and without redaction.
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers[:] = []
    uvicorn_access.propagate = False
    uvicorn_access.disabled = True
