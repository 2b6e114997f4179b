"""The package's shape, read from its imports with `ast` (imports under `if TYPE_CHECKING:` are
types only and do not count):

- no cycle between feature folders (each resource owns its rules and its wire form; a folder
  that needs another's rendering or rules depends on it one way only);
- no routes module imports another routes module (handlers share services and schemas, never
  each other);
- the shared core (the modules at the package root, and `api/`, `web/`, `processors/`) imports
  no feature, except the wiring modules that exist to join them (`ops/` runs an installation
  and is neither);
- no module calls a private function of another folder;
- no source module is longer than 400 lines.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "paylinks"
FEATURES = {
    "accounts", "branding", "capability", "charges", "checkout", "client", "dashboard", "events",
    "links", "payments", "refunds", "remote", "search", "sources", "testclock", "tokens",
    "upstream", "webhooks",
}  # fmt: skip
CORE_FOLDERS = {"api", "web", "processors"}
# Modules that exist to join the features: the app factory and its route table, the CLI, the
# event recorder, the rebuilding of answers, the edge's error pages, the server, operations.
WIRING = {"app", "cli", "cli_common", "recording", "recovery", "edge", "server", "__main__"}
MAX_LINES = 400


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = modules()


def resolve(name: str) -> str | None:
    """The package module an import names (a `from x import y` may name a module `x.y`)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _type_only(tree: ast.Module) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            skipped.update(id(inner) for inner in ast.walk(node))
    return skipped


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for every run-time import of paylinks."""
    tree = ast.parse(path.read_text())
    skipped = _type_only(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("paylinks"):
            for alias in node.names:
                target = resolve(f"{node.module}.{alias.name}")
                if target:
                    found.append((target, [] if target.endswith(alias.name) else [alias.name]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                target = resolve(alias.name) if alias.name.startswith("paylinks") else None
                if target:
                    found.append((target, []))
    return found


def folder(module: str) -> str:
    """The top folder a module lives in, or "core" for a module at the package root."""
    parts = MODULES[module].relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else "core"


GRAPH = {name: imports_of(path) for name, path in MODULES.items()}


def folder_edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, imported in GRAPH.items():
        for target, _names in imported:
            a, b = folder(module), folder(target)
            if a != b and a in FEATURES and b in FEATURES:
                edges[a].add(b)
    return edges


def test_no_cycle_between_feature_folders() -> None:
    edges = folder_edges()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                pytest.fail("a cycle between feature folders: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_no_routes_module_imports_another() -> None:
    offenders = [
        (module, target)
        for module, imported in GRAPH.items()
        for target, _ in imported
        if module.endswith(".routes") and target.endswith(".routes") and target != module
    ]
    assert offenders == []


def test_the_core_imports_no_feature() -> None:
    offenders = []
    for module, imported in GRAPH.items():
        home = folder(module)
        core = home == "core" or home in CORE_FOLDERS
        if not core or module.rsplit(".", 1)[-1] in WIRING:
            continue
        offenders += [(module, t) for t, _ in imported if folder(t) in FEATURES]
    assert offenders == []


def test_no_module_uses_another_folders_private_names() -> None:
    offenders = [
        (module, target, name)
        for module, imported in GRAPH.items()
        for target, names in imported
        for name in names
        if name.startswith("_") and not name.startswith("__") and folder(target) != folder(module)
    ]
    for module, path in MODULES.items():
        text = path.read_text()
        for other in MODULES:
            leaf = other.rsplit(".", 1)[-1]
            if folder(other) != folder(module) and f"{leaf}_service._" in text:
                offenders.append((module, other, "attribute"))
    assert offenders == []


def test_no_module_is_longer_than_the_budget() -> None:
    long = {
        name: count
        for name, path in MODULES.items()
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_check_sees_a_cycle_when_there_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checker itself can fail: a made-up import from charges back to payments is a cycle."""
    fake = dict(GRAPH)
    fake["paylinks.charges.service"] = [
        *GRAPH["paylinks.charges.service"],
        ("paylinks.payments.service", []),
    ]
    monkeypatch.setitem(globals(), "GRAPH", fake)
    with pytest.raises(pytest.fail.Exception, match="charges -> payments -> charges"):
        test_no_cycle_between_feature_folders()
