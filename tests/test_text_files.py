"""Plain-text and Markdown files: encodings, binary detection, titles, line locators."""

import io
import random
import zlib

import pytest
from PIL import Image

from desktop_search.errors import FileNotIndexableError
from desktop_search.extract.document import CHUNK, TEXT
from desktop_search.extract.text import decode_text, extract_text_file, markdown_title

GERMAN = (
    "Größere Übungen für Straßenbahnfahrer: Die Prüfung fällt schwer, aber wir schaffen das.\n"
    "Außerdem müssen die Fahrgäste pünktlich sein.\n"
)
FRENCH = "Café crème – déjà vu, “quoted” for €5.\n"
JAPANESE = "日本語のテキストです。これはテストです。\n"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (GERMAN + "Emoji 🙂 ok\n", "utf-8"),
        (GERMAN, "utf-8-sig"),
        (FRENCH, "cp1252"),
        (GERMAN, "latin-1"),
        (GERMAN, "utf-16"),  # with BOM
        (GERMAN, "utf-32"),  # with BOM
        ("Plain ASCII written by a Windows tool.\n", "utf-16-le"),  # no BOM
        (JAPANESE, "utf-16-le"),  # no BOM, no NUL bytes
        (JAPANESE, "shift_jis"),
    ],
)
def test_decodes_each_encoding_to_the_original_text(text, encoding):
    assert decode_text(text.encode(encoding)) == text


def test_newlines_are_normalised_and_bom_dropped():
    data = "\ufeffone\r\ntwo\rthree\nfour".encode("utf-8")
    assert decode_text(data) == "one\ntwo\nthree\nfour"


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        png_bytes(),
        random.Random(6).randbytes(4096),
        zlib.compress(b"hello world " * 500),
        b"text with a NUL\x00 in the middle of an otherwise ASCII line\n" * 3,
        bytes(range(1, 32)) * 20,  # control characters, valid UTF-8
    ],
    ids=["png", "random", "zlib", "nul-in-ascii", "control-chars"],
)
def test_binary_content_is_not_indexable(data):
    with pytest.raises(FileNotIndexableError) as error:
        decode_text(data)
    assert error.value.reason == "not a text file (binary content)"
    with pytest.raises(FileNotIndexableError):
        extract_text_file(data, "file.txt")


@pytest.mark.parametrize("data", [b"", b"  \n\n\t \r\n"])
def test_empty_file_gives_a_document_without_items(data):
    document = extract_text_file(data, "empty.txt")
    assert document.kind == TEXT
    assert document.items == []
    assert document.title is None


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Intro line\n\n# The *Real* Title #\n\n## Sub\n", "The *Real* Title"),
        ("## Second level first\n# Later\n", "Second level first"),
        ("Setext Title\n============\n\nbody\n", "Setext Title"),
        ("Sub title\n---\n", "Sub title"),
        ("---\n# yaml comment\ntitle: x\n---\n# After Front Matter\n", "After Front Matter"),
        ("```\n# not a heading\n```\n# [Linked](http://x.org) heading\n", "Linked heading"),
        ("#hashtag is no heading\nplain text only\n", None),
    ],
)
def test_markdown_title_is_the_first_heading(text, title):
    assert markdown_title(text) == title


def test_markdown_file_title_and_plain_text_without_title():
    data = b"# Holiday plans\n\nWe go to the mountains in July.\n"
    markdown = extract_text_file(data, "notes/Plans.MD")
    assert markdown.title == "Holiday plans"
    assert [item.title for item in markdown.items] == ["Holiday plans"]
    assert extract_text_file(data, "plans.txt").title is None


def numbered_text() -> tuple[str, list[str]]:
    lines = []
    for number in range(1, 301):
        if number % 10 == 0:
            lines.append("")  # paragraph breaks, and lines that hold no chunk start
        lines.append(f"Sentence number {number} talks about the topic of item {number}.")
    return "\n".join(lines) + "\n", lines


def test_chunks_are_located_by_their_first_line():
    text, lines = numbered_text()
    document = extract_text_file(text.encode("cp1252"), "long.txt")
    items = document.items
    assert len(items) > 5
    assert all(item.kind == CHUNK for item in items)
    assert items[0].locator == {"line": 1}
    located = [item.locator["line"] for item in items]
    assert located == sorted(located) and len(set(located)) == len(located)
    for item in items:
        first_sentence = " ".join(item.text.split()[:3])  # "Sentence number N"
        number = item.text.split()[2]
        assert lines[item.locator["line"] - 1].startswith(first_sentence)
        assert f"item {number}." in lines[item.locator["line"] - 1]


def test_latin1_file_is_extracted_with_its_umlauts():
    document = extract_text_file(GERMAN.encode("latin-1"), "brief.txt")
    assert "Straßenbahnfahrer" in document.items[0].text
    assert "pünktlich" in document.items[0].text


def test_a_huge_text_file_is_indexed_in_part_with_a_note():
    from desktop_search.extract.text import MAX_TEXT_CHARS

    line = "log line with the word alpha and some more words to fill it\n"
    data = (line * (MAX_TEXT_CHARS // len(line) + 500) + "omega at the very end\n").encode()
    document = extract_text_file(data, "server.log.txt")
    assert document.notes == ["only the first 2 million characters are indexed"]
    assert "omega" not in document.items[-1].text
    assert sum(len(item.text) for item in document.items) >= MAX_TEXT_CHARS * 0.9


def test_a_one_megabyte_word_is_chunked_and_located_in_linear_time():
    """Each piece of a cut word is found near the previous one (no scan to the end of the text),
    and the text's words are read once: 36 s before for chunk_lines alone, now ~0.3 s."""
    import time

    word = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0123456789+/" * 22_000
    text = "First line.\n" + word + "\n" + "Then some ordinary text follows here.\n" * 200
    started = time.perf_counter()
    document = extract_text_file(text.encode(), "dump.txt")
    elapsed = time.perf_counter() - started
    lines = [item.locator["line"] for item in document.items]
    cut = [
        item
        for item in document.items
        if item.text.startswith(word[:20]) or word[-20:] in item.text
    ]
    assert len(cut) > 1000 and all(item.locator["line"] in (1, 2) for item in cut)
    assert lines == sorted(lines) and 150 < lines[-1] <= 202
    assert elapsed < 20, f"{elapsed:.1f} s"  # ~2 s on an idle machine


def test_a_huge_one_line_file_is_cut_at_a_word():
    from desktop_search.extract.text import MAX_TEXT_CHARS

    # One newline at the very start: the cut must not fall back to it.
    data = ("\n" + "word " * (MAX_TEXT_CHARS // 5 + 100)).encode()
    document = extract_text_file(data, "one-line.txt")
    assert document.notes == ["only the first 2 million characters are indexed"]
    assert sum(len(item.text) for item in document.items) >= MAX_TEXT_CHARS * 0.9


def test_pathological_markdown_lines_are_no_titles_and_take_no_time():
    import time

    # "# " then "#" x 20,000 took the heading pattern 32 s; "[" x 100,000 the link pattern.
    text = "# " + "#" * 1_000_000 + "x\n" + "[" * 100_000 + "\n===\n\n# Real title\n"
    started = time.perf_counter()
    assert markdown_title(text) == "Real title"
    assert time.perf_counter() - started < 2
