"""Panes and small widgets of the console (installed as osconsole.widgets)."""
