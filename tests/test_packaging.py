"""The wheel installs widgets/ and themes/ inside the osconsole namespace, and nothing else.

The design card keeps `widgets/` and `themes/` at the top of the repository; a
top-level `widgets` package in site-packages would clash with other projects.
"""

from __future__ import annotations

import configparser
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCE_ROOTS = {
    "osconsole": "osconsole",
    "widgets": "osconsole/widgets",
    "themes": "osconsole/themes",
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    wheels = list(out.glob("osconsole-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_widgets_and_themes_live_inside_the_osconsole_namespace(wheel_names: set[str]) -> None:
    assert "osconsole/widgets/__init__.py" in wheel_names
    assert "osconsole/themes/__init__.py" in wheel_names
    top_levels = {name.split("/", 1)[0] for name in wheel_names}
    assert top_levels <= {"osconsole", "osconsole-0.1.0.dist-info"}, top_levels


def test_every_source_file_of_the_repository_is_in_the_wheel(wheel_names: set[str]) -> None:
    expected = set()
    for folder, installed_as in SOURCE_ROOTS.items():
        for path in (REPO / folder).rglob("*"):
            if path.suffix in (".py", ".tcss") and "__pycache__" not in path.parts:
                relative = path.relative_to(REPO / folder).as_posix()
                expected.add(f"{installed_as}/{relative}")
    missing = expected - wheel_names
    assert not missing, f"missing from the wheel (list the package in pyproject.toml): {missing}"


def test_the_osconsole_command_is_declared(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        declared = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
        assert declared, "the wheel has no entry_points.txt: `osconsole` would not be installed"
        text = archive.read(declared[0]).decode()
    entry_points = configparser.ConfigParser()
    entry_points.read_string(text)
    assert entry_points.has_section("console_scripts"), text
    assert entry_points["console_scripts"].get("osconsole") == "osconsole.cli:main", text


def test_python_m_osconsole_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "osconsole", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "sim" in result.stdout
