"""What kind of test each collected test is, so that the count means something (reported at the
end of every run, and in docs/testing.md):

- contract scenario: one (operation, status) scenario of the OpenAPI contract checker;
- invariant: the cross-cutting proofs (exactly once, crash safety, card data, isolation and
  access, fuzzing, the state machine, scale-out, settlement of interrupted charges);
- browser: Chromium driving the hosted page and the dashboard;
- SDK compatibility: the official Omise SDKs, and the seed's curl examples, against a server;
- integration, live server: a real `paylinks serve` / `paylinks worker` process (or the CLI);
- integration, in process: the app through an in-process client, on a real database;
- unit: a function or class on its own, no database.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import pytest

INVARIANT_FILES = {
    "test_exactly_once.py", "test_crash_safety.py", "test_card_data.py", "test_isolation.py",
    "test_access_matrix.py", "test_fuzz.py", "test_fuzz_html.py", "test_stateful.py",
    "test_scale_out.py", "test_webhook_outbox_crash.py", "test_settlement.py",
}  # fmt: skip
# A module that starts processes: its tests talk to a real server, worker or command.
_PROCESS_MARKS = ("live_server(", "start_worker(", "worker_process(", "subprocess.", "paylinks(")
_DATABASE_FIXTURES = {"db", "client", "make_client", "database_url", "account", "browsers"}
KINDS = (
    "contract scenario", "invariant", "browser", "SDK compatibility",
    "integration, live server", "integration, in process", "unit",
)  # fmt: skip


@cache
def _starts_processes(path: Path) -> bool:
    text = path.read_text()
    return any(mark in text for mark in _PROCESS_MARKS)


def kind_of(item: pytest.Item) -> str:
    path = Path(str(item.path))
    if path.parent.name == "browser":
        return "browser"
    if path.parent.name == "compat":
        return "SDK compatibility"
    if path.name == "test_openapi.py" and getattr(item, "originalname", "") == (
        "test_responses_match_the_document"
    ):
        return "contract scenario"
    if path.name in INVARIANT_FILES:
        return "invariant"
    fixtures = set(getattr(item, "fixturenames", ()))
    if _starts_processes(path) and not fixtures & {"client", "make_client"}:
        return "integration, live server"
    if fixtures & _DATABASE_FIXTURES:
        return "integration, in process"
    return "unit"


def summary(items: list[pytest.Item]) -> str:
    counts = Counter(kind_of(item) for item in items)
    width = max(len(k) for k in KINDS)
    lines = [f"  {kind:<{width}}  {counts.get(kind, 0):>5}" for kind in KINDS]
    return "\n".join([f"tests by kind ({len(items)} in all):", *lines])
