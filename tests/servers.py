"""Real `paylinks serve` and `paylinks worker` processes for tests that need a socket (SDK
contract tests, hammers, crash tests)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from paylinks.processors.protocol import Call
from paylinks.processors.sandbox import read_journal

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def paylinks(*args: str, env: dict[str, str] | None = None) -> str:
    """Run the `paylinks` CLI; its standard output."""
    result = subprocess.run(
        [str(BIN / "paylinks"), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout


@dataclass
class LiveServer:
    url: str
    port: int
    database_url: str
    secret_key: str
    public_key: str
    process: subprocess.Popen[bytes]
    account_id: str = ""  # the account whose test keys these are
    journal: Path | None = None  # where its test processor records every call
    live_keys: dict[str, str] = field(default_factory=dict)  # the same account's live keys
    log: Path | None = None  # its output (the access log included), while it runs

    def processor_calls(self, *actions: str) -> list[Call]:
        """What the server's test processor was asked to do, from all its processes: the
        charges and authorizations, or the calls of the given actions ("capture", "refund" …)."""
        assert self.journal is not None
        wanted = actions or ("charge", "authorize")
        return [call for call in read_journal(self.journal) if call.action in wanted]


@dataclass(frozen=True)
class CreatedAccount:
    """What `paylinks accounts create --json` prints: the id and both modes' keys."""

    id: str
    keys: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def test(self) -> dict[str, str]:
        return self.keys["test"]


def create_account(database_url: str, name: str = "Contract tests") -> CreatedAccount:
    out = json.loads(
        paylinks("accounts", "create", "--name", name, "--json", "--database-url", database_url)
    )
    return CreatedAccount(str(out["id"]), {mode: dict(pair) for mode, pair in out["keys"].items()})


def create_account_keys(database_url: str, name: str = "Contract tests") -> dict[str, str]:
    """The new account's test-mode `public_key` and `secret_key`."""
    return dict(create_account(database_url, name).test)


@contextmanager
def live_server(
    database_url: str,
    *,
    port: int | None = None,
    env: dict[str, str] | None = None,
    workers: int = 1,
) -> Iterator[LiveServer]:
    """Start `paylinks serve` on 127.0.0.1, wait until it answers, stop it afterwards."""
    port = port or free_port()
    account = create_account(database_url)
    keys = account.test
    journal = Path(tempfile.mkdtemp(prefix="paylinks-processor-")) / "calls.jsonl"
    settings_env = {
        "PAYLINKS_RATE_LIMITS": "off",
        "PAYLINKS_MAX_ACTIVE_LINKS": "0",
        "PAYLINKS_TEST_PROCESSOR_JOURNAL": str(journal),
        **(env or {}),
    }
    # The log goes to a file: a pipe nobody reads would fill up and stall the server.
    log = tempfile.NamedTemporaryFile(prefix="paylinks-serve-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [
            str(BIN / "paylinks"),
            "serve",
            "--port",
            str(port),
            "--database-url",
            database_url,
            "--workers",
            str(workers),
        ],
        env={**os.environ, **settings_env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, Path(log.name))
        yield LiveServer(
            url,
            port,
            database_url,
            keys["secret_key"],
            keys["public_key"],
            process,
            account.id,
            journal,
            account.keys["live"],
            Path(log.name),
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        os.unlink(log.name)
        shutil.rmtree(journal.parent, ignore_errors=True)


def _wait_until_up(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"paylinks serve exited with {process.returncode}: {log.read_text()[-2000:]}"
            )
        try:
            httpx.get(f"{url}/openapi.json", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"paylinks serve did not answer at {url} within {timeout}s")


# What `paylinks worker` prints once its database is open, just before its loop starts.
WORKER_READY = "delivering webhooks"


@dataclass
class WorkerProcess:
    """One `paylinks worker` process; its output goes to `log`."""

    process: subprocess.Popen[bytes]
    log: Path

    def wait_ready(self, timeout: float = 30) -> None:
        """Until the worker says it is delivering; raises if it exits or takes too long."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if WORKER_READY in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"paylinks worker exited with {self.process.returncode}: {self.tail()}"
                )
            time.sleep(0.01)
        raise RuntimeError(f"paylinks worker was not ready within {timeout}s: {self.tail()}")

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or released by the worker itself."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM (the worker finishes its round and exits), SIGKILL if it does not."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, chars: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def start_worker(
    database_url: str, *, log: Path, env: dict[str, str] | None = None
) -> WorkerProcess:
    """Start `paylinks worker` (unbuffered, so that `wait_ready` sees its first line)."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(BIN / "paylinks"), "worker", "--database-url", database_url],
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return WorkerProcess(process, log)


@contextmanager
def worker_process(
    database_url: str, *, log: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[WorkerProcess]:
    """A running `paylinks worker`, ready when entered, stopped afterwards."""
    temporary = log is None
    if log is None:
        with tempfile.NamedTemporaryFile(
            prefix="paylinks-worker-", suffix=".log", delete=False
        ) as f:
            log = Path(f.name)
    worker = start_worker(database_url, log=log, env=env)
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()
        if temporary:
            log.unlink(missing_ok=True)


def backend_url(request: Any, folder: Path) -> str:
    """The database a module's server runs on, for a fixture parametrised "sqlite" / "postgres":
    a fresh SQLite file in `folder`, or a PostgreSQL database of the module's own."""
    if request.param == "sqlite":
        return f"sqlite:///{folder / 'paylinks.db'}"
    url: str = request.getfixturevalue("own_postgres_url")
    return url
