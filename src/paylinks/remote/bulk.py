"""`paylinks links bulk-create`: links from a spreadsheet, each row exactly once.

- Each row is checked first (title, amount, currency, …); a bad row is reported with its line
  number and the others go on.
- Each row's request carries a key derived from the row itself (its line and content), so a
  re-run — after a crash, Ctrl-C, or a network failure — never creates a row twice: finished
  rows are skipped (they are in the journal beside the output), and a row whose answer was lost
  gets the stored answer back.
- Concurrency stays within the account's rate limit without sleeping blindly: when the last
  answer said the window is spent, the workers wait for the reset it announced; a 429 is
  waited out as its Retry-After says (the client does that).
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from paylinks.client import AsyncClient, PaylinksError

TRUE = {"true", "yes", "1", "y"}
FALSE = {"false", "no", "0", "n", ""}


@dataclass(frozen=True)
class Row:
    line: int  # in the file, the header being line 1
    fields: dict[str, Any]

    @property
    def key(self) -> str:
        digest = hashlib.sha256(json.dumps([self.line, self.fields], sort_keys=True).encode())
        return f"bulk-{digest.hexdigest()[:40]}"


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


def parse_row(line: int, raw: dict[str, str], default_currency: str) -> Row | Problem:
    """A CSV row as link fields: `amount` in the currency's smallest unit (as the API takes
    it), `metadata.<key>` columns as metadata."""
    values = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
    if not values.get("title"):
        return Problem(line, "title is missing")
    amount = _amount(values.get("amount", ""))
    if isinstance(amount, str):
        return Problem(line, amount)
    fields: dict[str, Any] = {
        "title": values["title"],
        "amount": amount,
        "currency": (values.get("currency") or default_currency).lower(),
    }
    refused = _options(values, fields)
    if refused:
        return Problem(line, refused)
    metadata = {
        k.removeprefix("metadata."): v for k, v in values.items() if k.startswith("metadata.") and v
    }
    if metadata:
        fields["metadata"] = metadata
    return Row(line, fields)


def _amount(text: str) -> int | str:
    """The amount, or why not."""
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return f"amount {text!r} is not a number"
    if not amount.is_finite() or amount != amount.to_integral_value() or amount <= 0:
        return f"amount {text} must be a whole, positive number of minor units"
    return int(amount)


def _options(values: dict[str, str], fields: dict[str, Any]) -> str | None:
    """description, expires_at, usage_limit and multiple into `fields`; why not, if one is bad."""
    for name in ("description", "expires_at"):
        if values.get(name):
            fields[name] = values[name]
    if values.get("usage_limit"):
        if not values["usage_limit"].isdigit():
            return f"usage_limit {values['usage_limit']!r} is not a whole number"
        fields["usage_limit"] = int(values["usage_limit"])
    multiple = values.get("multiple", "").lower()
    if multiple not in TRUE | FALSE:
        return f"multiple {values['multiple']!r} is not true or false"
    fields["multiple"] = multiple in TRUE
    return None


def read_rows(path: Path, default_currency: str) -> tuple[list[Row], list[Problem]]:
    rows: list[Row] = []
    problems: list[Problem] = []
    with path.open(newline="", encoding="utf-8-sig") as source:
        reader = csv.DictReader(source)
        if not reader.fieldnames or "title" not in reader.fieldnames:
            return [], [Problem(1, "the header needs at least title and amount columns")]
        for index, raw in enumerate(reader, start=2):
            parsed = parse_row(index, raw, default_currency)
            if isinstance(parsed, Row):
                rows.append(parsed)
            else:
                problems.append(parsed)
    return rows, problems


@dataclass
class Journal:
    """Finished rows, one JSON line each, flushed as they finish: what a re-run skips."""

    path: Path
    done: dict[int, dict[str, Any]] = field(default_factory=dict)

    def load(self) -> None:
        if self.path.exists():
            for text in self.path.read_text().splitlines():
                if text.strip():
                    entry = json.loads(text)
                    self.done[entry["line"]] = entry

    def add(self, entry: dict[str, Any]) -> None:
        self.done[entry["line"]] = entry
        with self.path.open("a") as out:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")


@dataclass
class RowResult:
    created: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


async def _respect_window(api: AsyncClient) -> None:
    """Wait for the window's reset when the last answer said nothing is left in it."""
    state = api.rate_limit
    if state is not None and state.remaining <= 0:
        await asyncio.sleep(max(0.0, state.reset - time.time()))


async def create_all(
    api: AsyncClient,
    rows: list[Row],
    journal: Journal,
    *,
    concurrency: int,
    progress: Callable[[], None],
) -> RowResult:
    outcome = RowResult()
    queue: asyncio.Queue[Row] = asyncio.Queue()
    for row in rows:
        queue.put_nowait(row)

    async def worker() -> None:
        while not queue.empty():
            row = queue.get_nowait()
            await _respect_window(api)
            try:
                link = await api.create_link(idempotency_key=row.key, **row.fields)
            except PaylinksError as error:
                outcome.problems.append(Problem(row.line, f"{error.code}: {error.message}"))
            else:
                entry = {"line": row.line, "title": row.fields["title"], "id": link["id"],
                         "payment_uri": link["payment_uri"]}  # fmt: skip
                journal.add(entry)
                outcome.created.append(entry)
            progress()

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return outcome
