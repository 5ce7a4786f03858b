"""No PDF can stall or blow up the indexer: page caps, repeated page objects, PDFium's budgets.

The crafted files are built here (tests/make_pdfs.py). The files the issue measured run through
the indexer's own entry point (``extract_document``) in a child process, which reports its peak
resident memory as the kernel counts it (VmHWM) and its extraction time.
Measured before the limits (same machine, 2 cores, busy): the 1 GB content bomb took 2.1 GB
and 16 s, the 1 GB image 640 MB and 11 s, three levels of forms drawn 100 times 1.45 GB and
87 s, one page object listed 100 times with OCR 110-350 s (10,000 times: hours).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from desktop_search.errors import FileNotIndexableError
from desktop_search.extract.pdf import extract_pdf, render_page
from desktop_search.extract.pdf_limits import (
    MAX_OCR_PAGES,
    MAX_PAGE_CONTENT_BYTES,
    MAX_PAGES,
    PdfLimits,
    render_scale,
)
from tests.make_pdfs import (
    drawn_pages_pdf,
    flate_bomb_pdf,
    inline_image_bomb_pdf,
    nested_forms_pdf,
    pdf_stream,
    raw_pdf,
    scanned_pdf,
    shared_pages_pdf,
    text_pages_pdf,
    write,
    zeros_deflated,
)

ROOT = Path(__file__).resolve().parent.parent
GB, MB = 1 << 30, 1 << 20

# Budgets of one file's extraction in the child. Without OCR the child itself (Python, pypdf,
# PDFium, Pillow, numpy) peaks at about 65 MB, and pypdf inflates up to 75 MB of a content
# stream for its text; after the limits every crafted file stays under 90 MB.
PEAK_RSS_MB = 300
BOMB_SECONDS = 5  # measured 0.1-0.3 s after the limits
# One OCR'd page (1-6 s) plus walking up to 10,000 page entries; measured 4-6 s.
SHARED_PAGES_SECONDS = 30
# 1,000 dense pages of text: about 7 s of pypdf on a busy 2-core machine.
THOUSAND_PAGES_SECONDS = 60
DRAWING = "more than 16 MB of drawing instructions"
DATA = "more than 256 MB of images, fonts and other data"

_CHILD = """
import json, resource, sys, time
from pathlib import Path
from PIL import Image
from desktop_search.extract.documents import extract_document

path, mode = Path(sys.argv[1]), sys.argv[2]
calls = []
read_text = None
if mode == "ocr":  # the real engine, loaded before the clock starts
    from desktop_search.models.runtime.ocr import OcrEngine
    engine = OcrEngine(threads=2)
    engine.read_text(Image.new("RGB", (64, 64), "white"))

    def read_text(image):
        calls.append(image.size)
        return engine.read_text(image)
elif mode == "count":  # an OCR that reads nothing, counting what it is given
    def read_text(image):
        calls.append(image.size)
        return ""

data = path.read_bytes()
start = time.monotonic()
document = extract_document(str(path), data, read_text)
seconds = time.monotonic() - start
# The peak of this process's own memory. Not ru_maxrss: Linux carries it over exec, so a
# child's starts at the size of the process it was forked from (pytest: hundreds of MB).
try:
    status = Path("/proc/self/status").read_text()
    peak_kb = int(next(l for l in status.splitlines() if l.startswith("VmHWM:")).split()[1])
