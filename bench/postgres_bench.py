"""paylinks on PostgreSQL, with 1 and with 2 API processes: create, retrieve, list and pay, each
as a ratio to the hello-world baseline served the same way (same uvicorn options, same number of
processes) in the same run.

    .venv/bin/python bench/postgres_bench.py [--admin-url postgresql://postgres@127.0.0.1/postgres]

It creates a fresh database (and drops it afterwards), runs `paylinks db upgrade`, and measures
with wrk as bench/api_bench.py does (same Lua script, warm-up, noise checks). "Server CPU" here
counts the uvicorn processes and PostgreSQL's. Aims (issue 6): with 2 processes, retrieve
reaches >= 1.3x the throughput of 1 on a 2-core machine that also runs the load generator, and
create keeps p99 under 50 ms at 32 connections. Writes bench/results/postgres-latest.json.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import json
import sys
import tempfile
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from api_bench import (
    BIN,
    CREATE_BODY,
    FORM,
    HELLO_APP,
    Measurement,
    clean_env,
    free_port,
    git_state,
    machine,
    measure,
    paylinks_cli,
    running,
    wrk_path,
    wrk_version,
)

RESULTS = Path(__file__).parent / "results" / "postgres-latest.json"
PAY_BODY = "card={token}&amount=100000&currency=thb&description=Benchmark+payment"
CARD = {
    "number": "4242424242424242",
    "name": "Bench",
    "expiration_month": 12,
    "expiration_year": 2035,
    "security_code": "123",
}
AIMS = {
    "scale_retrieve": ("2 processes >= 1.3x the retrieve throughput of 1", 1.3),
    "create_p99": ("create p99 < 50 ms at 32 connections", 50.0),
}


def fresh_database(admin_url: str) -> str:
    name = f"paylinks_bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return str(sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False))


def drop_database(admin_url: str, url: str) -> None:
    name = sa.make_url(url).database
    engine = sa.create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


def make_tokens(url: str, public_key: str, count: int, path: Path) -> None:
    """`count` card tokens, one per line (payments use each once)."""

    def one(_: int) -> str:
        with httpx.Client(base_url=url, auth=(public_key, ""), timeout=30) as client:
            made: list[str] = []
            for _ in range(count // 16 + 1):
                response = client.post("/tokens", json={"card": CARD})
                response.raise_for_status()
                made.append(response.json()["id"])
            return "\n".join(made)

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        path.write_text("\n".join(pool.map(one, range(16))) + "\n")


def one_layout(
    args: argparse.Namespace, wrk: str, workers: int, database_url: str, work: Path
) -> dict[str, Measurement]:
    env = {**clean_env(work), "PAYLINKS_DATABASE_URL": database_url}
    log = work / "servers.log"
    results: dict[str, Measurement] = {}
    print(f"\n== {workers} process{'es' if workers > 1 else ''} ==")
    port = free_port()
    hello = [sys.executable, str(HELLO_APP), "--port", str(port), "--workers", str(workers)]
    with running(hello, port=port, env=env, probe="/", log=log) as server:
        results["hello"] = measure(args, wrk, "hello", server.url + "/", server.process.pid)
    created = json.loads(
        paylinks_cli("accounts", "create", "--name", f"Bench {workers}", "--json", env=env)
    )
    keys = created["keys"]["test"]
    auth = "Basic " + base64.b64encode(f"{keys['secret_key']}:".encode()).decode()
    port = free_port()
    serve = [str(BIN / "paylinks"), "serve", "--port", str(port), "--workers", str(workers)]
    with running(serve, port=port, env=env, probe="/healthz", log=log) as server:
        pid = server.process.pid
        first = httpx.post(
            f"{server.url}/links",
            content=CREATE_BODY,
            headers={"Authorization": auth, "Content-Type": FORM},
        )
        first.raise_for_status()
        link_id = first.json()["id"]
        results["create"] = measure(
            args,
            wrk,
            "create",
            f"{server.url}/links",
            pid,
            method="POST",
            body=CREATE_BODY,
            content_type=FORM,
            auth=auth,
        )
        results["retrieve"] = measure(
            args, wrk, "retrieve", f"{server.url}/links/{link_id}", pid, auth=auth
        )
        results["list"] = measure(args, wrk, "list", f"{server.url}/links?limit=20", pid, auth=auth)
        tokens = work / f"tokens-{workers}.txt"
        print(f"  making {args.pay_tokens:,} card tokens for the payments ...")
        make_tokens(server.url, keys["public_key"], args.pay_tokens, tokens)
        # No warm-up: it would spend the tokens (the server is warm from the runs above).
        results["pay"] = measure(
            args,
            wrk,
            "pay",
            f"{server.url}/charges",
            pid,
            method="POST",
            body=PAY_BODY,
            content_type=FORM,
            auth=auth,
            tokens_file=str(tokens),
            seconds=args.pay_seconds,
            warmup=0,
        )
    return results


def run(args: argparse.Namespace) -> dict[str, Any]:
    wrk = wrk_path()
    work = Path(tempfile.mkdtemp(prefix="paylinks-pg-bench-"))
    info = {**machine(), "wrk": wrk_version(wrk)}
    print(f"paylinks PostgreSQL benchmark — {info['nproc']} x {info['cpu_model']}")
    database_url = fresh_database(args.admin_url)
    try:
        paylinks_cli("db", "upgrade", "--database-url", database_url, env=clean_env(work))
        layouts = {n: one_layout(args, wrk, n, database_url, work) for n in (1, 2)}
    finally:
        drop_database(args.admin_url, database_url)
    ratios = {
        f"{name}_vs_hello_{n}p": round(layouts[n][name].rps / layouts[n]["hello"].rps, 3)
        for n in (1, 2)
        for name in ("create", "retrieve", "list", "pay")
    }
    ratios["retrieve_2p_vs_1p"] = round(layouts[2]["retrieve"].rps / layouts[1]["retrieve"].rps, 3)
    ratios["hello_2p_vs_1p"] = round(layouts[2]["hello"].rps / layouts[1]["hello"].rps, 3)
    worst_create_p99 = max(layouts[n]["create"].p99_ms for n in (1, 2))
    met = {
        "scale_retrieve": ratios["retrieve_2p_vs_1p"] >= AIMS["scale_retrieve"][1],
        "create_p99": worst_create_p99 < AIMS["create_p99"][1],
    }
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": git_state(),
        "machine": info,
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "pay_tokens": args.pay_tokens,
            "pay_seconds": args.pay_seconds,
        },
        "results": {
            f"{n}p": {k: {**asdict(v), "rps": round(v.rps, 1)} for k, v in m.items()}
            for n, m in layouts.items()
        },
        "ratios": ratios,
        "aims": {k: {"aim": AIMS[k][0], "met": ok} for k, ok in met.items()},
    }


def print_report(report: dict[str, Any]) -> None:
    print(f"\n{'':10}{'1 process':>24}{'2 processes':>24}")
    for name in ("hello", "create", "retrieve", "list", "pay"):
        cells = []
        for n in ("1p", "2p"):
            m = report["results"][n][name]
            cells.append(f"{m['rps']:9.0f}/s p99 {m['p99_ms']:6.1f} ms")
        print(f"{name:10}{cells[0]:>24}{cells[1]:>24}")
    for key, value in report["ratios"].items():
        print(f"  {key:24} {value:.3f}")
    for key, aim in report["aims"].items():
        print(f"  aim {key}: {aim['aim']} -> {'MET' if aim['met'] else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pay-tokens", type=int, default=12_000)
    parser.add_argument("--pay-seconds", type=float, default=5)
    parser.add_argument("--max-other-cpu", type=float, default=25)
    parser.add_argument("--quiet-wait", type=float, default=60)
    parser.add_argument("--retries", type=int, default=1)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    report = run(args)
    print_report(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
