"""An assessment in a row: the Sev column's word, the problems' words (pending ones
with when they fire), tones and the worst-first rank. Views show the one judge's
assessments (osconsole.health.assess); nothing here judges."""

from __future__ import annotations

from collections.abc import Callable

from osconsole.health.findings import (
    ACKNOWLEDGED,
    PENDING,
    Assessment,
    Severity,
    clock_time,
)
from osconsole.views.model import Cell, Column, Tone

# -- shared pieces -----------------------------------------------------------------

TONES = {
    Severity.UNKNOWN: Tone.DIM,
    Severity.OK: Tone.NONE,
    Severity.INFO: Tone.INFO,
    Severity.WARNING: Tone.WARNING,
    Severity.CRITICAL: Tone.CRITICAL,
}
UNKNOWN_SORT = -1.0  # numeric columns: unknown values sort below every known one
SEVERITY_WORDS = {
    Severity.CRITICAL: "CRIT",
    Severity.WARNING: "WARN",
    Severity.UNKNOWN: "?",
    Severity.INFO: "info",
    Severity.OK: "ok",
}
SEVERITY_COLUMN = Column("severity", "Sev")


PENDING_WORD = "pend"  # OK or unknown so far, with a problem waiting out its debounce


def _pending_only(assessment: Assessment) -> bool:
    return assessment.severity <= Severity.OK and bool(assessment.problems)


def severity_cell(assessment: Assessment, cells: Callable[..., Cell] = Cell) -> Cell:
    """The Severity column: the assessment's word, sorted worst first ("pend" when its
    only problems are pending: not findings yet, but about to be)."""
    severity = assessment.severity
    if _pending_only(assessment):
        return cells(PENDING_WORD, Tone.DIM, -severity.rank - 0.5)
    return cells(SEVERITY_WORDS[severity], TONES[severity], -severity.rank)


def problem_words(assessment: Assessment) -> str:
    """The words column: the labels of its problems (findings first, acknowledged ones
    marked, pending ones with the time they fire), or why it could not be judged."""
    words = []
    for p in assessment.problems:
        if p.state == PENDING:
            when = "" if p.fires_at is None else f" until {clock_time(p.fires_at)}"
            words.append(f"{p.label} (pending{when})")
        elif p.state == ACKNOWLEDGED:
            words.append(f"{p.label} (ack)")
        else:
            words.append(p.label)
        if not p.confirmed:
            words[-1] += " (unconfirmed)"
    if assessment.unknown:
        words.append(f"? {assessment.unknown}")
    return ", ".join(words)


def words_cell(assessment: Assessment, cells: Callable[..., Cell]) -> Cell:
    text = problem_words(assessment)
    if not text:
        return cells("")
    tone = TONES[assessment.severity]
    if assessment.severity is Severity.OK:
        tone = Tone.DIM  # only pending problems: not a finding yet
    return Cell(text, tone)


def rank(assessment: Assessment) -> float:
    """Sort key part: worst first (critical, warning, unknown, info, ok), rows with a
    pending problem above their severity's others."""
    return -assessment.severity.rank - (0.5 if _pending_only(assessment) else 0.0)
