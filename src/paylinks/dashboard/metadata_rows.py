"""Metadata as the dashboard edits it: key/value rows (`meta_key_N`, `meta_value_N`), a few
empty ones to fill and more added by the page's script, read back into the object that the
API's own checks (`params.parse_metadata`) then take, so the limits are the API's.

The API lets a value be any JSON; a row shows such a value as JSON and says so
(`meta_type_N=json`), so that saving the page gives back the number or object, not its text."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from paylinks.errors import BadRequest
from paylinks.params import METADATA_KEYS_MAX, Params, parse_metadata

EMPTY_ROWS = 3
# Row numbers the form may use: the API's key limit, and room for the empty rows.
_FIELD = re.compile(r"meta_(key|value|type)_(\d{1,3})")


@dataclass(frozen=True)
class Row:
    key: str
    value: str
    json: bool = False  # the value is JSON text (it was not a string)


def fields(form: Mapping[str, Any]) -> dict[str, str]:
    """The form's row fields as sent (kept for the preview and for a form sent back), in row
    order; anything else is left alone."""
    found: dict[tuple[int, str], str] = {}
    for name, value in form.items():
        match = _FIELD.fullmatch(name)
        if match and isinstance(value, str) and int(match[2]) < METADATA_KEYS_MAX + EMPTY_ROWS:
            found[int(match[2]), match[1]] = value
    return {f"meta_{part}_{n}": value for (n, part), value in sorted(found.items())}


def rows_from_fields(values: Mapping[str, str]) -> list[Row]:
    """The rows as typed, then empty ones to fill."""
    numbers = sorted({int(m[2]) for m in map(_FIELD.fullmatch, values) if m})
    typed = [
        Row(
            values.get(f"meta_key_{n}", ""),
            values.get(f"meta_value_{n}", ""),
            values.get(f"meta_type_{n}") == "json",
        )
        for n in numbers
    ]
    return [row for row in typed if row.key or row.value] + [Row("", "")] * EMPTY_ROWS


def rows_of(metadata: Mapping[str, Any]) -> list[Row]:
    """A stored object as rows, then empty ones to fill."""
    stored = [
        Row(key, value) if isinstance(value, str) else Row(key, json.dumps(value), json=True)
        for key, value in metadata.items()
    ]
    return stored + [Row("", "")] * EMPTY_ROWS


def metadata_of(values: Mapping[str, str]) -> dict[str, Any]:
    """The rows as the object the API stores, checked by the API's rules; `BadRequest` with
    the first problem. A row with neither key nor value is skipped."""
    metadata: dict[str, Any] = {}
    for row in rows_from_fields(values):
        key = row.key.strip()
        if not key:
            if row.value.strip():
                raise BadRequest(f"metadata: the value {row.value[:40]!r} needs a key")
            continue
        if key in metadata:
            raise BadRequest(f"metadata: the key {key!r} is there twice")
        metadata[key] = _value(key, row)
    return parse_metadata(Params({"metadata": metadata})) or {}


def _value(key: str, row: Row) -> Any:
    if not row.json:
        return row.value
    try:
        return json.loads(row.value)
    except ValueError:
        raise BadRequest(f"metadata[{key}] must stay valid JSON (it was not text)") from None
