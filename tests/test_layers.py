"""Imports go one way, module by module: no cycles anywhere in bot, handlers or storage.

import-linter (``lint-imports`` in ``make test``) checks the layers and cycles between sibling
packages; this checks every module against every other, and names the cycle when there is one.
"""

from __future__ import annotations

import subprocess
import sys

import grimp

from tests.conftest import ROOT

PACKAGES = ("bot", "handlers", "storage")


def find_cycle(imports: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (depth-first, so each module is seen once)."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" after
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        path.append(module)
        for imported in sorted(imports[module]):
            if state.get(imported) == "open":
                return path[path.index(imported) :] + [imported]
            if imported not in state and (cycle := visit(imported)):
                return cycle
        path.pop()
        state[module] = "done"
        return None

    for module in sorted(imports):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_between_modules() -> None:
    graph = grimp.build_graph(*PACKAGES)  # TYPE_CHECKING imports count, as for import-linter
    imports = {
        module: {m for m in graph.find_modules_directly_imported_by(module) if m in graph.modules}
        for module in graph.modules
    }
    assert len(imports) > 30 and any(imports.values())  # the graph really was built
    cycle = find_cycle(imports)
    if cycle:
        steps = []
        for importer, imported in zip(cycle, cycle[1:], strict=False):
            lines = sorted(
                d["line_number"] for d in graph.get_import_details(importer=importer,
                                                                   imported=imported)
            )  # fmt: skip
            steps.append(f"{importer} (line {', '.join(map(str, lines)) or '?'}) -> {imported}")
        raise AssertionError("import cycle:\n  " + "\n  ".join(steps))


def test_loading_settings_stays_light() -> None:
    """bot.config reads the environment without Slack, the handlers, the database or APScheduler
    (only the leaf handlers.slack_ids, for the ID patterns); in a fresh interpreter."""
    code = (
        "import sys\n"
        "from bot.config import load_settings\n"
        "load_settings(None)\n"
        "heavy = ('slack_sdk', 'slack_bolt', 'aiohttp', 'aiosqlite', 'storage.activity',\n"
        "         'storage.db', 'bot.scheduler', 'apscheduler')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)\n"
        "             or (m.startswith('handlers.') and m != 'handlers.slack_ids')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
