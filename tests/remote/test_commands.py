"""`paylinks links …` and `paylinks charges …` against a live server, and `links bulk-create`
under a low rate limit: every row exactly once, also when interrupted half-way and run again;
malformed rows reported with their line numbers."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from factories import card
from servers import BIN, LiveServer, live_server

pytestmark = pytest.mark.slow
ROWS = 500
BAD_LINES = {7: "title is missing", 42: "amount", 300: "multiple"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path_factory.mktemp('remote') / 'paylinks.db'}"
    env = {"PAYLINKS_RATE_LIMITS": "40/2seconds", "PAYLINKS_DELIVER_WEBHOOKS": "false"}
    with live_server(url, env=env) as live:
        yield live


def cli(server: LiveServer, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAYLINKS_API_URL": server.url, "PAYLINKS_SECRET_KEY": server.secret_key}
    result = subprocess.run(
        [str(BIN / "paylinks"), *args], env=env, capture_output=True, text=True, timeout=300
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_links_and_charges_commands(server: LiveServer) -> None:
    made = json.loads(
        cli(
            server,
            "links",
            "create",
            "--title",
            "CLI mug",
            "--amount",
            "50000",
            "-m",
            "sku=MUG-1",
            "--json",
        ).stdout
    )
    assert made["metadata"] == {"sku": "MUG-1"} and made["payment_uri"].endswith(made["id"])
    assert json.loads(cli(server, "links", "get", made["id"], "--json").stdout)["id"] == made["id"]
    updated = cli(server, "links", "update", made["id"], "--description", "blue", "--json")
    assert json.loads(updated.stdout)["description"] == "blue"
    listed = json.loads(cli(server, "links", "list", "--limit", "5", "--json").stdout)
    assert made["id"] in [link["id"] for link in listed["data"]]
    assert "CLI mug" in cli(server, "links", "list").stdout  # the table
    found = json.loads(cli(server, "links", "search", "CLI mug", "--json").stdout)
    assert made["id"] in [link["id"] for link in found["data"]]
    exported = list(csv.DictReader(io.StringIO(cli(server, "links", "export").stdout)))
    assert any(r["id"] == made["id"] and r["metadata.sku"] == "MUG-1" for r in exported)
    deleted = json.loads(cli(server, "links", "delete", made["id"], "--json").stdout)
    assert deleted["deleted"] is True
    missing = cli(server, "links", "get", "payl_test_missing", check=False)
    assert missing.returncode == 1 and "not_found" in missing.stderr
    assert cli(server, "charges", "list", "--json").stdout.startswith('{"object": "list"')


def test_refund_capture_and_reverse_commands(server: LiveServer) -> None:
    public = (server.public_key, "")
    with httpx.Client(base_url=server.url, auth=(server.secret_key, ""), timeout=10) as api:

        def charge(capture: bool) -> str:
            token = api.post("/tokens", auth=public, json={"card": card()}).json()["id"]
            body = {"amount": 50000, "currency": "thb", "card": token, "capture": capture}
            charge_id: str = api.post("/charges", json=body).json()["id"]
            return charge_id

        paid, held, released = charge(True), charge(False), charge(False)
        refund = json.loads(
            cli(server, "charges", "refund", paid, "--amount", "20000", "-m", "why=late",
                "--json").stdout
        )  # fmt: skip
        assert (refund["amount"], refund["charge"], refund["metadata"]) == (
            20000,
            paid,
            {"why": "late"},
        )
        too_much = cli(server, "charges", "refund", paid, "--amount", "30001", check=False)
        assert too_much.returncode == 1 and "failed_refund" in too_much.stderr
        captured = json.loads(cli(server, "charges", "capture", held, "--json").stdout)
        assert captured["status"] == "successful"
        reversed_ = json.loads(cli(server, "charges", "reverse", released, "--json").stdout)
        assert reversed_["status"] == "reversed"
        assert api.get(f"/charges/{paid}").json()["refunded_amount"] == 20000


def write_items(path: Path) -> set[str]:
    """ROWS rows (the header is line 1), a few of them malformed; the good rows' titles."""
    titles = set()
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["title", "amount", "currency", "multiple", "metadata.sku"])
        for line in range(2, ROWS + 2):
            title, amount, multiple = f"Item {line}", str(10_000 + line), "true"
            if line == 7:
                title = ""
            elif line == 42:
                amount = "12.5"
            elif line == 300:
                multiple = "perhaps"
            else:
                titles.add(title)
            writer.writerow([title, amount, "thb", multiple, f"SKU-{line}"])
    return titles


def titles_on_server(server: LiveServer) -> list[str]:
    found: list[str] = []
    with httpx.Client(base_url=server.url, auth=(server.secret_key, ""), timeout=30) as api:
        offset = 0
        while True:
            for _ in range(30):
                page = api.get("/links", params={"limit": 100, "offset": offset})
                if page.status_code != 429:
                    break
                time.sleep(float(page.headers["retry-after"]))
            body: dict[str, Any] = page.json()
            found += [link["title"] for link in body["data"] if link["title"].startswith("Item ")]
            offset += len(body["data"])
            if not body["data"] or offset >= body["total"]:
                return found


def test_bulk_create_makes_each_row_exactly_once_even_when_interrupted(
    server: LiveServer, tmp_path: Path
) -> None:
    items, out = tmp_path / "items.csv", tmp_path / "links.csv"
    titles = write_items(items)
    env = {**os.environ, "PAYLINKS_API_URL": server.url, "PAYLINKS_SECRET_KEY": server.secret_key}
    first = subprocess.Popen(
        [str(BIN / "paylinks"), "links", "bulk-create", str(items), "--out", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    journal = out.with_name(out.name + ".journal")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # interrupt it half-way
        if journal.exists() and len(journal.read_text().splitlines()) >= ROWS // 2:
            break
        time.sleep(0.05)
    first.send_signal(signal.SIGINT)
    first.communicate(timeout=30)
    assert first.returncode != 0
    halfway = len(journal.read_text().splitlines())
    assert ROWS // 2 <= halfway < len(titles)

    again = cli(server, "links", "bulk-create", str(items), "--out", str(out), check=False)
    assert again.returncode == 1  # the malformed rows
    for line, words in BAD_LINES.items():
        assert f"line {line}: " in again.stderr and words in again.stderr
    with out.open() as written:
        rows = list(csv.DictReader(written))
    assert {r["title"] for r in rows} == titles and len(rows) == len(titles)
    assert all(r["payment_uri"].endswith(r["id"]) for r in rows)
    on_server = titles_on_server(server)
    assert sorted(on_server) == sorted(titles)  # every row once: none lost, none twice

    third = cli(server, "links", "bulk-create", str(items), "--out", str(out), check=False)
    assert "(0 made now)" in third.stdout
    assert sorted(titles_on_server(server)) == sorted(titles)
