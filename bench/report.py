"""The aims of the last `make bench`, written into docs/benchmarks.md.

Reads the three results the benchmarks wrote (bench/results/latest.json from api_bench.py,
postgres-latest.json, webhooks-latest.json) and replaces the table between the markers
`<!-- make bench: aims -->` and `<!-- /make bench: aims -->` with every aim, what was measured
and whether it was met, and which commit each result measured. The prose around it stays
hand-written (what changed, the profiles); only this table is the machine's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
DOC = BENCH.parent / "docs" / "benchmarks.md"
START, END = "<!-- make bench: aims -->", "<!-- /make bench: aims -->"

# api_bench.py's aims and the ratio each one judges.
SQLITE_MEASURES = {
    "retrieve": ("retrieve_vs_hello", "{:.1%}"),
    "list": ("list_vs_hello", "{:.1%}"),
    "create": ("create_vs_raw", "{:.1%}"),
    "first_page": ("first_page_large_vs_small", "{:.2f}x"),
}


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def _verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def _sqlite_rows(report: dict[str, Any]) -> list[str]:
    rows = []
    for key, aim in report["aims"].items():
        ratio, shown = SQLITE_MEASURES[key.removesuffix("_15")]
        measured = shown.format(report["ratios"][ratio])
        rows.append(f"| SQLite | {aim['aim']} | {measured} | {_verdict(aim['met'])} |")
    return rows


def _postgres_rows(report: dict[str, Any]) -> list[str]:
    return [
        f"| PostgreSQL | {aim['aim']} | {aim['measured']} | {_verdict(aim['met'])} |"
        for aim in report["aims"].values()
    ]


def _webhook_rows(report: dict[str, Any]) -> list[str]:
    results = report["results"].values()
    rates = [r["deliveries_per_second"] for r in results]
    p50 = [r["p50_ms_from_request"] for r in results]
    idle = [r["idle_core_share"] for r in results if r.get("idle_core_share") is not None]
    measured = {
        ">= 1000 deliveries/s per worker": f"{min(rates):,.0f}–{max(rates):,.0f}/s",
        "p50 from request < 20 ms": f"{min(p50)}–{max(p50)} ms",
        "idle serve < 1 % of a core": ", ".join(f"{100 * x:.1f} %" for x in idle),
    }
    return [
        f"| webhooks | {aim} | {measured.get(aim, '')} | {_verdict(met)} |"
        for aim, met in report["aims"].items()
    ]


def table() -> str:
    lines = ["| store | aim | measured | |", "|---|---|---:|---|"]
    runs = []
    for name, rows in (
        ("latest.json", _sqlite_rows),
        ("postgres-latest.json", _postgres_rows),
        ("webhooks-latest.json", _webhook_rows),
    ):
        report = _load(name)
        if report is None:
            runs.append(f"`{name}`: not run")
            continue
        lines += rows(report)
        runs.append(f"`{name}` {report['generated_at']} at {report['code']['commit']}")
    return "\n".join([*lines, "", "From " + "; ".join(runs) + "."])


def main() -> None:
    text = DOC.read_text()
    head, found, rest = text.partition(START)
    if not found or END not in rest:
        raise SystemExit(f"{DOC}: no {START} … {END} block to write the aims into")
    tail = rest.split(END, 1)[1]
    DOC.write_text(f"{head}{START}\n{table()}\n{END}{tail}")
    print(f"wrote the aims of the last run into {DOC.relative_to(BENCH.parent)}")


if __name__ == "__main__":
    main()
