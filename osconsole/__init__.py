"""osconsole: a live terminal console for OpenStack operators."""

__version__ = "0.1.0"
