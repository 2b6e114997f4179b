"""Webhook delivery: latency from commit to delivery on an idle server, throughput (deliveries
per second) to a local receiver, and the CPU of an idle `serve` process, with the worker inside
`serve` and on its own (`paylinks worker`), on SQLite and on PostgreSQL. A benchmark, not a test.

    .venv/bin/python bench/webhook_bench.py [--count 3000] [--admin-url URL | --no-postgres]

Latency: links are created one at a time, 50 ms apart (the server idle in between); each
`link.create` event is delivered to a receiver in this process, which notes when it arrives.
The commit happens between the request being sent and the answer arriving, so "from request
sent" is an upper bound of commit-to-delivery and "from answer" a lower bound; the aim (p50
under 20 ms, issue 15) is judged on the upper bound. Throughput: `--count` links are created
while no worker runs; then a worker starts and the time from the first delivery to the last is
measured (aim: 1,000/s per worker). Idle: a `serve` process with its worker and nothing to do,
its CPU over `--idle-seconds` (aim: under 1 % of a core). PostgreSQL runs on a fresh database
per layout (dropped afterwards). Writes bench/results/webhooks-latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from api_bench import (
    BIN,
    clean_env,
    free_port,
    git_state,
    machine,
    paylinks_cli,
    running,
    serving_cpu_seconds,
)
from postgres_bench import drop_database, fresh_database

RESULTS = Path(__file__).parent / "results" / "webhooks-latest.json"
AIM_P50_MS = 20.0
AIM_PER_SECOND = 1000.0
AIM_IDLE_CORE = 0.01


@dataclass
class Arrivals:
    """The receiver's log: when each link's event arrived (wall clock)."""

    at: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.at) >= count:
                    return max(self.at.values())
            time.sleep(0.005)
        raise RuntimeError(f"only {len(self.at)} of {count} deliveries arrived")


async def _serve_receiver(port: int, arrivals: Arrivals, ready: threading.Event) -> None:
    """A keep-alive HTTP/1.1 receiver answering 200 at once (what a fast merchant does)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            body = await reader.readexactly(length)
            now = time.time()
            link_id = json.loads(body)["data"]["id"]
            with arrivals.lock:
                arrivals.at.setdefault(link_id, now)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()

    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handle(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(guarded, "127.0.0.1", port, backlog=1024)
    ready.set()
    async with server:
        await server.serve_forever()


def start_receiver(arrivals: Arrivals) -> str:
    port = free_port()
    ready = threading.Event()
    threading.Thread(
        target=lambda: asyncio.run(_serve_receiver(port, arrivals, ready)), daemon=True
    ).start()
    ready.wait(5)
    return f"http://127.0.0.1:{port}/hooks"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency(server_url: str, secret: str, arrivals: Arrivals, count: int) -> dict[str, float]:
    sent: dict[str, tuple[float, float]] = {}
    with httpx.Client(base_url=server_url, auth=(secret, ""), timeout=30) as api:
        # Warm-up: one delivery end to end, so that a worker still starting is not measured.
        api.post("/links", json={"amount": 100000, "currency": "thb", "title": "warm-up"})
        arrivals.wait_for(1, 60)
        arrivals.at.clear()
        for i in range(count):
            started = time.time()
            made = api.post("/links", json={"amount": 100000, "currency": "thb", "title": f"L{i}"})
            sent[made.json()["id"]] = (started, time.time())
            time.sleep(0.05)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not set(sent) <= set(arrivals.at):
        time.sleep(0.01)
    upper = [1000 * (arrivals.at[k] - s) for k, (s, _a) in sent.items()]
    lower = [1000 * (arrivals.at[k] - a) for k, (_s, a) in sent.items()]
    return {
        "p50_ms_from_request": round(statistics.median(upper), 1),
        "p99_ms_from_request": round(percentile(upper, 0.99), 1),
        "max_ms_from_request": round(max(upper), 1),
        "p50_ms_from_answer": round(statistics.median(lower), 1),
        "p99_ms_from_answer": round(percentile(lower, 0.99), 1),
    }


def fill(server_url: str, secret: str, count: int) -> None:
    def make(i: int) -> None:
        with httpx.Client(base_url=server_url, auth=(secret, ""), timeout=30) as api:
            for j in range(i, count, 8):
                api.post("/links", json={"amount": 100000, "currency": "thb", "title": f"T{j}"})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(make, range(8)))


@contextlib.contextmanager
def background(cmd: list[str], *, env: dict[str, str], log: Path) -> Iterator[None]:
    """A process with no port to probe (the worker): started, then stopped (SIGTERM)."""
    with log.open("ab") as out:
        process = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=15)


