"""Exports: cleaned text, inert CSV cells, JSON with schema_version, files 0600 where
asked (or in the current directory), and a clear error where they cannot be written."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import pytest

from osconsole.events import Event, EventKind
from osconsole.export import (
    ExportError,
    Table,
    events_table,
    findings_table,
    inert,
    pane_table,
    render,
    target_path,
    write,
)
from osconsole.health.findings import Finding, Severity, Subject
from osconsole.model import Kind, RegionRef
from osconsole.views import Cell, Column, Row, TableView, Target

REF = RegionRef("prod", "RegionOne")
NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def test_cells_are_cleaned_and_rows_fit_the_columns() -> None:
    table = Table.of("t", ["a", "b"], [["evil\x1b]0;pwned\x07", "x", "extra"], ["short"]])
    assert table.rows == (("evil\\x1b]0;pwned\\x07", "x"), ("short", ""))


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1", "'+1"),
        ("@SUM", "'@SUM"),
        ("-cmd", "'-cmd"),
        ("-5", "-5"),
        ("-", "-"),
        ("rone-net01", "rone-net01"),
    ],
)
def test_csv_cells_never_run_as_formulas(cell: str, written: str) -> None:
    assert inert(cell) == written


def test_csv_and_json_say_the_same_rows() -> None:
    table = Table.of("routers", ["id", "name"], [["r1", "db, primary"], ["r2", "=1+1"]])
    rows = list(csv.reader(io.StringIO(render(table, "csv"))))
    assert rows == [["id", "name"], ["r1", "db, primary"], ["r2", "'=1+1"]]
    body = json.loads(render(table, "json"))
    assert body["schema_version"] >= 1 and body["table"] == "routers"
    assert body["rows"] == [{"id": "r1", "name": "db, primary"}, {"id": "r2", "name": "=1+1"}]


def test_findings_and_events_have_ids_and_iso_times() -> None:
    subject = Subject(REF, Kind.AGENTS, "agent-7", "L3 agent @ rone-net01")
    finding = Finding("k", "rule", Severity.CRITICAL, subject, "agent dead", NOW, NOW)
    event = Event(EventKind.AGENT_DOWN, NOW, subject, "L3 agent is down", Severity.CRITICAL)
    (row,) = findings_table([finding]).rows
    assert row[:6] == (
        "critical",
        "prod/RegionOne",
        "agents",
        "agent-7",
        subject.name,
        "agent dead",
    )
    assert row[6] == "2023-11-14T22:13:20.000Z"
    (line,) = events_table([event]).rows
    assert line == (
        "2023-11-14T22:13:20.000Z",
        "prod/RegionOne",
        "critical",
        "agent.down",
        "agent-7",
        "L3 agent is down",
    )


def test_a_pane_exports_the_rows_shown_in_their_order_with_ids() -> None:
    rows = tuple(
        Row(
            f"prod/RegionOne/{i}",
            (Cell(f"name{i}"), Cell("ok")),
            Severity.OK,
            Target(REF, Kind.ROUTERS, f"id{i}"),
        )
        for i in range(3)
    )
    view = TableView("routers", "Routers", (Column("name", "Name"), Column("state", "State")), rows)
    table = pane_table("routers", view, ["prod/RegionOne/2", "prod/RegionOne/0", "gone"])
    assert table.columns == ("id", "Name", "State")
    assert table.rows == (("id2", "name2", "ok"), ("id0", "name0", "ok"))


def test_the_default_file_is_in_the_current_directory_0600(tmp_path: Path) -> None:
    table = Table.of("events", ["a"], [["1"]])
    path = write(table, "", NOW, tmp_path)
    assert path == tmp_path / "osconsole-events-20231114T221320Z.csv"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "a\n1\n"


def test_a_given_path_says_the_format_and_a_wider_file_is_narrowed(tmp_path: Path) -> None:
    existing = tmp_path / "out.json"
    existing.write_text("old")
    existing.chmod(0o644)
    path = write(Table.of("t", ["a"], [["1"]]), "out.json", NOW, tmp_path)
    assert path == existing and json.loads(path.read_text())["rows"] == [{"a": "1"}]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert target_path(str(tmp_path), "t", NOW, Path("/")) == (
        tmp_path / "osconsole-t-20231114T221320Z.csv",
        "csv",
    )


def test_what_cannot_be_written_says_why(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"say \.csv or \.json"):
        write(Table.of("t", ["a"], []), "out.txt", NOW, tmp_path)
    with pytest.raises(ExportError, match="cannot write"):
        write(Table.of("t", ["a"], []), "missing/dir/out.csv", NOW, tmp_path)
    (tmp_path / "link.csv").symlink_to(tmp_path / "elsewhere.csv")
    with pytest.raises(ExportError, match="cannot write"):
        write(Table.of("t", ["a"], []), "link.csv", NOW, tmp_path)
    assert not (tmp_path / "elsewhere.csv").exists()
