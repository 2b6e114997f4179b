"""Request parameters as every Omise client sends them, read into one dict and coerced on demand.

Query string and body are merged on every method (the Python SDK sends list parameters as a JSON
body on GET). Bodies are JSON (an object, `null` or nothing) or form-encoded with bracket nesting
(`metadata[invoice_id]=INV-001`, `items[0]=a`, `tags[]=b`). `null` and `""` mean absent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson

from paylinks.clock import parse_time
from paylinks.errors import ApiError, BadRequest

MAX_DEPTH = 8
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
# ASCII digits only, as Omise reads them: `\d`, `str.isdigit()` and `int()` also take "１０" or
# "١٠" (and `isdigit()` says yes to "²", which `int()` then refuses).
_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")
_DIGITS = re.compile(r"[0-9]+")
# Every integer a request carries must fit the database's BIGINT, whatever it is used for.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})


def parse_json_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc.msg}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest("request body must be a JSON object")
    return value


def parse_form(text: str) -> dict[str, Any]:
    """`a=1&m[k]=v&l[]=x&l[]=y` -> {'a': '1', 'm': {'k': 'v'}, 'l': ['x', 'y']}."""
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=1000)
    except ValueError as exc:
        raise BadRequest(f"cannot read form parameters: {exc}") from None
    result: dict[str, Any] = {}
    for raw_key, value in pairs:
        match = _KEY.match(raw_key)
        if not match:
            raise BadRequest(f"malformed parameter name {raw_key!r}")
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        if len(path) > MAX_DEPTH:
            raise BadRequest(f"parameter {raw_key!r} is nested too deeply")
        _assign(result, path, value, raw_key)
    return {k: _lists_from_indexes(v) for k, v in result.items()}


def _assign(node: dict[str, Any], path: list[str], value: str, raw_key: str) -> None:
    head, rest = path[0], path[1:]
    if not rest:
        if isinstance(node.get(head), dict):
            raise BadRequest(f"parameter {raw_key!r} conflicts with a nested parameter")
        node[head] = value
        return
    if rest[0] == "":  # `tags[]=a`: append to a list
        current = node.setdefault(head, [])
        if not isinstance(current, list) or len(rest) > 1:
            raise BadRequest(f"parameter {raw_key!r} mixes list and object forms")
        current.append(value)
        return
    child = node.setdefault(head, {})
    if not isinstance(child, dict):
        raise BadRequest(f"parameter {raw_key!r} conflicts with another parameter")
    _assign(child, rest, value, raw_key)


def _lists_from_indexes(value: Any) -> Any:
    """PHP's `k[0]=a&k[1]=b` arrives as {'0': 'a', '1': 'b'}: turn it into a list."""
    if isinstance(value, dict):
        value = {k: _lists_from_indexes(v) for k, v in value.items()}
        if value and all(_DIGITS.fullmatch(k) and len(k) <= 6 for k in value):
            keys = sorted(value, key=int)
            if [int(k) for k in keys] == list(range(len(keys))):
                return [value[k] for k in keys]
    return value


