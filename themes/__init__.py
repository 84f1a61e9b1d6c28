"""The console's themes (dark, light, high-contrast) and its base stylesheet.

Every colour is one of the 240 colours of the xterm 256-colour palette (the
6x6x6 cube and the grey ramp), so on-call terminals inside tmux, which often
have only 256 colours, show exactly these colours instead of nearest matches.
Colour never carries meaning alone: the panes' tones also set bold, reverse or
underline, and with NO_COLOR (Textual strips colours itself, see App.no_color
and the `:nocolor` pseudo-class) those attributes are what remains.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from textual.app import App
from textual.theme import Theme

CONSOLE_TCSS = Path(__file__).with_name("console.tcss")
"""The App's base stylesheet (layout of the dashboard: `.grid` and `.tabs`)."""

DARK = Theme(
    name="osconsole-dark",
    primary="#5f87d7",
    secondary="#8787af",
    accent="#5fafd7",
    warning="#ffaf00",
    error="#ff5f5f",
    success="#5faf5f",
    foreground="#d0d0d0",
    background="#121212",
    surface="#1c1c1c",
    panel="#303030",
    dark=True,
    variables={
        "text-error": "#ff5f5f",
        "text-warning": "#ffaf00",
        "text-success": "#87d787",
        "text-primary": "#87afff",
        "text-accent": "#5fafd7",
        "text-muted": "#8a8a8a",
        "primary-muted": "#005f87",
        "block-cursor-foreground": "#ffffff",
        "block-cursor-background": "#005f87",
        "block-cursor-blurred-foreground": "#d0d0d0",
        "block-cursor-blurred-background": "#303030",
    },
)

LIGHT = Theme(
    name="osconsole-light",
    primary="#005faf",
    secondary="#5f5f87",
    accent="#0087af",
    warning="#af5f00",
    error="#d70000",
    success="#008700",
    foreground="#1c1c1c",
    background="#eeeeee",
    surface="#ffffff",
    panel="#d0d0d0",
    dark=False,
    variables={
        "text-error": "#af0000",
        "text-warning": "#875f00",
        "text-success": "#005f00",
        "text-primary": "#005faf",
        "text-accent": "#005f87",
        "text-muted": "#585858",
        "primary-muted": "#afd7ff",
        "block-cursor-foreground": "#ffffff",
        "block-cursor-background": "#005faf",
        "block-cursor-blurred-foreground": "#1c1c1c",
        "block-cursor-blurred-background": "#bcbcbc",
    },
)

HIGH_CONTRAST = Theme(
    name="osconsole-high-contrast",
    primary="#00afff",
    secondary="#d7d7ff",
    accent="#00ffff",
    warning="#ffff00",
    error="#ff0000",
    success="#00ff00",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#303030",
    boost="#1c1c1c",
    dark=True,
    text_alpha=1.0,
    variables={
        "text": "#ffffff",
        "text-muted": "#d0d0d0",
        "text-disabled": "#8a8a8a",
        "text-error": "#ff0000",
        "text-warning": "#ffff00",
        "text-success": "#00ff00",
        "text-primary": "#00ffff",
        "text-accent": "#00ffff",
        "text-secondary": "#d7d7ff",
        "foreground-muted": "#d0d0d0",
        "primary-muted": "#0000af",
        "secondary-muted": "#1c1c1c",
        "block-cursor-foreground": "#000000",
        "block-cursor-background": "#ffffff",
        "block-cursor-text-style": "bold",
        "block-cursor-blurred-foreground": "#ffffff",
        "block-cursor-blurred-background": "#585858",
        "block-cursor-blurred-text-style": "bold",
        "block-hover-background": "#262626",
        "border": "#ffffff",
        "border-blurred": "#8a8a8a",
        "scrollbar": "#8a8a8a",
        "scrollbar-hover": "#bcbcbc",
        "scrollbar-active": "#ffffff",
        "scrollbar-background": "#1c1c1c",
        "footer-key-foreground": "#ffff00",
        "footer-background": "#303030",
        "footer-foreground": "#ffffff",
    },
)

THEMES: dict[str, Theme] = {
    "dark": DARK,
    "light": LIGHT,
    "high-contrast": HIGH_CONTRAST,
}
"""The `theme` setting (config.yaml, --theme) -> the Textual theme."""


def theme_name(setting: str) -> str:
    """The registered name of a `theme` setting ("dark" -> "osconsole-dark")."""
    return THEMES[setting].name


def register_themes(app: App[Any]) -> None:
    """Make every console theme available to `app` (App.theme = theme_name(...))."""
    for theme in THEMES.values():
        app.register_theme(theme)


def console_css() -> str:
    """The base stylesheet's text, read from the installed package."""
    return files(__name__).joinpath("console.tcss").read_text(encoding="utf-8")
