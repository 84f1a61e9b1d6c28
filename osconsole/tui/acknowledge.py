"""Acknowledging a finding: its own key (`a` in the findings list), a confirmation that
says what it does, an optional note and an optional expiry.

A brand-new "hypervisor is down" must never be silenced by a key pressed to move
the cursor, so nothing is acknowledged without this dialog; Esc sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from osconsole.acks import NOTE_MAX, parse_duration
from osconsole.health.findings import Finding, clock_time, since_word
from osconsole.tui.actions import MODAL_CSS


@dataclass(frozen=True, slots=True)
class AckRequest:
    """What the operator confirmed: a note (may be empty) and an expiry in seconds."""

    note: str
    for_s: float | None


class AcknowledgeDialog(ModalScreen[AckRequest | None]):
    """Confirm an acknowledgement: Enter walks note, expiry, Acknowledge; Esc cancels."""

    DEFAULT_CSS = MODAL_CSS.format(name="AcknowledgeDialog") + (
        "AcknowledgeDialog #ack-error { color: $text-error; }"
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, finding: Finding) -> None:
        super().__init__()
        self.finding = finding

    def compose(self) -> ComposeResult:
        f = self.finding
        with Vertical():
            yield Label("Acknowledge this finding?", classes="title")
            yield Static(
                f"{f.severity.name} in {f.subject.cloud}/{f.subject.region}, "
                f"{since_word(f.since_from)} {clock_time(f.since)}\n{f.reason}",
                markup=False,
            )
            yield Static(
                "It stays listed, apart and quiet, until it changes or the expiry passes; "
                "your user name and the time are recorded.",
                classes="hint",
            )
            yield Label("Note (optional)")
            yield Input(max_length=NOTE_MAX, id="ack-note", placeholder="e.g. CHG-1234, on it")
            yield Label("Expires after (optional: 30m, 2h, 1d; empty: until it changes)")
            yield Input(max_length=16, id="ack-expiry")
            yield Static("", id="ack-error", markup=False)
            yield Button("Acknowledge", id="ack-confirm", variant="warning")
            yield Static("Enter to go on, Esc to cancel (nothing is acknowledged)", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#ack-note", Input).focus()

    @on(Input.Submitted, "#ack-note")
    def _note_done(self) -> None:
        self.query_one("#ack-expiry", Input).focus()

    @on(Input.Submitted, "#ack-expiry")
    @on(Button.Pressed, "#ack-confirm")
    def _confirm(self) -> None:
        try:
            for_s = parse_duration(self.query_one("#ack-expiry", Input).value)
        except ValueError as exc:
            self.query_one("#ack-error", Static).update(str(exc))
            self.query_one("#ack-expiry", Input).focus()
            return
        note = " ".join(self.query_one("#ack-note", Input).value.split())
        self.dismiss(AckRequest(note, for_s))

    def action_cancel(self) -> None:
        self.dismiss(None)
