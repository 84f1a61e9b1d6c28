"""Only the UI layers may import Textual: the core must serve headless commands too."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
UI_PACKAGES = ("osconsole/tui",)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_nothing_outside_the_ui_imports_textual() -> None:
    offenders = []
    for path in sorted((REPO / "osconsole").rglob("*.py")):
        relative = path.relative_to(REPO).as_posix()
        if relative.startswith(UI_PACKAGES):
            continue
        if "textual" in _imports(path):
            offenders.append(relative)
    assert not offenders, f"these core modules import textual: {offenders}"


def test_the_check_would_catch_an_offender(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from textual.app import App\n")
    assert "textual" in _imports(module)


# The core, imported alone in a fresh interpreter: a grep for "import textual" misses a
# core module importing osconsole.widgets (which imports Textual) or the console.
CORE = (
    "osconsole.cli",
    "osconsole.live",
    "osconsole.views",
    "osconsole.health.assess",
    "osconsole.health.incidents",
    "osconsole.events",
    "osconsole.snapshot",
    "osconsole.report",
    "osconsole.poller",
    "osconsole.actions.runner",
    "osconsole.sim.app",
)
UI_MODULES = ("textual", "osconsole.tui", "osconsole.widgets", "osconsole.themes")


def _loaded_after_importing(modules: tuple[str, ...]) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    return set(json.loads(done.stdout))


def _ui(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded if m.split(".")[0] == "textual" or m.startswith(UI_MODULES))


def test_the_core_loads_no_ui_in_a_fresh_interpreter() -> None:
    assert _ui(_loaded_after_importing(CORE)) == []


def test_the_subprocess_check_would_catch_the_ui() -> None:
    assert "osconsole.widgets.pane" in _ui(_loaded_after_importing(("osconsole.widgets.pane",)))


def test_screens_depend_on_the_console_contract_not_on_the_app() -> None:
    """No import cycles app <-> findings, drill <-> actions: screens see the App through
    osconsole.tui.context.Console, and hear of new verdicts by message."""
    findings = _loaded_after_importing(("osconsole.tui.findings",))
    assert "osconsole.tui.app" not in findings
    actions = _loaded_after_importing(("osconsole.tui.actions",))
    assert not {m for m in actions if m.startswith(("osconsole.tui.drill", "osconsole.tui.app"))}
