"""Saving what the console shows (a pane, the findings, the events) to a CSV or JSON
file, for a ticket, a chat or a spreadsheet.

A table is a title, column names and rows of text; every text is the cleaned text
(`clean_text`: no control sequence reaches a file someone will `cat`), and a CSV cell
that a spreadsheet would run as a formula (`=`, `+`, `@`, `-x`) is written with a
leading `'`. The file is created 0600 (what a console shows names hosts and tenants)
without following a symlink, under the current directory unless a path is given.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from osconsole.clean import clean_text
from osconsole.events import Event
from osconsole.health.findings import Finding
from osconsole.report import SCHEMA_VERSION, iso_utc
from osconsole.views import TableView

FORMATS = ("csv", "json")
FORMULA_STARTS = ("=", "+", "@", "\t", "\r")


class ExportError(ValueError):
    """Why a file could not be written, in words fit to show."""


@dataclass(frozen=True, slots=True)
class Table:
    """What is exported: `name` says what it is ("routers", "findings")."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, name: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> Table:
        """A table of cleaned texts (rows cut or padded to the columns)."""
        width = len(columns)
        cleaned = tuple(tuple(clean_text(c) for c in (*row, *[""] * width)[:width]) for row in rows)
        return cls(clean_text(name), tuple(clean_text(c) for c in columns), cleaned)


def pane_table(name: str, view: TableView, keys: Sequence[str]) -> Table:
    """A pane's rows `keys` (those shown, in the order shown), its columns, and first
    the id of what each row stands for."""
    rows = {row.key: row for row in view.rows}
    labels = ("id", *(column.label for column in view.columns))
    shown = [rows[key] for key in keys if key in rows]
    return Table.of(
        name, labels, [(row.target.id, *(cell.text for cell in row.cells)) for row in shown]
    )


def findings_table(findings: Sequence[Finding]) -> Table:
    """The findings, one row each, times in ISO 8601 UTC."""
    columns = ("severity", "region", "kind", "id", "name", "what", "since", "acknowledged_by")
    rows = [
        (
            f.severity.word,
            f"{f.subject.cloud}/{f.subject.region}",
            str(f.subject.kind),
            f.subject.id,
            f.subject.name,
            f.reason,
            iso_utc(f.since),
            f.ack.by if f.ack is not None else "",
        )
        for f in findings
    ]
    return Table.of("findings", columns, rows)


def events_table(events: Sequence[Event]) -> Table:
    """The events as given (the timeline's order), times in ISO 8601 UTC."""
    columns = ("time", "region", "severity", "kind", "id", "what")
    rows = [
        (
            iso_utc(e.time),
            f"{e.subject.cloud}/{e.subject.region}",
            e.severity.word,
            e.kind.value,
            e.subject.id,
            e.description,
        )
        for e in events
    ]
    return Table.of("events", columns, rows)


def inert(cell: str) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    risky = cell.startswith(FORMULA_STARTS) or (
        cell.startswith("-") and len(cell) > 1 and not _number(cell)
    )
    return "'" + cell if risky else cell


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def render(table: Table, fmt: str) -> str:
    """`table` as CSV (a header line, then rows) or JSON (schema_version, records)."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([inert(c) for c in table.columns])
        writer.writerows([inert(c) for c in row] for row in table.rows)
        return out.getvalue()
    if fmt == "json":
        records = [dict(zip(table.columns, row, strict=True)) for row in table.rows]
        body = {"schema_version": SCHEMA_VERSION, "table": table.name, "rows": records}
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    raise ExportError(f"no export format {fmt!r}; known: {', '.join(FORMATS)}")


def target_path(given: str, name: str, now: float, cwd: Path) -> tuple[Path, str]:
    """Where to write and in which format: `given` (its suffix .json or .csv says the
    format; a directory gets the default name), else `osconsole-NAME-TIME.csv` in `cwd`."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    default = f"osconsole-{name}-{stamp}.csv"
    if not given.strip():
        return cwd / default, "csv"
    path = Path(given.strip()).expanduser()
    if not path.is_absolute():
        path = cwd / path
    if path.is_dir():
        return path / default, "csv"
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ExportError(f"{path.name}: say .csv or .json")
    return path, suffix


def write(table: Table, given: str = "", now: float = 0.0, cwd: Path | None = None) -> Path:
    """Write `table` (see `target_path`), mode 0600; the path written. An OSError becomes
    an ExportError saying what and where."""
    path, fmt = target_path(given, table.name, now, cwd or Path.cwd())
    data = render(table, fmt).encode()
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
        try:
            os.fchmod(fd, 0o600)  # an existing file keeps no wider mode
            os.write(fd, data)
        finally:
            os.close(fd)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


__all__ = [
    "ExportError",
    "Table",
    "events_table",
    "findings_table",
    "pane_table",
    "render",
    "write",
]
