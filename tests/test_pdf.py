"""PDF extraction: page-located chunks, metadata, OCR of scans, encryption, damage, rendering."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import numpy as np
import pypdf
import pytest
from PIL import Image

from desktop_search.errors import FileNotIndexableError, ModelError
from desktop_search.extract.document import CHUNK, PDF
from desktop_search.extract.page_text import clean_page_text
from desktop_search.extract.pdf import FORGET_EVERY_PAGES, extract_pdf, render_page
from desktop_search.extract.pdf_limits import PageCost
from desktop_search.models.runtime.ocr import OcrEngine
from tests.make_pdfs import (
    broken_pdf,
    encrypted_pdf,
    flate_bomb_pdf,
    font_path,
    join_pdfs,
    scanned_pdf,
    text_pdf,
)

PAGES = [
    "The first page is about apples and orchards in the spring.",
    "The second page mentions a zeppelin flying over the harbour at dawn.",
    "The third page closes with notes on lighthouse maintenance schedules.",
]
CREATED = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.fixture(scope="module")
def three_pages() -> bytes:
    return text_pdf(PAGES, title="Field Notes", created=CREATED)


def pages_with(document, word: str) -> set[int]:
    return {item.locator["page"] for item in document.items if word in item.text.lower()}


def test_text_pages_become_chunks_located_by_page(three_pages):
    document = extract_pdf(three_pages)
    assert document.kind == PDF
    assert document.pages == 3
    assert pages_with(document, "apples") == {1}
    assert pages_with(document, "zeppelin") == {2}
    assert pages_with(document, "lighthouse") == {3}
    assert all(item.kind == CHUNK for item in document.items)
    assert [item.locator for item in document.items] == [{"page": 1}, {"page": 2}, {"page": 3}]
    assert document.items[1].text == PAGES[1]
    assert document.notes == []


def test_title_and_creation_time_come_from_the_metadata(three_pages):
    document = extract_pdf(three_pages)
    assert document.title == "Field Notes"
    assert {item.title for item in document.items} == {"Field Notes"}
    assert document.created_at == "2021-03-04T05:06:07+00:00"
    untitled = extract_pdf(text_pdf(["Some text without a title in the metadata at all."]))
    assert untitled.title is None and untitled.items[0].title is None


def test_a_long_page_gives_several_overlapping_chunks_of_that_page():
    sentences = [
        f"Paragraph {n} describes the migration of cranes across the valley." for n in range(60)
    ]
    document = extract_pdf(
        text_pdf(["Cover page of the report, with its title.", " ".join(sentences)])
    )
    second = [item for item in document.items if item.locator == {"page": 2}]
    assert len(second) >= 3
    assert "Paragraph 0 describes" in second[0].text
    assert "Paragraph 59 describes" in second[-1].text
    assert all(item.locator["page"] in (1, 2) for item in document.items)


def test_many_pages_keep_their_numbers():
    count = 2 * FORGET_EVERY_PAGES + 5  # past the points where parsed objects are dropped
    document = extract_pdf(
        text_pdf([f"Page marker word{n}x for this page." for n in range(1, count + 1)])
    )
    assert document.pages == count
    for n in (1, FORGET_EVERY_PAGES, FORGET_EVERY_PAGES + 1, count):
        assert pages_with(document, f"word{n}x") == {n}


def test_blank_and_short_pages_need_no_ocr():
    document = extract_pdf(
        text_pdf(["A page of ordinary text, long enough to count.", "", "Thanks."])
    )
    assert document.pages == 3
    assert [item.locator["page"] for item in document.items] == [1, 3]
    assert document.items[1].text == "Thanks."
    assert document.notes == []


def test_words_hyphenated_at_line_ends_are_found_whole():
    # As LaTeX and Texinfo set long manuals: a word split over two lines with a hyphen.
    page = "Set the envi-\nronment variable before the pro-\ngram starts. See Byte-\nCode."
    document = extract_pdf(text_pdf([page]))
    text = document.items[0].text
    assert "environment variable" in text and "program starts" in text
    assert "Byte- Code" in text  # a capital after the break: a name, kept as it is


def test_page_text_is_normalised_for_the_index():
    assert clean_page_text("\ufb01nd the \ufb02oor") == "find the floor"  # ligatures
    assert clean_page_text("re-\n  run and x-\n2 and e-\nMail") == "rerun and x-\n2 and e-\nMail"
    invisible = "soft\u00adhyphen zero\u200bwidth \ufeffbom"
    assert clean_page_text(invisible) == "softhyphen zerowidth bom"
    # gnuplot's manual draws bullets with U+0088, a C1 control: a space, like C0 controls.
    assert clean_page_text("\x88 item\x00one\ttab\nline") == "  item one\ttab\nline"
    assert clean_page_text("broken \ud800 font") == "broken \ufffd font"


@pytest.mark.skipif(font_path() is None, reason="no TrueType font on this machine")
def test_non_latin_text_is_extracted():
    document = extract_pdf(text_pdf(["Grüße aus Köln: naïve Café-Besucher zahlen 5 €. Ελλάδα."]))
    text = document.items[0].text
    assert "Grüße aus Köln" in text and "Ελλάδα" in text


def test_thumbnail_is_page_one_fitted(three_pages):
    document = extract_pdf(three_pages, thumbnail_size=128)
    thumbnail = document.thumbnail
    assert thumbnail is not None and thumbnail.mode == "RGB"
    assert max(thumbnail.size) == 128 and thumbnail.size[1] > thumbnail.size[0]  # A4 portrait
    pixels = np.asarray(thumbnail)
    assert pixels.mean() > 200  # a white page ...
    assert pixels.min() < 200  # ... with some (tiny, anti-aliased) text on it


def test_render_page_fits_the_size(three_pages):
    image = render_page(three_pages, 2, 400)
    assert isinstance(image, Image.Image) and image.mode == "RGB"
    assert image.size[1] == 400 and 270 <= image.size[0] <= 290  # A4: 210 x 297
    assert max(render_page(three_pages, 3, 50).size) == 50


def test_render_page_refuses_bad_pages_and_files(three_pages):
    for page in (0, 4):
        with pytest.raises(FileNotIndexableError, match="no page"):
            render_page(three_pages, page, 100)
    with pytest.raises(FileNotIndexableError, match="damaged PDF"):
        render_page(b"not a pdf at all", 1, 100)
    with pytest.raises(FileNotIndexableError, match="encrypted"):
        render_page(encrypted_pdf("Secret words.", "hunter2"), 1, 100)


@pytest.mark.parametrize("aes", [False, True], ids=["rc4", "aes128"])
def test_password_protected_pdf_is_not_indexable(aes):
    with pytest.raises(FileNotIndexableError) as caught:
        extract_pdf(encrypted_pdf("Secret quarterly numbers.", "hunter2", aes=aes))
    assert "encrypted" in caught.value.reason
    assert caught.value.reason == "encrypted PDF (password protected)"


@pytest.mark.parametrize("aes", [False, True], ids=["rc4", "aes128"])
def test_pdf_with_only_an_owner_password_is_read(aes):
    document = extract_pdf(encrypted_pdf("Restricted printing, open reading.", "", aes=aes))
    assert [item.text for item in document.items] == ["Restricted printing, open reading."]
    assert document.thumbnail is not None
    assert document.notes == []


@pytest.mark.parametrize(
    "data",
    [broken_pdf("truncated"), broken_pdf("garbage"), b"", b"PK\x03\x04 a zip file, not a PDF"],
    ids=["truncated", "garbage", "empty", "zip"],
)
def test_damaged_pdf_is_not_indexable(data, capfd):
    with pytest.raises(FileNotIndexableError) as caught:
        extract_pdf(data)
    assert caught.value.reason.startswith("damaged PDF")
    assert len(caught.value.reason) < 200
    captured = capfd.readouterr()  # pypdf's complaints go to logging, never to the terminal
    assert captured.out == "" and captured.err == ""


def test_scanned_pages_without_ocr_are_noted_and_skipped():
    document = extract_pdf(scanned_pdf(["Nothing to read here", "Nor here"]))
    assert document.pages == 2
    assert document.items == []
    assert document.notes == [
        "page 1 has no text layer (OCR not available)",
        "page 2 has no text layer (OCR not available)",
    ]
    assert document.thumbnail is not None


def test_scanned_pages_are_rendered_for_ocr_one_by_one():
    seen: list[tuple[str, tuple[int, int]]] = []

    def read_text(image: Image.Image) -> str:
        seen.append((image.mode, image.size))
        if len(seen) == 2:
            raise RuntimeError("recogniser crashed")
        return f"text read from scan number {len(seen)}"

    document = extract_pdf(scanned_pdf(["one", "two", "three"]), read_text=read_text)
    assert [mode for mode, _ in seen] == ["RGB"] * 3
    assert all(max(size) == 1600 for _, size in seen)
    assert [(item.locator, item.text) for item in document.items] == [
        ({"page": 1, "ocr": True}, "text read from scan number 1"),
        ({"page": 3, "ocr": True}, "text read from scan number 3"),
    ]
    assert document.notes == ["page 2: OCR failed (RuntimeError: recogniser crashed)"]


def test_an_ocr_engine_that_cannot_load_is_asked_once():
    calls = []

    def read_text(image: Image.Image) -> str:
        calls.append(image.size)
        raise ModelError("OCR models cannot be loaded")

    document = extract_pdf(scanned_pdf(["one", "two"]), read_text=read_text)
    assert len(calls) == 1 and document.items == []
    assert document.notes == [
        "page 1: OCR not available (OCR models cannot be loaded)",
        "page 2 has no text layer (OCR not available)",
    ]


def test_scanned_page_is_read_by_the_real_ocr_engine():
    mixed = join_pdfs(
        text_pdf(["A typed page about the orchard and its old pear trees."]),
        scanned_pdf(["Invoice 4711 from Gutenberg Printing"]),
    )
    document = extract_pdf(mixed, read_text=OcrEngine(threads=2).read_text)
    assert document.pages == 2
    assert pages_with(document, "orchard") == {1}
    assert [item.locator for item in document.items] == [{"page": 1}, {"page": 2, "ocr": True}]
    text = document.items[1].text.lower()
    assert "gutenberg" in text and "invoice" in text and "4711" in text
    assert document.notes == []


def test_extraction_and_rendering_from_many_threads(three_pages):
    """PDFium is not thread-safe; the module serialises its calls."""
    scan = scanned_pdf(["x"])

    def work(n: int) -> tuple[int, int]:
        if n % 3 == 0:
            return render_page(three_pages, 1 + n % 3, 120).size
        document = extract_pdf(scan if n % 3 == 1 else three_pages, read_text=lambda im: "ok")
        return len(document.items), document.pages or 0

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(work, range(24)))
    assert results.count((1, 1)) == 8 and results.count((3, 3)) == 8


def test_ordinary_pdfs_are_far_within_the_render_budgets():
    """The check before PDFium refuses crafted pages, not the documents people have."""
    files = [
        text_pdf(PAGES, title="Field Notes"),
        scanned_pdf(["A scanned letter", "Its second page"]),
        join_pdfs(text_pdf(["A typed page."]), scanned_pdf(["A scanned page"])),
        encrypted_pdf("Restricted printing, open reading.", ""),
    ]
    if font_path() is not None:
        files.append(text_pdf(["Grüße aus Köln: Ελλάδα, with an embedded TrueType font."]))
    for data in files:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            reader.decrypt("")
        cost = PageCost()
        assert [cost.too_large(page) for page in reader.pages] == [None] * len(reader.pages)


def test_render_page_refuses_a_page_too_large_to_render():
    """The preview renders through render_page: it obeys the same check as the indexer."""
    bomb = flate_bomb_pdf(32 << 20)  # 32 KB of content that inflates to 32 MB
    with pytest.raises(FileNotIndexableError) as caught:
        render_page(bomb, 1, 800)
    assert caught.value.reason == (
        "page 1 too large to render (more than 16 MB of drawing instructions)"
    )
