"""Panes and small widgets of the console (installed as osconsole.widgets)."""

from osconsole.widgets.pane import LivePane, age_text
from osconsole.widgets.region_strip import RegionStrip

__all__ = ["LivePane", "RegionStrip", "age_text"]
