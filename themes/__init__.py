"""Textual stylesheets and theme definitions (installed as osconsole.themes)."""
