"""osconsole.clean: text from a cloud API shown as data, never as terminal instructions."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from osconsole.clean import (
    BIDI_CONTROLS,
    ELLIPSIS,
    MAX_TEXT,
    UNSAFE,
    clean_optional,
    clean_text,
    clean_tree,
)

TITLE_AND_CLEAR = "\x1b]0;TITLE\x07\x1b[2J\x1b[5;1H"

# Text biased towards what hurts: controls, bidi, line breaks, markup, wide and
# combining characters, surrogates, and anything else Unicode has.
hostile_chars = st.one_of(
    st.sampled_from(sorted(UNSAFE)),
    st.sampled_from(list("[]/\\=#@ \u00e9\u4e2d\u6587\u0301\u0308\u200d\ufeff\u00ad")),
    st.characters(),
)
hostile_text = st.text(hostile_chars, max_size=80) | st.text(max_size=700)


def test_a_terminal_title_and_clear_screen_are_shown_not_obeyed() -> None:
    assert clean_text(f"router{TITLE_AND_CLEAR}-1") == (
        "router\\x1b]0;TITLE\\x07\\x1b[2J\\x1b[5;1H-1"
    )


def test_every_c0_c1_and_del_character_is_escaped_visibly() -> None:
    for code in (*range(0x20), 0x7F, *range(0x80, 0xA0)):
        ch = chr(code)
        if ch in "\t\n\v\f\r\x85":
            continue
        assert clean_text(f"a{ch}b") == f"a\\x{code:02x}b"


def test_bidi_overrides_isolates_and_marks_are_escaped() -> None:
    assert clean_text("invoice\u202egpj.exe") == "invoice\\u202egpj.exe"
    for ch in BIDI_CONTROLS:
        assert clean_text(ch) == f"\\u{ord(ch):04x}"
    assert len(BIDI_CONTROLS) == 12  # U+061C, U+200E/F, U+202A-202E, U+2066-2069


def test_tabs_and_line_breaks_become_one_space_each() -> None:
    assert clean_text("a\tb\nc\r\nd\x85e\u2028f\u2029g\vh\fi") == "a b c d e f g h i"


def test_a_lone_surrogate_from_json_is_escaped_so_the_terminal_can_encode_it() -> None:
    name = json.loads('"web\\ud800"')
    cleaned = clean_text(name)
    assert cleaned == "web\\ud800"
    cleaned.encode("utf-8")  # a lone surrogate would raise UnicodeEncodeError


def test_printable_text_is_returned_as_the_same_object() -> None:
    for name in ("rone-cmp00012", "web[/]-router-1", "[bold]x", "\u4e2d\u6587 caf\u00e9", ""):
        assert clean_text(name) is name


def test_wide_combining_and_joined_characters_are_kept() -> None:
    name = "e\u0301 \u4e2d\u6587 \U0001f468\u200d\U0001f469 \u00adsoft"
    assert clean_text(name) == name


def test_long_text_is_cut_to_the_limit_with_an_ellipsis() -> None:
    assert clean_text("x" * 10_000) == "x" * (MAX_TEXT - 1) + ELLIPSIS
    assert clean_text("abcdef", limit=4) == "abc" + ELLIPSIS
    assert len(clean_text("\x1b" * MAX_TEXT)) == MAX_TEXT  # escapes count too


def test_none_and_non_strings() -> None:
    assert clean_text(None) == ""
    assert clean_text(42) == "42"
    assert clean_optional(None) is None
    assert clean_optional("a\x1bb") == "a\\x1bb"


def test_clean_tree_cleans_every_string_of_a_body_keys_included() -> None:
    body = {
        "servers": [{"name": "a\x1b[2J", "flavor": {"vcpus": 2}, "locked": True}],
        "VCPU\x07": {"total": 8},
        "tags": ("t\u202e",),
    }
    assert clean_tree(body) == {
        "servers": [{"name": "a\\x1b[2J", "flavor": {"vcpus": 2}, "locked": True}],
        "VCPU\\x07": {"total": 8},
        "tags": ["t\\u202e"],
    }


@given(hostile_text)
def test_no_unsafe_character_ever_comes_out(text: str) -> None:
    cleaned = clean_text(text)
    assert not UNSAFE.intersection(cleaned)
    assert len(cleaned) <= MAX_TEXT
    cleaned.encode("utf-8")


@given(hostile_text, st.integers(min_value=1, max_value=MAX_TEXT))
def test_cleaning_is_idempotent(text: str, limit: int) -> None:
    once = clean_text(text, limit)
    assert clean_text(once, limit) == once


@given(st.text(st.characters(exclude_characters=UNSAFE), max_size=MAX_TEXT))
def test_text_without_unsafe_characters_is_unchanged(text: str) -> None:
    assert clean_text(text) == text


@given(hostile_text)
def test_only_unsafe_characters_are_changed(text: str) -> None:
    """Against a character-by-character model (on texts too short to be cut)."""
    text = text[:60]
    model = "".join(
        " " if ch in LINE_BREAKS else escape(ch) if ch in UNSAFE else ch
        for ch in text.replace("\r\n", "\n")
    )
    assert clean_text(text) == model


LINE_BREAKS = frozenset("\t\n\v\f\r\x85\u2028\u2029")


def escape(ch: str) -> str:
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
