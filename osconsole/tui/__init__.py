"""The Textual console: the App, its screens and messages (the only UI package)."""
