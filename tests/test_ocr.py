"""OCR through RapidOCR (PP-OCRv4 ONNX weights from the rapidocr-onnxruntime wheel)."""

from __future__ import annotations

import difflib
import logging
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw
from skimage import data as skdata

from desktop_search.errors import ModelError
from desktop_search.models.runtime.ocr import (
    SPACE_HINT,
    OcrEngine,
    TextBox,
    repair_ctc_spaces,
    sort_reading_order,
    text_of,
)
from tests.make_pdfs import pillow_font

LINES = ("HARDWARE STORE RECEIPT", "TOTAL 42.50")


def render(lines: tuple[str, ...], size: tuple[int, int] = (900, 260)) -> Image.Image:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((40, 50 + 100 * i), line, font=pillow_font(40), fill="black")
    return image


def similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio()


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    return OcrEngine(threads=2)


def test_import_is_lazy_and_load_is_on_first_read():
    fresh = OcrEngine()
    assert not fresh.loaded
    fresh.load()
    assert fresh.loaded
    fresh.release()
    assert not fresh.loaded


def test_reads_two_rendered_lines_in_order(engine):
    image = render(LINES)
    boxes = engine.read(image)
    assert boxes, "no text found"
    for box in boxes:
        assert 0 < box.confidence <= 1
        assert len(box.box) == 4
        for x, y in box.box:
            assert 0 <= x <= image.width and 0 <= y <= image.height
    text = text_of(boxes)
    lines = text.splitlines()
    assert len(lines) == 2, text
    for got, want in zip(lines, LINES, strict=True):
        assert similar(got, want) >= 0.8, (got, want)
    words = text.lower().split()
    for word in ("hardware", "store", "receipt", "total", "42.50"):
        assert max(similar(word, w) for w in words) >= 0.8, (word, words)
    # Reading order: the first line's boxes come before the second's.
    assert boxes == sort_reading_order(boxes)
    assert boxes[0].top < boxes[-1].top


def test_numpy_rgb_and_grayscale_inputs(engine):
    image = render(LINES)
    from_rgb = text_of(engine.read(np.asarray(image)))
    from_gray = text_of(engine.read(np.asarray(image.convert("L"))))
    assert similar(from_rgb, "\n".join(LINES)) >= 0.8
    assert similar(from_gray, "\n".join(LINES)) >= 0.8


def test_blank_and_empty_images_give_nothing(engine):
    assert engine.read(Image.new("RGB", (400, 300), "white")) == []
    assert engine.read(Image.new("L", (5, 5), 255)) == []
    assert engine.read(np.zeros((0, 0, 3), np.uint8)) == []


def test_a_photo_without_text_gives_little_or_nothing(engine):
    boxes = engine.read(skdata.coffee())
    assert len(text_of(boxes)) <= 3, boxes


def test_rapidocr_logging_stays_quiet(engine, capfd):
    engine.release()
    engine.read(render(LINES[:1]))
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""
    for name in ("RapidOCR", "OrtInferSession"):
        assert not logging.getLogger(name).handlers


def test_reading_order_groups_lines():
    def box(text, x, y, w=50, h=20):
        return TextBox(text, 0.9, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)))

    boxes = [box("world", 120, 12), box("second", 10, 60), box("hello", 10, 10), box("x", 80, 62)]
    ordered = sort_reading_order(boxes)
    assert [b.text for b in ordered] == ["hello", "world", "second", "x"]
    assert text_of(boxes) == "hello world\nsecond x"
    assert text_of([]) == ""


def test_space_repair_only_between_letters_and_digits():
    chars = ["blank", "A", "B", ".", "4", " "]
    blank, space = 0, 5

    def steps(*rows):  # rows of (class, space probability)
        preds = np.zeros((1, len(rows), len(chars)), np.float32)
        for t, (cls, p_space) in enumerate(rows):
            preds[0, t, cls] = 0.9
            preds[0, t, space] = max(preds[0, t, space], p_space)
        return preds

    def decode(preds):
        best = preds.argmax(axis=2)[0]
        out = [c for i, c in enumerate(best) if c != blank and (i == 0 or c != best[i - 1])]
        return "".join(chars[c] for c in out)

    glued = steps((1, 0), (0, 0), (0, 0.2), (0, 0), (2, 0))
    assert decode(repair_ctc_spaces(glued, blank, space, chars)) == "A B"
    faint = steps((1, 0), (0, SPACE_HINT / 2), (2, 0))
    assert decode(repair_ctc_spaces(faint, blank, space, chars)) == "AB"
    punct = steps((4, 0), (0, 0.3), (3, 0), (0, 0.3), (4, 0))
    assert decode(repair_ctc_spaces(punct, blank, space, chars)) == "4.4"


def test_a_missing_ocr_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)  # makes the import fail
    with pytest.raises(ModelError, match=r"desktop-search\[ocr\]"):
        OcrEngine().read(Image.new("RGB", (50, 50), "white"))
