"""A widget drawn before (or after) its component styles exist is drawn unstyled, not
a crash: the wall once died at start with "No 'pane--warning' key in COMPONENT_CLASSES"."""

from __future__ import annotations

from rich.style import Style
from textual.app import App, ComposeResult
from textual.widgets import Static

from osconsole.widgets.styling import component_style


class Bare(Static):
    COMPONENT_CLASSES = {"bare--shown"}
    DEFAULT_CSS = "Bare > .bare--shown { text-style: bold; }"


class One(App[None]):
    def compose(self) -> ComposeResult:
        yield Bare("x")


async def test_a_component_style_without_styles_yet_is_no_style() -> None:
    widget = Bare("x")
    assert component_style(widget, "bare--shown") == Style.null()  # not mounted
    app = One()
    async with app.run_test():
        mounted = app.query_one(Bare)
        assert component_style(mounted, "bare--shown").bold
        assert component_style(mounted, "bare--never-styled") == Style.null()