def merge(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    """Query parameters and body parameters together; top-level `null`/`""` mean absent. A
    parameter in both must say the same thing in both: which one to believe is not ours to
    guess (and an invalid value must not hide behind a valid one)."""
    params = _absent_dropped(parse_form(query) if query else {})
    for name, value in _absent_dropped(_body_params(body, content_type)).items():
        if name in params and _text(params[name]) != _text(value):
            raise BadRequest(
                f"{name} is given in the query string and in the body, with different values; "
                "send it once"
            )
        params[name] = value
    return params


def _text(value: Any) -> Any:
    """A scalar as the query string would spell it (`7` and `"7"`, `true` and `"true"` agree)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _absent_dropped(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None and v != ""}


def _body_params(body: bytes, content_type: str) -> dict[str, Any]:
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return {}
    if kind == "application/json" or (not kind and body.lstrip()[:1] in (b"{", b"n")):
        return parse_json_body(body)
    if kind in ("application/x-www-form-urlencoded", ""):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("form body is not valid UTF-8") from None
        return parse_form(text)
    if kind != "multipart/form-data" or body.strip():
        raise BadRequest(f"unsupported content type {kind!r}; send JSON or a form")
    return {}


class Params:
    """Typed access to merged parameters. Each reader raises `error` (default `BadRequest`) naming
    the field; absent optional values come back as None."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __contains__(self, name: str) -> bool:
        return name in self.data

    def present(self, names: Iterable[str]) -> list[str]:
        return [n for n in names if n in self.data]

    def others(self, names: Iterable[str]) -> list[str]:
        """The parameters sent that are not among `names`, sorted."""
        known = set(names)
        return sorted(n for n in self.data if n not in known)

    def string(
        self,
        name: str,
        *,
        required: bool = False,
        max_length: int | None = None,
        error: type[ApiError] = BadRequest,
    ) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise error(f"{name} is required")
            return None
        if isinstance(value, (bool, dict, list)):
            raise error(f"{name} must be a string")
        text = str(value)
        if "\x00" in text:  # PostgreSQL cannot store it, and no field needs it
            raise error(f"{name} must not contain NUL characters")
        if required and not text.strip():
            raise error(f"{name} is required")
        if max_length is not None and len(text) > max_length:
            raise error(f"{name} is too long: at most {max_length} characters, got {len(text)}")
        return text

    def integer(
        self, name: str, *, required: bool = False, error: type[ApiError] = BadRequest
    ) -> int | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise error(f"{name} is required")
            return None
        number = _as_integer(value)
        if number is None:
            raise error(f"{name} must be an integer, got {_show(value)}")
        if not INT64_MIN <= number <= INT64_MAX:
            raise error(f"{name} is out of range, got {_show(value)}")
        return number

    def boolean(self, name: str, *, error: type[ApiError] = BadRequest) -> bool | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            word = value.strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
        raise error(f"{name} must be a boolean (true or false), got {_show(value)}")

    def time(
        self, name: str, *, end_of_day: bool = False, error: type[ApiError] = BadRequest
    ) -> datetime | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise error(f"{name} must be an ISO 8601 time such as 2026-02-06T10:30:00Z")
        try:
            return parse_time(value, end_of_day=end_of_day)
        except (ValueError, OverflowError):
            raise error(
                f"{name} must be an ISO 8601 time such as 2026-02-06T10:30:00Z, got {_show(value)}"
            ) from None

    def mapping(self, name: str, *, error: type[ApiError] = BadRequest) -> dict[str, Any] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise error(
                f"{name} must be an object (a JSON object or {name}[key]=value form fields)"
            )
        return value


def _as_integer(value: Any) -> int | None:
    """An integer from JSON or form text, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
            # Omise: JSON clients may send 100000.0; an integral float is the same amount.
            return int(value)
        return None
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def is_ascii_number(text: str) -> bool:
    """True for a non-empty run of ASCII digits (and nothing else)."""
    return _DIGITS.fullmatch(text) is not None


def clamped_integer(text: str, *, low: int, high: int, default: int) -> int:
    """A whole number typed in a query string or header, as a page reads it: `default` unless
    it is ASCII digits, then held within [low, high]. Digits beyond `high`'s length are not
    read at all (`int()` refuses more than 4300 digits, and the value would be clamped anyway)."""
    text = text.strip()
    if not is_ascii_number(text):
        return default
    if len(text.lstrip("0")) > len(str(high)):
        return high
    return min(max(int(text), low), high)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# Limits every resource shares (Stripe's metadata limits; the seed's description limit).
DESCRIPTION_MAX = 1000
METADATA_KEYS_MAX = 50
METADATA_KEY_MAX = 40
METADATA_VALUE_MAX = 500
METADATA_TOTAL_MAX = 8192


def parse_metadata(params: Params) -> dict[str, Any] | None:
    """Metadata within documented limits: 50 keys of at most 40 characters, each value at most
    500 characters as JSON, 8 KiB in all. Values may be any JSON (form fields give strings)."""
    metadata = params.mapping("metadata")
    if metadata is None:
        return None
    if len(metadata) > METADATA_KEYS_MAX:
        raise BadRequest(f"metadata has {len(metadata)} keys; at most {METADATA_KEYS_MAX} allowed")
    for key, value in metadata.items():
        if not key or len(key) > METADATA_KEY_MAX:
            raise BadRequest(f"metadata keys must have 1 to {METADATA_KEY_MAX} characters")
        encoded = value if isinstance(value, str) else orjson.dumps(value).decode()
        if len(encoded) > METADATA_VALUE_MAX:
            raise BadRequest(
                f"metadata[{key}] is too long: at most {METADATA_VALUE_MAX} characters"
            )
    if len(orjson.dumps(metadata)) > METADATA_TOTAL_MAX:
        raise BadRequest(f"metadata is too large: at most {METADATA_TOTAL_MAX} bytes as JSON")
    return metadata
