"""Real `paylinks serve` processes for tests that need a socket (SDK contract tests, hammers)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

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


def create_account_keys(database_url: str, name: str = "Contract tests") -> dict[str, str]:
    out = json.loads(
        paylinks("accounts", "create", "--name", name, "--json", "--database-url", database_url)
    )
    return dict(out["keys"]["test"])


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
    keys = create_account_keys(database_url)
    settings_env = {
        "PAYLINKS_RATE_LIMITS": "off",
        "PAYLINKS_MAX_ACTIVE_LINKS": "0",
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
        yield LiveServer(url, port, database_url, keys["secret_key"], keys["public_key"], process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        os.unlink(log.name)


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
