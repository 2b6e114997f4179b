"""How the remote commands print: a table for people, JSON for scripts, CSV for spreadsheets."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

import click
from rich.console import Console
from rich.table import Table

LINK_COLUMNS = ("id", "title", "amount", "currency", "multiple", "used", "deleted", "payment_uri")
CHARGE_COLUMNS = ("id", "status", "amount", "currency", "link", "card", "created_at")


def cell(item: dict[str, Any], column: str) -> str:
    value = item.get(column)
    if column == "card" and isinstance(value, dict):
        return f"{value.get('brand', '')} …{value.get('last_digits', '')}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def table(items: Iterable[dict[str, Any]], columns: tuple[str, ...], title: str = "") -> None:
    shown = Table(*columns, title=title or None, show_lines=False)
    for item in items:
        shown.add_row(*(cell(item, c) for c in columns))
    Console().print(shown)


def show_object(item: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(item, ensure_ascii=False))
        return
    for key, value in item.items():
        if isinstance(value, dict) and value.get("object") == "list":
            value = f"{value.get('total', 0)} (list)"
        elif isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False)
        click.echo(f"{key:>14}  {value}")


def flat(item: dict[str, Any]) -> dict[str, str]:
    """One CSV row: scalar fields as they are, metadata as `metadata.<key>` columns."""
    row: dict[str, str] = {}
    for key, value in item.items():
        if key == "metadata" and isinstance(value, dict):
            row.update({f"metadata.{k}": cell(value, k) for k in value})
        elif isinstance(value, dict):
            row[key] = value.get("id", "") if value.get("object") != "list" else ""
        elif not isinstance(value, list):
            row[key] = cell(item, key)
    return row


def write_csv(rows: list[dict[str, str]], stream: io.TextIOBase | Any) -> None:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    writer = csv.DictWriter(stream, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
