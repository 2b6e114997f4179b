"""PAYLINKS_LIVE_MODE: serve and worker refuse to start with settings unfit for live payments,
naming each and how to fix it; with safe settings they start."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from servers import BIN, live_server

from paylinks.config import Settings
from paylinks.db import Database, normalise_url
from paylinks.ops import safety

SAFE = {
    "PAYLINKS_LIVE_MODE": "true",
    "PAYLINKS_SECRET": "f" * 64,
    "PAYLINKS_PUBLIC_URL": "https://pay.example.com",
}


def run(command: str, database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "paylinks"), command, "--database-url", database_url],
        env={**os.environ, "PAYLINKS_RATE_LIMITS": "off", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("command", "private"),
    [
        ("serve", "PAYLINKS_WEBHOOK_ALLOW_PRIVATE"),
        ("worker", "PAYLINKS_WEBHOOK_ALLOW_PRIVATE"),
        ("serve", "PAYLINKS_ALLOW_PRIVATE_WEBHOOKS"),  # the earlier name is still refused
    ],
)
def test_unsafe_settings_are_refused_and_named(tmp_path: Any, command: str, private: str) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    refused = run(command, url, PAYLINKS_LIVE_MODE="true", **{private: "1"})
    assert refused.returncode != 0
    for name in ("PAYLINKS_SECRET", "PAYLINKS_PUBLIC_URL", "PAYLINKS_WEBHOOK_ALLOW_PRIVATE"):
        assert name in refused.stderr
    assert "openssl rand" in refused.stderr  # says how to fix it


def test_safe_settings_start(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    with live_server(url, env=SAFE) as server:
        assert server.process.poll() is None


def test_without_live_mode_nothing_is_checked(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'dev.db'}"
    with live_server(url, env={"PAYLINKS_WEBHOOK_ALLOW_PRIVATE": "1"}) as server:
        assert server.process.poll() is None


def test_sqlite_below_full_synchronous_is_named() -> None:
    engine = sa.create_engine("sqlite://")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
        assert "synchronous=1" in (safety._durability(conn) or "")
        conn.exec_driver_sql("PRAGMA synchronous=FULL")
        assert safety._durability(conn) is None
    engine.dispose()


@pytest.fixture
def lax_postgres(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh PostgreSQL database whose sessions run with synchronous_commit=off."""
    request.getfixturevalue("postgres_url")  # skips (or fails under --require-postgres)
    admin_url = normalise_url(os.environ["PAYLINKS_TEST_POSTGRES_URL"])
    name = f"paylinks_lax_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_postgres_without_synchronous_commit_is_named(lax_postgres: str) -> None:
    db = Database(lax_postgres)
    try:
        found = safety.problems(Settings(**{k.removeprefix("PAYLINKS_").lower(): v
                                            for k, v in SAFE.items()}), db)  # fmt: skip
    finally:
        db.close()
    assert len(found) == 1 and "synchronous_commit=off" in found[0]
