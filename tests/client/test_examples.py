"""Every program in examples/ runs green against a live test server, and says what it did."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import LiveServer, live_server

pytestmark = pytest.mark.slow
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path_factory.mktemp('examples') / 'paylinks.db'}"
    with live_server(url) as live:  # the in-process webhook worker is on
        yield live


def run(server: LiveServer, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PAYLINKS_API_URL": server.url,
        "PAYLINKS_SECRET_KEY": server.secret_key,
        "PAYLINKS_PUBLIC_KEY": server.public_key,
    }
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=EXAMPLES,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_every_example_is_tested() -> None:
    programs = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert programs == {*EXPECTED, "bulk_links.py"}


EXPECTED = {
    "product_links.py": ["SHIRT-001  payl_test_", "/pay/payl_test_"],
    "subscription_links.py": ["CUST-123: ", "CUST-456: ", "Premium - "],
    "event_tickets.py": ["early_bird: ", "(up to 20 tickets)", "(up to 100 tickets)"],
    "link_stats.py": [
        "'successful_payments': 2",
        "'failed_payments': 1",
        "'total_revenue': 100000",
    ],
    "invoice_links.py": ["Invoice INV-001: ", "Invoice INV-001 is paid"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(server: LiveServer, name: str) -> None:
    out = run(server, name).stdout
    for words in EXPECTED[name]:
        assert words in out, out


def test_bulk_example_exports_a_csv(server: LiveServer) -> None:
    result = run(server, "bulk_links.py", "30")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 30 and all("/pay/payl_test_" in r["payment_uri"] for r in rows)
    assert "created 30 of 30" in result.stderr
    again = run(server, "bulk_links.py", "30")  # the same keys: no new links
    assert list(csv.DictReader(io.StringIO(again.stdout))) == rows