except OSError:  # no /proc (macOS: ru_maxrss is in bytes there)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps({
    "seconds": seconds, "peak_rss_mb": peak_kb / 1024, "pages": document.pages,
    "notes": document.notes,
    "item_pages": sorted({item.locator["page"] for item in document.items}),
    "ocr_calls": len(calls), "thumbnail": document.thumbnail is not None,
}))
"""


@dataclass
class Extracted:
    """What the child reports."""

    seconds: float
    peak_rss_mb: float
    pages: int
    notes: list[str]
    item_pages: list[int]
    ocr_calls: int
    thumbnail: bool


def extract_in_child(path: Path, mode: str, budget_seconds: float) -> Extracted:
    """``extract_document`` on ``path`` in a fresh interpreter; ``mode``: "ocr" (the real
    engine), "count" (an OCR that reads nothing) or "none". A child still busy well past
    ``budget_seconds`` (starting Python and loading OCR included) is stopped: the test fails
    instead of waiting hours for what the limits are there to prevent."""
    timeout = 60 + 4 * budget_seconds
    out, err = path.with_suffix(".out"), path.with_suffix(".err")
    with out.open("wb") as stdout, err.open("wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(path), mode], cwd=ROOT, stdout=stdout,
            stderr=stderr,
        )  # fmt: skip
    try:
        child.wait(timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        pytest.fail(f"{path.name}: still extracting after {timeout} s")
    assert child.returncode == 0, err.read_text()[-2000:]
    return Extracted(**json.loads(out.read_text().strip().splitlines()[-1]))


def counting_reader(calls: list[tuple[int, int]]):
    def read_text(image: Image.Image) -> str:
        calls.append(image.size)
        return f"text number {len(calls)} read from the page"

    return read_text


# ---------------------------------------------------------------------------------------------
# The issue's files, and their kin, through the indexer's entry point in a child process


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(lambda: flate_bomb_pdf(1 * GB, "content"), DRAWING, id="content-1gb"),
        pytest.param(lambda: flate_bomb_pdf(4 * GB, "content"), DRAWING, id="content-4gb"),
        pytest.param(lambda: flate_bomb_pdf(1 * GB, "image"), DATA, id="image-1gb"),
        pytest.param(lambda: inline_image_bomb_pdf(256 * MB), DRAWING, id="inline-image-256mb"),
        pytest.param(lambda: nested_forms_pdf(3, 100), DRAWING, id="forms-3-deep-x100"),
    ],
)
def test_a_page_that_would_decode_too_much_is_never_loaded(request, tmp_path, make, reason):
    name = request.node.callspec.id
    path = write(tmp_path / f"{name}.pdf", make())
    result = extract_in_child(path, "count", BOMB_SECONDS)
    assert result.peak_rss_mb < PEAK_RSS_MB, f"{name}: {result.peak_rss_mb:.0f} MB"
    assert result.seconds < BOMB_SECONDS, f"{name}: {result.seconds:.1f} s"
    assert result.pages == 1 and result.ocr_calls == 0 and not result.thumbnail
    assert result.notes == [
        f"no thumbnail: page 1 too large to render ({reason})",
        f"page 1 too large to render ({reason})",
    ]


def test_the_issues_bomb_is_a_1mb_file():
    assert 1.0 * MB < len(flate_bomb_pdf(1 * GB, "content")) < 1.1 * MB


@pytest.mark.parametrize("count", [100, 10_000])
def test_one_page_object_listed_again_and_again_is_ocrd_once(tmp_path, count):
    data = shared_pages_pdf(count)
    assert len(data) < 100 * count  # the trick: a few bytes per declared page
    path = write(tmp_path / f"shared-{count}.pdf", data)
    result = extract_in_child(path, "ocr", SHARED_PAGES_SECONDS)
    assert result.ocr_calls == 1
    assert result.seconds < SHARED_PAGES_SECONDS, f"{count} pages: {result.seconds:.1f} s"
    assert result.pages == count
    read = min(count, MAX_PAGES)
    expected = [f"{read - 1} pages repeat an earlier page (the same page object): read once"]
    if count > MAX_PAGES:
        expected.append(f"only the first {MAX_PAGES:,} of {count:,} pages are indexed")
    assert result.notes == expected


def test_a_1000_page_text_pdf_is_read_whole(tmp_path):
    filler = " ".join(f"Step {k} explains how the valve assembly is serviced." for k in range(30))
    pages = [f"Page marker word{n}x. {filler}" for n in range(1, 1001)]
    path = write(tmp_path / "manual.pdf", text_pages_pdf(pages))
    result = extract_in_child(path, "count", THOUSAND_PAGES_SECONDS)
    assert result.pages == 1000
    assert result.item_pages == list(range(1, 1001))
    assert result.notes == [] and result.ocr_calls == 0 and result.thumbnail
    assert result.seconds < THOUSAND_PAGES_SECONDS, f"{result.seconds:.1f} s"
    assert result.peak_rss_mb < PEAK_RSS_MB, f"{result.peak_rss_mb:.0f} MB"


# ---------------------------------------------------------------------------------------------
# The caps, with smaller limits passed in


def test_the_caps_leave_long_real_documents_whole():
    assert MAX_PAGES >= 1_100  # a long real manual
    assert MAX_OCR_PAGES * 10 <= MAX_PAGES  # OCR costs 1-6 s a page, text a few ms


def test_pages_past_the_page_cap_are_not_read():
    pages = [f"Page marker word{n}x with enough words to count as text." for n in range(1, 31)]
    document = extract_pdf(text_pages_pdf(pages), limits=PdfLimits(max_pages=20))
    assert document.pages == 30
    assert sorted({item.locator["page"] for item in document.items}) == list(range(1, 21))
    assert document.notes == ["only the first 20 of 30 pages are indexed"]


def test_ocr_stops_at_its_cap_with_a_note():
    calls: list[tuple[int, int]] = []
    document = extract_pdf(
        drawn_pages_pdf(8), read_text=counting_reader(calls), limits=PdfLimits(max_ocr_pages=3)
    )
    assert len(calls) == 3
    assert [item.locator for item in document.items] == [
        {"page": n, "ocr": True} for n in (1, 2, 3)
    ]
    assert document.notes == [
        "OCR stopped after 3 pages (the most read per PDF): "
        "5 more pages without a text layer were not read"
    ]


def test_a_repeated_page_object_is_read_once_without_ocr_too():
    document = extract_pdf(shared_pages_pdf(100))
    assert document.pages == 100 and document.items == []
    assert document.notes == [
        "page 1 has no text layer (OCR not available)",
        "99 pages repeat an earlier page (the same page object): read once",
    ]


def test_a_repeated_page_with_text_is_indexed_at_its_first_place():
    document = extract_pdf(shared_pages_pdf(50, drawing="text"))
    assert [item.locator for item in document.items] == [{"page": 1}]
    assert "again and again" in document.items[0].text
    assert document.notes == ["49 pages repeat an earlier page (the same page object): read once"]


# ---------------------------------------------------------------------------------------------
# What PDFium may decode


def test_a_page_too_large_is_neither_looked_at_nor_ocrd():
    calls: list[tuple[int, int]] = []
    document = extract_pdf(flate_bomb_pdf(32 * MB), read_text=counting_reader(calls))
    assert calls == [] and document.thumbnail is None
    assert document.notes == [
        f"no thumbnail: page 1 too large to render ({DRAWING})",
        f"page 1 too large to render ({DRAWING})",
    ]


def test_the_budgets_are_parameters():
    scan = scanned_pdf(["A scanned page"])  # a 1240 x 1754 grey image: 2.2 MB decoded
    assert extract_pdf(scan).thumbnail is not None
    small = PdfLimits(max_data_bytes=1 * MB)
    document = extract_pdf(scan, read_text=lambda image: "never", limits=small)
    assert document.items == [] and document.thumbnail is None
    assert document.notes[-1] == (
        "page 1 too large to render (more than 1 MB of images, fonts and other data)"
    )
    with pytest.raises(FileNotIndexableError, match="page 1 too large to render"):
        render_page(scan, 1, 100, limits=small)


def test_the_bomb_is_stopped_at_the_budget_not_inflated_whole():
    data = flate_bomb_pdf(4 * GB)
    started = time.monotonic()
    with pytest.raises(FileNotIndexableError, match=r"page 1 too large to render \(more than"):
        render_page(data, 1, 256)
    assert time.monotonic() - started < BOMB_SECONDS  # 4 GB would take about 40 s to inflate


def test_content_within_budget_is_drawn():
    # 10,000 forms drawn (two levels of 100) and 8 MB of inline image data: large, but real
    # files come near, and PDFium draws them in a few seconds within about 100 MB.
    for data in (nested_forms_pdf(2, 100), inline_image_bomb_pdf(8 * MB)):
        assert extract_pdf(data).thumbnail is not None


def _page_with_resources(resources: bytes, content: bytes, *more: bytes) -> bytes:
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources " + resources + b" >>",
        pdf_stream(b"", content),
        *more,
    ])  # fmt: skip


def test_only_what_the_page_draws_counts():
    """Many files share one resource dictionary holding every image of the document: an image
    the page does not draw costs PDFium nothing."""
    huge = pdf_stream(
        b"/Type /XObject /Subtype /Image /Width 100000 /Height 100000 /ColorSpace /DeviceRGB"
        b" /BitsPerComponent 8 /Filter /FlateDecode", zeros_deflated(1 * MB),
    )  # fmt: skip
    resources = b"<< /XObject << /Im0 5 0 R >> >>"
    undrawn = _page_with_resources(resources, b"50 50 m 500 500 l S", huge)
    drawn = _page_with_resources(resources, b"q 595 0 0 842 0 0 cm /Im0 Do Q", huge)
    assert extract_pdf(undrawn).thumbnail is not None
    assert extract_pdf(drawn).notes[0] == f"no thumbnail: page 1 too large to render ({DATA})"


def test_a_form_drawing_itself_is_followed_once():
    """PDFium skips a form already being drawn; so does the check (no endless walk)."""
    form = pdf_stream(
        b"/Type /XObject /Subtype /Form /BBox [0 0 595 842]"
        b" /Resources << /XObject << /F 5 0 R >> >>", b"10 10 m 500 800 l S /F Do",
    )  # fmt: skip
    data = _page_with_resources(b"<< /XObject << /F 5 0 R >> >>", b"/F Do", form)
    assert extract_pdf(data).thumbnail is not None


def test_the_content_budget_counts_bytes_decoded():
    # A content stream just over the budget is refused, just under it is drawn.
    assert MAX_PAGE_CONTENT_BYTES == 16 * MB
    assert extract_pdf(flate_bomb_pdf(15 * MB)).thumbnail is not None
    assert extract_pdf(flate_bomb_pdf(17 * MB)).thumbnail is None


# ---------------------------------------------------------------------------------------------
# The pixel budget


@pytest.mark.parametrize(
    ("width", "height"), [(595, 842), (14_400, 10), (10, 14_400), (14_400, 14_400), (0, 0)]
)
def test_the_render_scale_keeps_the_bitmap_within_the_megapixels(width, height):
    for long_side, megapixels in ((100_000, 16.0), (1600, 1.0), (256, 16.0)):
        scale = render_scale(width, height, long_side, megapixels)
        w, h = max(width, 1.0) * scale, max(height, 1.0) * scale
        assert math.ceil(w) * math.ceil(h) <= megapixels * 1_000_000
        assert max(w, h) <= long_side + 1e-6


def test_a_huge_render_request_is_held_to_the_pixel_budget():
    data = text_pages_pdf(["A page rendered far larger than any screen."])
    image = render_page(data, 1, 20_000)
    assert image.width * image.height <= 16_000_000
    assert 1.40 < image.height / image.width < 1.43  # A4 kept its shape
    small = render_page(data, 1, 20_000, limits=PdfLimits(max_megapixels=0.5))
    assert small.width * small.height <= 500_000
