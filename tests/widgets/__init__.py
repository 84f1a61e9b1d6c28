"""Tests of the console widgets (osconsole.widgets) under Textual's pilot."""
