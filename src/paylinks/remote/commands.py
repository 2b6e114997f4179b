"""`paylinks links …` and `paylinks charges …`: the API from the command line, against any
paylinks server (`--api-url`, `--secret-key`, or PAYLINKS_API_URL / PAYLINKS_SECRET_KEY).
Tables for people by default, `--json` for scripts."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from paylinks.cli_common import api_options
from paylinks.client import AsyncClient, Client, PaylinksError
from paylinks.remote import bulk, output

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@contextmanager
def connected(api_url: str, secret_key: str) -> Iterator[Client]:
    """A client; API errors become one clear line and exit status 1."""
    try:
        with Client(api_url, secret_key) as api:
            yield api
    except PaylinksError as error:
        raise click.ClickException(str(error)) from None


def metadata_pairs(pairs: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r}: write metadata as key=value")
        found[key] = value
    return found


@click.group(name="links")
def links_group() -> None:
    """Payment links on a running server (through its API)."""


@links_group.command("create")
@api_options
@click.option("--title", required=True)
@click.option("--amount", required=True, type=int, help="In the currency's smallest unit.")
@click.option("--currency", default="thb", show_default=True)
@click.option("--description")
@click.option("--multiple/--single", default=False, show_default=True)
@click.option("--usage-limit", type=int)
@click.option("--expires-at", help="ISO 8601 time.")
@click.option("--metadata", "-m", multiple=True, help="key=value (repeatable).")
@click.option("--idempotency-key", help="Retrying with the same key never makes a second link.")
@json_option
def links_create(
    api_url: str,
    secret_key: str,
    metadata: tuple[str, ...],
    as_json: bool,
    idempotency_key: str | None,
    **fields: Any,
) -> None:
    """Create a link; prints it (its payment_uri is what customers open)."""
    body = {k: v for k, v in fields.items() if v is not None}
    if metadata:
        body["metadata"] = metadata_pairs(metadata)
    with connected(api_url, secret_key) as api:
        link = api.create_link(idempotency_key=idempotency_key, **body)
    output.show_object(link, as_json=as_json)


@links_group.command("get")
@api_options
@click.argument("link_id")
@json_option
def links_get(api_url: str, secret_key: str, link_id: str, as_json: bool) -> None:
    """One link, with its charges."""
    with connected(api_url, secret_key) as api:
        output.show_object(api.retrieve_link(link_id), as_json=as_json)


def list_filters(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in (
        click.option("--from", "from_", help="Created at or after (ISO 8601 time or date)."),
        click.option("--to", help="Created at or before."),
        click.option(
            "--order",
            type=click.Choice(["chronological", "reverse_chronological"]),
            default="reverse_chronological",
            show_default=True,
        ),
    ):
        command = option(command)
    return command


@links_group.command("list")
@api_options
@list_filters
@click.option("--limit", type=click.IntRange(1, 100_000), default=20, show_default=True)
@json_option
def links_list(api_url: str, secret_key: str, limit: int, as_json: bool, **filters: Any) -> None:
    """The newest links (all pages, up to --limit)."""
    with connected(api_url, secret_key) as api:
        show_list(api.links(**filters), limit, output.LINK_COLUMNS, as_json=as_json)


def show_list(
    items: Iterator[dict[str, Any]], limit: int, columns: tuple[str, ...], *, as_json: bool
) -> None:
    """Up to `limit` items (fetched page by page, no more than needed) as a table or JSON."""
    found = [item for item, _ in zip(items, range(limit), strict=False)]
    if as_json:
        click.echo(json.dumps({"object": "list", "data": found, "total": len(found)}))
    else:
        output.table(found, columns)


@links_group.command("update")
@api_options
@click.argument("link_id")
@click.option("--description")
@click.option("--metadata", "-m", multiple=True, help="key=value (replaces all metadata).")
@json_option
def links_update(
    api_url: str,
    secret_key: str,
    link_id: str,
    description: str | None,
    metadata: tuple[str, ...],
    as_json: bool,
) -> None:
    """Change a link's description and/or metadata (nothing else may change)."""
    body: dict[str, Any] = {}
    if description is not None:
        body["description"] = description
    if metadata:
        body["metadata"] = metadata_pairs(metadata)
    with connected(api_url, secret_key) as api:
        output.show_object(api.update_link(link_id, **body), as_json=as_json)


@links_group.command("delete")
@api_options
@click.argument("link_id")
@json_option
def links_delete(api_url: str, secret_key: str, link_id: str, as_json: bool) -> None:
    """Delete a link: it can no longer be paid (it stays readable)."""
    with connected(api_url, secret_key) as api:
        output.show_object(api.destroy_link(link_id), as_json=as_json)


@links_group.command("search")
@api_options
@click.argument("text", default="")
@click.option("--filter", "filters", multiple=True, help="name=value, e.g. used=false.")
@json_option
def links_search(
    api_url: str, secret_key: str, text: str, filters: tuple[str, ...], as_json: bool
) -> None:
    """Search titles, descriptions and metadata (the API's /search)."""
    with connected(api_url, secret_key) as api:
        found = api.search_links(text, **metadata_pairs(filters))
    if as_json:
        click.echo(json.dumps(found))
    else:
        output.table(found["data"], output.LINK_COLUMNS, title=f"{found['total']} found")


