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

# The kind follows the folder (tests/<folder>/test_*.py), with two exceptions that keep a test
# counted as what it is: settlement of interrupted charges is a proof that lives beside the
# payments it settles, and the package-structure check, kept with the cross-cutting checks, reads
# source files on its own (a unit test).
INVARIANT_FOLDER = "invariants"
INVARIANTS_ELSEWHERE = {"payments/test_settlement.py"}
NOT_INVARIANTS = {"invariants/test_structure.py"}
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
    folder = path.parent.name
    where = f"{folder}/{path.name}"
    if folder == "browser":
        return "browser"
    if folder == "compat":
        return "SDK compatibility"
    if folder == "contract" and getattr(item, "originalname", "") == (
        "test_responses_match_the_document"
    ):
        return "contract scenario"
    if (folder == INVARIANT_FOLDER and where not in NOT_INVARIANTS) or (
        where in INVARIANTS_ELSEWHERE
    ):
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
