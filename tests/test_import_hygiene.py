"""Only the UI layers may import Textual: the core must serve headless commands too."""

from __future__ import annotations

import ast
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
