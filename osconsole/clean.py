"""Text from a cloud API made safe to show: data, never terminal instructions.

Any tenant can name a router, and a service's `disabled_reason` is free text. Such a
string holding `ESC ] 0 ; ... BEL` sets the operator's terminal title, `ESC [ 2 J`
clears it, and a right-to-left override makes `gpj.exe` read as `exe.jpg`. So every
string taken from an API body is cleaned once, where it enters the model: control
characters (C0, DEL, C1), bidirectional overrides, isolates and marks, and lone
surrogates (which JSON allows and a UTF-8 terminal cannot encode) are shown visibly
as `\\x1b` / `\\u202e`, so the operator sees that something odd was there; tabs and
line breaks become a space (names are one line); and the length is bounded.

Plain printable text, which is nearly every name, comes back as the very same object
after two C-level checks: this runs on every name of 100,000 servers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Longer than any name or reason an OpenStack API stores (255 characters), with room
# for a few escapes; a longer string is cut and ends with ELLIPSIS.
MAX_TEXT = 512
ELLIPSIS = "\u2026"

LINE_BREAKS = "\t\n\v\f\r\x85\u2028\u2029"
BIDI_CONTROLS = (
    "\u061c"  # ARABIC LETTER MARK
    "\u200e\u200f"  # LEFT-TO-RIGHT MARK, RIGHT-TO-LEFT MARK
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings, POP, overrides
    "\u2066\u2067\u2068\u2069"  # isolates, POP DIRECTIONAL ISOLATE
)


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _table() -> dict[int, str]:
    table = {code: _escape(code) for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
    table.update({ord(ch): _escape(ord(ch)) for ch in BIDI_CONTROLS})
    table.update({code: _escape(code) for code in range(0xD800, 0xE000)})  # surrogates
    table.update({ord(ch): " " for ch in LINE_BREAKS})
    return table


_TRANSLATE = _table()
UNSAFE = frozenset(map(chr, _TRANSLATE))  # every character that never comes out as itself


def clean_text(value: Any, limit: int = MAX_TEXT) -> str:
    """`value` as one line of inert text, at most `limit` characters (see the module).

    None becomes ""; other non-strings their `str()`. Idempotent: cleaning clean
    text changes nothing.
    """
    if type(value) is str:
        if value.isprintable() and len(value) <= limit:
            return value  # every character in UNSAFE is non-printable: nothing to do
        text = value
    elif value is None:
        return ""
    else:
        text = str(value)
    if not text.isprintable():
        text = text.replace("\r\n", "\n").translate(_TRANSLATE)
    if len(text) > limit:
        text = text[: max(0, limit - 1)] + ELLIPSIS
    return text


def clean_optional(value: Any, limit: int = MAX_TEXT) -> str | None:
    """clean_text, keeping None (an absent field) as None."""
    return None if value is None else clean_text(value, limit)


def clean_tree(value: Any) -> Any:
    """A copy of a decoded JSON body with every string, keys included, cleaned: for
    code that reads an API body directly rather than through a collector's parser."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        return {clean_text(k): clean_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_tree(v) for v in value]
    return value


__all__ = ["MAX_TEXT", "UNSAFE", "clean_optional", "clean_text", "clean_tree"]
