"""How ages and ratios read, everywhere they are shown: panes, findings, reports."""

from __future__ import annotations

SKEW_TOLERANCE_S = 1.0  # Date headers have whole seconds: less than this is rounding, not skew


def format_age(seconds: float | None) -> str:
    """An age in as few characters as a narrow pane allows: "5s", "3m", "2.1h", "4.0d".
    A negative age is clock skew and says so ("-4s (skew)"); "-" when unknown."""
    if seconds is None:
        return "-"
    if seconds < 0:
        return "0s" if seconds > -SKEW_TOLERANCE_S else f"-{format_age(-seconds)} (skew)"
    if round(seconds) < 120:
        return f"{round(seconds)}s"
    if round(seconds / 60) < 120:
        return f"{round(seconds / 60)}m"
    if round(seconds / 3600, 1) < 48:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def format_ratio(ratio: float | None) -> str:
    """A used share as a whole percentage ("94%"; "112%" when over-committed); "-" unknown."""
    return "-" if ratio is None else f"{ratio * 100:.0f}%"