@links_group.command("export")
@api_options
@list_filters
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
def links_export(api_url: str, secret_key: str, fmt: str, **filters: Any) -> None:
    """Every link (with the list filters) to standard output, as CSV or JSON lines."""
    with connected(api_url, secret_key) as api:
        export(api.links(**filters), fmt)


def export(items: Iterator[dict[str, Any]], fmt: str) -> None:
    if fmt == "json":
        for item in items:
            click.echo(json.dumps(item, ensure_ascii=False))
        return
    output.write_csv([output.flat(item) for item in items], sys.stdout)


@links_group.command("bulk-create")
@api_options
@click.argument("items", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="LINKS.csv or LINKS.json: each row's line, title, id and payment_uri.",
)
@click.option("--currency", default="thb", show_default=True, help="For rows without one.")
@click.option("--concurrency", type=click.IntRange(1, 32), default=4, show_default=True)
def links_bulk_create(
    api_url: str, secret_key: str, items: Path, out: Path, currency: str, concurrency: int
) -> None:
    """Create a link per row of ITEMS.csv (columns: title, amount in minor units, currency,
    description, multiple, usage_limit, expires_at, metadata.<key>). Safe to run again: rows
    already made are skipped, and none is ever made twice."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    rows, problems = bulk.read_rows(items, currency)
    journal = bulk.Journal(out.with_name(out.name + ".journal"))
    journal.load()
    todo = [row for row in rows if row.line not in journal.done]
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} {task.fields[rate]}/s"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("links", total=len(todo), rate="0")

        def advance() -> None:
            bar.advance(task)
            done = bar.tasks[task].completed
            elapsed = bar.tasks[task].elapsed or 1
            bar.update(task, rate=f"{done / elapsed:.1f}")

        async def run() -> bulk.RowResult:
            async with AsyncClient(api_url, secret_key) as api:
                return await bulk.create_all(
                    api, todo, journal, concurrency=concurrency, progress=advance
                )

        outcome = asyncio.run(run())
    problems += outcome.problems
    write_out(out, sorted(journal.done.values(), key=lambda e: int(e["line"])))
    click.echo(
        f"{len(journal.done)} of {len(rows) + len(problems) - len(outcome.problems)} "
        f"rows have links ({len(outcome.created)} made now); wrote {out}"
    )
    for problem in sorted(problems, key=lambda p: p.line):
        click.echo(f"line {problem.line}: {problem.message}", err=True)
    if problems:
        sys.exit(1)


def write_out(path: Path, entries: list[dict[str, Any]]) -> None:
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(entries, ensure_ascii=False, indent=2) + "\n")
        return
    with path.open("w", newline="") as stream:
        output.write_csv([{k: str(v) for k, v in e.items()} for e in entries], stream)


@click.group(name="charges")
def charges_group() -> None:
    """Charges on a running server (through its API)."""


@charges_group.command("get")
@api_options
@click.argument("charge_id")
@json_option
def charges_get(api_url: str, secret_key: str, charge_id: str, as_json: bool) -> None:
    with connected(api_url, secret_key) as api:
        output.show_object(api.retrieve_charge(charge_id), as_json=as_json)


@charges_group.command("list")
@api_options
@list_filters
@click.option("--limit", type=click.IntRange(1, 100_000), default=20, show_default=True)
@json_option
def charges_list(api_url: str, secret_key: str, limit: int, as_json: bool, **filters: Any) -> None:
    """The newest charges (all pages, up to --limit)."""
    with connected(api_url, secret_key) as api:
        show_list(api.charges(**filters), limit, output.CHARGE_COLUMNS, as_json=as_json)


@charges_group.command("refund")
@api_options
@click.argument("charge_id")
@click.option("--amount", required=True, type=int, help="In the currency's smallest unit.")
@click.option("--metadata", "-m", multiple=True, help="key=value (repeatable).")
@click.option("--idempotency-key", help="Retrying with the same key never refunds twice.")
@json_option
def charges_refund(
    api_url: str,
    secret_key: str,
    charge_id: str,
    amount: int,
    metadata: tuple[str, ...],
    idempotency_key: str | None,
    as_json: bool,
) -> None:
    """Give back AMOUNT of a captured charge (in parts, never beyond what it captured)."""
    with connected(api_url, secret_key) as api:
        refund = api.refund_charge(
            charge_id, amount, idempotency_key=idempotency_key, metadata=metadata_pairs(metadata)
        )
    output.show_object(refund, as_json=as_json)


@charges_group.command("capture")
@api_options
@click.argument("charge_id")
@json_option
def charges_capture(api_url: str, secret_key: str, charge_id: str, as_json: bool) -> None:
    """Capture an authorization (a charge made with capture=false), in full."""
    with connected(api_url, secret_key) as api:
        output.show_object(api.capture_charge(charge_id), as_json=as_json)


@charges_group.command("reverse")
@api_options
@click.argument("charge_id")
@json_option
def charges_reverse(api_url: str, secret_key: str, charge_id: str, as_json: bool) -> None:
    """Release an authorization without taking the money."""
    with connected(api_url, secret_key) as api:
        output.show_object(api.reverse_charge(charge_id), as_json=as_json)


@charges_group.command("export")
@api_options
@list_filters
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
def charges_export(api_url: str, secret_key: str, fmt: str, **filters: Any) -> None:
    """Every charge (with the list filters) to standard output, as CSV or JSON lines."""
    with connected(api_url, secret_key) as api:
        export(api.charges(**filters), fmt)