def idle_cpu(pid: int, seconds: float) -> float:
    """Share of one core used by a process (and its children: uvicorn workers) over `seconds`,
    after start-up; PostgreSQL's own processes are not counted."""
    time.sleep(3)  # past start-up
    before, started = serving_cpu_seconds(pid, with_postgres=False), time.monotonic()
    time.sleep(seconds)
    spent = serving_cpu_seconds(pid, with_postgres=False) - before
    return spent / (time.monotonic() - started)


def layout(args: argparse.Namespace, mode: str, database_url: str, work: Path) -> dict[str, Any]:
    """`mode` is "in-process" (serve delivers) or "own worker" (`paylinks worker`)."""
    env = {
        **clean_env(work),
        "PAYLINKS_DATABASE_URL": database_url,
        "PAYLINKS_LOG_LEVEL": "warning",
    }
    paylinks_cli("db", "upgrade", "--database-url", database_url, env=env)
    created = json.loads(paylinks_cli("accounts", "create", "--name", mode, "--json", env=env))
    secret = created["keys"]["test"]["secret_key"]
    arrivals = Arrivals()
    hook = start_receiver(arrivals)
    log = work / "servers.log"
    quiet = {**env, "PAYLINKS_DELIVER_WEBHOOKS": "false"}
    delivering = quiet if mode == "own worker" else env
    worker_cmd = [str(BIN / "paylinks"), "worker", "--database-url", database_url]
    port = free_port()
    serve = [str(BIN / "paylinks"), "serve", "--port", str(port)]
    print(f"\n== {database_url.split(':')[0]}, worker {mode} ==")
    # Throughput: fill the outbox with no worker running, then time the drain.
    with running(serve, port=port, env=quiet, probe="/healthz", log=log) as server:
        httpx.post(f"{server.url}/webhook_endpoints", auth=(secret, ""), json={"url": hook})
        fill(server.url, secret, args.count)
    if mode == "own worker":
        with background(worker_cmd, env=env, log=log):
            last = arrivals.wait_for(args.count, 300)
    else:
        with running(serve, port=port, env=env, probe="/healthz", log=log):
            last = arrivals.wait_for(args.count, 300)
    # From the first delivery to the last: the drain itself, not the process starting.
    first = min(arrivals.at.values())
    rate = (args.count - 1) / (last - first)
    print(f"  throughput: {args.count} deliveries in {last - first:.2f} s = {rate:.0f}/s")
    # Latency on an idle server.
    arrivals.at.clear()
    with running(serve, port=port, env=delivering, probe="/healthz", log=log) as server:
        if mode == "own worker":
            with background(worker_cmd, env=env, log=log):
                found = latency(server.url, secret, arrivals, args.latency_count)
        else:
            found = latency(server.url, secret, arrivals, args.latency_count)
    print(f"  latency: {found}")
    idle = None
    if mode == "in-process":
        with running(serve, port=port, env=env, probe="/healthz", log=log) as server:
            idle = idle_cpu(server.process.pid, args.idle_seconds)
        print(f"  idle serve process: {100 * idle:.2f} % of a core")
    return {"deliveries_per_second": round(rate, 1), **found, "idle_core_share": idle}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=3000, help="deliveries for throughput")
    parser.add_argument("--latency-count", type=int, default=100)
    parser.add_argument("--idle-seconds", type=float, default=10)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="paylinks-webhook-bench-"))
    info = machine()
    print(f"paylinks webhook benchmark — {info['nproc']} x {info['cpu_model']}")
    results: dict[str, dict[str, Any]] = {}
    for mode in ("in-process", "own worker"):
        results[f"sqlite, {mode}"] = layout(args, mode, f"sqlite:///{work / mode[:2]}.db", work)
        if args.no_postgres:
            continue
        url = fresh_database(args.admin_url)
        try:
            results[f"postgresql, {mode}"] = layout(args, mode, url, work)
        finally:
            drop_database(args.admin_url, url)
    aims = {
        f"p50 from request < {AIM_P50_MS:g} ms": all(
            r["p50_ms_from_request"] < AIM_P50_MS for r in results.values()
        ),
        f">= {AIM_PER_SECOND:g} deliveries/s per worker": all(
            r["deliveries_per_second"] >= AIM_PER_SECOND for r in results.values()
        ),
        f"idle serve < {100 * AIM_IDLE_CORE:g} % of a core": all(
            r["idle_core_share"] < AIM_IDLE_CORE
            for r in results.values()
            if r["idle_core_share"] is not None
        ),
    }
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": git_state(),
        "machine": info,
        "settings": vars(args) | {"output": str(args.output)},
        "results": results,
        "aims": aims,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print()
    for name, result in results.items():
        print(
            f"{name:32} {result['deliveries_per_second']:8.0f}/s  p50 "
            f"{result['p50_ms_from_request']:5.1f} ms  idle {result['idle_core_share']}"
        )
    for aim, met in aims.items():
        print(f"aim {aim}: {'MET' if met else 'MISSED'}")
    print(f"wrote {args.output}")
    sys.exit(0)


if __name__ == "__main__":
    main()
