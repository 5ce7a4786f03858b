"""desktop_search.extract.clean: every string the extractors return made valid UTF-8."""

from __future__ import annotations

import json
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop_search.extract.clean import REPLACEMENT, clean_document, clean_text, clean_value
from desktop_search.extract.document import MESSAGE, Document, ImageItem, TextItem

# Bounded runs, no example database written into the working tree.
PROPERTIES = settings(max_examples=200, deadline=None, database=None)
# Any code point, lone surrogates included (hypothesis leaves them out by default).
ANY_CHARACTER = st.characters(exclude_categories=())
# Control characters clean text never holds (tab and newline are fine).
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def is_clean(text: str) -> bool:
    text.encode("utf-8")  # raises on any surrogate
    return CONTROLS.search(text) is None


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("half an emoji \ud83d here", f"half an emoji {REPLACEMENT} here"),
        ("\ude00 low half first", f"{REPLACEMENT} low half first"),
        ("pair as two escapes \ud83d\ude00", "pair as two escapes 😀"),
        ("\ud83d\udc80 in the escaped-byte range", "💀 in the escaped-byte range"),
        ("swapped \ude00\ud83d", f"swapped {REPLACEMENT}{REPLACEMENT}"),
        ("nul\x00between", "nul between"),
        ("escape \x1b[31mred\x1b[0m", "escape  [31mred [0m"),
        ("del\x7f", "del "),
        ("windows\r\nold mac\rend", "windows\nold mac\nend"),
        ("page\x0cbreak\x0bvertical tab", "page\nbreak\nvertical tab"),
        ("tab\tand\nnewline stay", "tab\tand\nnewline stay"),
        ("RTL \u200fmark, \u202eoverride and BOM \ufeff stay", None),
        ("", ""),
    ],
)
def test_clean_text_cases(dirty, clean):
    assert clean_text(dirty) == (dirty if clean is None else clean)


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"caf\xc3\xa9", "café"),  # UTF-8 bytes escaped one by one are decoded again
        (b"\xf0\x9f\x98\x80 grin", "😀 grin"),
        (b"\xed\xa0\xbd\xed\xb8\x80 CESU-8", "😀 CESU-8"),  # an emoji as two encoded surrogates
        (b"\xed\xa0\xbd lone CESU-8 half", f"{REPLACEMENT} lone CESU-8 half"),
        (b"latin-1 caf\xe9!", f"latin-1 caf{REPLACEMENT}!"),
        (b"\xff\xfe", f"{REPLACEMENT}{REPLACEMENT}"),
    ],
)
def test_surrogateescape_bytes_are_decoded_or_replaced(raw, text):
    assert clean_text(raw.decode("utf-8", "surrogateescape")) == text


def test_chat_export_with_a_cut_emoji_as_json_escapes():
    # What a Telegram export holds when an emoji was cut in half: valid JSON, invalid UTF-8.
    message = json.loads('{"text": "see you \\ud83d and \\ud83d\\ude00"}')["text"]
    assert clean_text(message) == f"see you {REPLACEMENT} and 😀"


def test_clean_text_returns_clean_text_itself():
    text = "Größere Übungen 😀\tfür\nStraßenbahnfahrer"
    assert clean_text(text) is text


@PROPERTIES
@given(st.text(alphabet=ANY_CHARACTER, max_size=300))
def test_any_text_comes_out_valid_and_cleaning_is_idempotent(text):
    cleaned = clean_text(text)
    assert is_clean(cleaned)
    assert clean_text(cleaned) == cleaned
    assert len(cleaned) <= len(text)  # only ever replaces, joins or drops


@PROPERTIES
@given(st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=300))
def test_valid_text_without_controls_is_unchanged(text):
    assert clean_text(text) == text


@PROPERTIES
@given(st.binary(max_size=300))
def test_any_bytes_decoded_with_surrogateescape_come_out_valid(data):
    cleaned = clean_text(data.decode("utf-8", "surrogateescape"))
    assert is_clean(cleaned)
    # Invalid bytes become U+FFFD, never more of them than a decoder with "replace" makes.
    assert cleaned.count(REPLACEMENT) <= data.decode("utf-8", "replace").count(REPLACEMENT)


@PROPERTIES
@given(st.characters(min_codepoint=0x10000), st.text(max_size=20), st.text(max_size=20))
def test_surrogate_pairs_are_joined_from_any_path(character, before, after):
    pair = character.encode("utf-16-be")
    high, low = int.from_bytes(pair[:2], "big"), int.from_bytes(pair[2:], "big")
    expected = clean_text(before) + character + clean_text(after)
    # Two code points, as a JSON decoder without pairing or a UTF-16 "surrogatepass" decode
    # would leave them.
    assert clean_text(before + chr(high) + chr(low) + after) == expected
    # CESU-8 bytes (each half UTF-8 encoded on its own) read with surrogateescape.
    cesu = chr(high).encode("utf-8", "surrogatepass") + chr(low).encode("utf-8", "surrogatepass")
    escaped = cesu.decode("utf-8", "surrogateescape")
    assert clean_text(before + escaped + after) == expected


def test_clean_document_cleans_every_string_in_place():
    dirty = "x\ud83dy\x00"
    document = Document(
        kind="chat", title=dirty, created_at=dirty, notes=[dirty],
        items=[TextItem(MESSAGE, dirty, {"chat": dirty, dirty: [dirty, {"deep": (dirty,)}]},
                        title=dirty, started_at=dirty, ended_at=dirty, senders=(dirty, "ok"))],
    )  # fmt: skip
    picture = ImageItem(image=None, locator={"attachment": dirty}, title=dirty, senders=(dirty,))
    document.images.append(picture)
    assert clean_document(document) is document
    clean = f"x{REPLACEMENT}y "
    item = document.items[0]
    assert (document.title, document.created_at, document.notes) == (clean, clean, [clean])
    assert (item.text, item.title, item.started_at, item.ended_at) == (clean,) * 4
    assert item.senders == (clean, "ok")
    assert item.locator == {"chat": clean, clean: [clean, {"deep": (clean,)}]}
    assert (picture.title, picture.senders) == (clean, (clean,))
    assert picture.locator == {"attachment": clean}
    assert json.dumps(item.locator, ensure_ascii=False).encode("utf-8")


def test_clean_value_leaves_other_values_alone():
    assert clean_value({"line": 3, "ratio": 0.5, "none": None, "ok": True}) == {
        "line": 3, "ratio": 0.5, "none": None, "ok": True,
    }  # fmt: skip


def test_cleaning_ten_megabytes_is_fast():
    """The numbers in clean_text's docstring, with a bound generous enough for a loaded CI
    machine: clean text is one encode and one byte scan."""
    clean = ("Größere Übungen für Straßenbahnfahrer, and some ASCII too. " * 200_000)[:10_000_000]
    dirty = ("x" * 990 + "\ud83d\x00ab\r\nzz") * 10_000
    for text, bound in ((clean, 1.0), (dirty, 3.0)):
        started = time.perf_counter()
        cleaned = clean_text(text)
        elapsed = time.perf_counter() - started
        assert is_clean(cleaned)
        assert elapsed < bound, f"{elapsed:.2f} s for {len(text):,} characters"
