"""The mutation score of the rules that hold money and security (`make mutate`).

Runs mutmut (configured in pyproject.toml: which modules, which tests, SQLite only), then reads
its results and writes docs/mutation.md: the score per module, and each surviving mutant with
its diff and the reason it survives, from bench/mutation_reasons.toml (a survivor without a
reason is listed as "to explain": a test to write, or an equivalent mutant to name).

    .venv/bin/python bench/mutation.py [--report-only]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
REPORT = ROOT / "docs" / "mutation.md"
REASONS = ROOT / "bench" / "mutation_reasons.toml"
AIM = 0.90
KILLED = {1, 3, 36, 37, -24, 24, 152, 255}  # a failing test, a timeout, a type error
SURVIVED = {0}


@dataclass
class Module:
    name: str
    killed: int = 0
    survivors: list[str] = field(default_factory=list)
    unchecked: int = 0

    @property
    def total(self) -> int:
        return self.killed + len(self.survivors)

    @property
    def score(self) -> float:
        return self.killed / self.total if self.total else 1.0


def read_results() -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for meta in sorted(MUTANTS.glob("src/**/*.py.meta")):
        name = meta.relative_to(MUTANTS / "src").as_posix().removesuffix(".meta")
        module = modules.setdefault(name, Module(name))
        for key, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if code in KILLED:
                module.killed += 1
            elif code in SURVIVED:
                module.survivors.append(key)
            else:
                module.unchecked += 1
    return modules


def function_of(mutant: str) -> str:
    """`paylinks.ratelimit.xǁDecisionǁbinding__mutmut_6` -> `Decision.binding`."""
    name = mutant.rsplit(".", 1)[1].split("__mutmut_")[0].removeprefix("x_").removeprefix("x")
    return ".".join(part for part in name.split("ǁ") if part)


def diff_of(mutant: str) -> str:
    shown = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", mutant],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = [
        line
        for line in shown.stdout.splitlines()
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
    ]
    return "\n".join(lines)


def reasons() -> dict[str, str]:
    """Reasons by function (`Decision.binding`) or by mutant name; a function's reason covers
    all its survivors unless a mutant has its own."""
    if not REASONS.exists():
        return {}
    return {k: str(v) for k, v in tomllib.loads(REASONS.read_text()).items()}


def write_report(modules: dict[str, Module]) -> str:
    why = reasons()
    total_killed = sum(m.killed for m in modules.values())
    total = sum(m.total for m in modules.values())
    lines = [
        "# Mutation testing",
        "",
        "`make mutate` (bench/mutation.py) runs mutmut over the modules that hold the rules of",
        "money and security, each mutant against the tests that run its function, on SQLite.",
        f"Aim: at least {AIM:.0%} of the mutants killed in every module. A mutant survives when",
        "no test notices the change; each survivor below has its reason.",
        "",
        "| module | mutants | killed | survived | score | aim |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for module in modules.values():
        lines.append(
            f"| `{module.name}` | {module.total} | {module.killed} | {len(module.survivors)} | "
            f"{module.score:.1%} | {'met' if module.score >= AIM else 'missed'} |"
        )
    score = total_killed / total if total else 1.0
    lines += [
        f"| **all** | {total} | {total_killed} | {total - total_killed} | {score:.1%} | |",
        "",
    ]
    unchecked = sum(m.unchecked for m in modules.values())
    if unchecked:
        lines += [f"{unchecked} mutants were not checked (the run was cut short).", ""]
    lines += ["## Survivors", ""]
    for module in modules.values():
        by_function: dict[str, list[str]] = defaultdict(list)
        for mutant in module.survivors:
            by_function[function_of(mutant)].append(mutant)
        for function, mutants in sorted(by_function.items()):
            lines += [f"### `{module.name}`: `{function}` ({len(mutants)})", ""]
            shared = why.get(function)
            if shared:
                lines += [shared, ""]
            for mutant in mutants:
                own = why.get(mutant.rsplit(".", 1)[1])
                reason = own or ("" if shared else "**to explain**")
                lines += [f"- `{mutant.rsplit('.', 1)[1]}` {reason}".rstrip(), "", "  ```diff"]
                lines += [f"  {line}" for line in diff_of(mutant).splitlines()]
                lines += ["  ```", ""]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--report-only", action="store_true", help="read the last run's results")
    args = parser.parse_args()
    if not args.report_only:
        # mutmut draws a progress line per mutant: keep the terminal for the summary.
        run = subprocess.run([sys.executable, "-m", "mutmut", "run"], cwd=ROOT,
                             stdout=subprocess.DEVNULL, check=False)  # fmt: skip
        if run.returncode not in (0, 1):
            raise SystemExit(f"mutmut run failed ({run.returncode})")
    modules = read_results()
    REPORT.write_text(write_report(modules))
    for module in modules.values():
        print(f"{module.score:7.1%}  {module.killed:4}/{module.total:<4}  {module.name}")
    print(f"wrote {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
