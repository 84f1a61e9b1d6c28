"""A widget's component style, or none while it has no styles.

Textual fills a widget's component styles when its stylesheet is applied; a widget
drawn in between (just mounted, or being unmounted as an app exits) raises KeyError
for every component. Colour only adds emphasis here (every state is also a word), so
such a draw goes on unstyled instead of crashing the console or the wall."""

from __future__ import annotations

from rich.style import Style
from textual.widget import Widget


def component_style(widget: Widget, component: str) -> Style:
    if not widget.is_mounted:
        return Style.null()
    try:
        return widget.get_component_rich_style(component, partial=True)
    except KeyError:
        return Style.null()
