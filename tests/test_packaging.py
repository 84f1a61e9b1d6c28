"""The wheel installs widgets/ and themes/ inside the osconsole namespace, and nothing else.

The design card keeps `widgets/` and `themes/` at the top of the repository; a
top-level `widgets` package in site-packages would clash with other projects.
"""

from __future__ import annotations

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
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("osconsole-*.whl")
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


def test_the_osconsole_command_is_declared(wheel_names: set[str], tmp_path: Path) -> None:
    entry_points = next(n for n in wheel_names if n.endswith("entry_points.txt"))
    assert entry_points
    result = subprocess.run(
        [sys.executable, "-m", "osconsole", "--help"], capture_output=True, text=True, check=True
    )
    assert "sim" in result.stdout
