"""The gate before reading text in photos (models/runtime/text_gate.py, index/passes/text.py).

Real photos without text (skimage.data, a flat colour, a gradient) are skipped on the thumbnail
the indexer made of them; photos with text rendered with a TrueType font (light and dark
screenshots, a terminal of small print only, a phone chat, a slide, a receipt and a page
photographed at an angle, signs rotated 15-30 degrees and warped in perspective onto a photo, a
captioned photo) pass it: on the thumbnail, then on windows of the picture decoded for OCR. End
to end, with a real store, real OCR and the real gate: the text of the photos that pass is found
by a search, and the photos the thumbnail shows no text in are not decoded a second time.
"""
from __future__ import annotations

import io
import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_search.extract.images import load_photo, read_file
from desktop_search.index.decode import THUMBNAIL_SIZE
from desktop_search.index.indexer import Indexer, IndexOptions
from desktop_search.index.passes.text import OCR_SIDE, worth_keeping
from desktop_search.index.report import IndexReport
from desktop_search.models.runtime.ocr import OcrEngine
from desktop_search.models.runtime.text_gate import (
    MIN_STEPS,
    GateVerdict,
    TextGate,
    detector_input,
    strong_steps,
)
from desktop_search.search.query import KEYWORD
from desktop_search.search.searcher import Query, Searcher
from desktop_search.store.store import Store
from desktop_search.store.thumbnails import ThumbnailStore
from desktop_search.vectors.index import VectorIndex
from desktop_search.vectors.spaces import CLIP, Space, Spaces
from tests.small_encoders import ColorEncoder
from tests.text_photos import (
    PLAIN_PHOTOS,
    TextPhoto,
    chat_screenshot,
    flat,
    gradient,
    meme,
    page,
    plain_photo,
    receipt,
    screenshot,
    sign,
    slide,
    terminal,
)

# Half the real pixel sizes: the thumbnails are the same 256 px, the files quicker to make.
SCALE = 0.5

WITH_TEXT = [
    screenshot(0, SCALE), screenshot(1, SCALE, dark=True), terminal(0, SCALE),
    terminal(1, 1.0), chat_screenshot(0, SCALE),
    slide(0, SCALE), receipt(0, SCALE), page(0, SCALE), meme(0, SCALE),
    sign(0, SCALE, degrees=15), sign(1, SCALE, degrees=-30, share=0.3),
]  # fmt: skip
WITHOUT_TEXT = [
    *(plain_photo(name, SCALE) for name in PLAIN_PHOTOS), flat((32, 96, 160), SCALE),
    flat((250, 250, 250), SCALE), gradient(SCALE),
]  # fmt: skip


def thumbnail(photo: TextPhoto) -> Image.Image:
    """The thumbnail the indexer stores for ``photo`` (the same decoder and size)."""
    decoded = load_photo(photo.encoded(), min_side=THUMBNAIL_SIZE, thumb_size=THUMBNAIL_SIZE)
    return Image.open(io.BytesIO(decoded.thumbnail))


def ocr_picture(photo: TextPhoto) -> Image.Image:
    """The picture the pass decodes for OCR (index/passes/text.py)."""
    image = load_photo(photo.encoded(), min_side=OCR_SIDE, thumb_size=16).image
    scale = min(1.0, OCR_SIDE * 2 / max(image.size))
    return image.resize((round(image.width * scale), round(image.height * scale)))


def final_verdict(gate: TextGate, photo: TextPhoto) -> tuple[GateVerdict, GateVerdict]:
    """The verdict on the thumbnail, and the final one (after looking closer when asked)."""
    first = gate.look(thumbnail(photo))
    return first, (gate.look_closer(ocr_picture(photo), first) if first.closer else first)


@pytest.fixture(scope="module")
def gate() -> TextGate:
    return TextGate(threads=2)


@pytest.mark.parametrize("photo", WITHOUT_TEXT, ids=lambda photo: photo.name)
def test_photos_without_text_are_skipped(gate: TextGate, photo: TextPhoto) -> None:
    first, final = final_verdict(gate, photo)
    assert not final.has_text, (first, final)


@pytest.mark.parametrize("photo", WITH_TEXT, ids=lambda photo: photo.name)
def test_photos_with_text_pass(gate: TextGate, photo: TextPhoto) -> None:
    first, final = final_verdict(gate, photo)
    assert final.has_text, (first, final)
    # Small print is too small for the thumbnail: found in the picture decoded for OCR.
    assert first.step == ("small print" if photo.name.startswith("terminal") else "strokes")
    assert first.closer and final.step == "closer"


def test_flat_pictures_are_decided_without_the_detector() -> None:
    fresh = TextGate(threads=1)
    for photo in (flat((200, 30, 30), SCALE), gradient(SCALE)):
        verdict = fresh.look(thumbnail(photo))
        assert verdict == GateVerdict(False, "contrast", verdict.steps)
        assert verdict.steps < MIN_STEPS
    assert not fresh.loaded  # the detector's session was never needed


def test_strong_steps_count_edges_of_strokes() -> None:
    grey = np.full((20, 20), 200, np.uint8)
    assert strong_steps(grey) == 0
    grey[5:15, 10] = 20  # one dark vertical stroke, 10 px long
    # Its 10 pixels (a step to their right neighbour), the 10 to its left and the one above.
    assert strong_steps(grey) == 21
    grey[:, :] = 200
    grey[5:15, 10] = 180  # too faint to be print
    assert strong_steps(grey) == 0


def test_detector_input_is_normalised_bgr_in_multiples_of_32() -> None:
    image = Image.new("RGB", (256, 144), (255, 0, 0))
    tensor = detector_input(image, 320)
    assert tensor.shape == (1, 3, 192, 320) and tensor.dtype == np.float32
    assert np.allclose(tensor[0, 2], 1.0) and np.allclose(tensor[0, 0], -1.0)  # red, last


# -- end to end --------------------------------------------------------------------------------

# Smaller still: OCR's time grows with the pixels (the smallest text here is 13 px high).
E2E_SCALE = 0.35
END_TO_END_TEXT = [sign(2, E2E_SCALE, degrees=25), receipt(1, E2E_SCALE),
                   screenshot(2, E2E_SCALE, dark=True), terminal(2, 0.5)]  # fmt: skip
END_TO_END_PLAIN = [plain_photo("coffee", E2E_SCALE), plain_photo("rocket", E2E_SCALE),
                    flat((32, 96, 160), E2E_SCALE)]  # fmt: skip


@pytest.fixture(scope="module")
def ocr() -> OcrEngine:
    return OcrEngine(threads=2)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "library.db")
    yield opened
    opened.close()


def make_indexer(store: Store, tmp_path: Path, ocr: OcrEngine, reads: Counter[str],
                 **options: object) -> Indexer:  # fmt: skip
    """Files read in this process, each read counted: a photo decoded again for OCR is read
    again."""

    def read(path: Path) -> bytes:
        reads[path.name] += 1
        return read_file(path)

    chosen = IndexOptions(**{"read": read, "threads": 2, "documents": False, **options})  # type: ignore[arg-type]
    clip = Space.holding(CLIP, ColorEncoder(), "colors-1", VectorIndex(4))
    return Indexer(store, Spaces(clip=clip), ThumbnailStore(tmp_path / "thumbnails"), chosen,
                   read_text=ocr.read_text, text_gate=ocr.gate)  # fmt: skip


def keyword_hits(store: Store, tmp_path: Path, word: str) -> list[str]:
    searcher = Searcher(store, Spaces(), ThumbnailStore(tmp_path / "thumbnails"))
    return [Path(hit.path).name for hit in searcher.search(Query(text=word, mode=KEYWORD))]


def test_text_in_photos_that_pass_is_found_and_the_others_are_not_decoded_again(
    store: Store, tmp_path: Path, ocr: OcrEngine, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "Pictures"
    names = {photo.write(folder).name: photo for photo in END_TO_END_TEXT + END_TO_END_PLAIN}
    reads: Counter[str] = Counter()
    with caplog.at_level(logging.DEBUG, logger="desktop_search.index.passes.text"):
        report = make_indexer(store, tmp_path, ocr, reads).run([folder])
    assert report.failed == 0 and report.photo_texts == len(END_TO_END_TEXT)
    for name, photo in names.items():
        # Read once to index it; a photo with text a second time, to read its text.
        assert reads[name] == (2 if photo.has_text else 1), (name, reads)
        for word in photo.words:  # (the words are drawn from one list: others may hold it too)
            assert name in keyword_hits(store, tmp_path, word), (name, word)
    states = dict(store.db.execute("SELECT path, photo_text FROM files").fetchall())
    assert {Path(p).name: s for p, s in states.items()} == {
        name: "found" if photo.has_text else "none" for name, photo in names.items()
    }
    gated = [r.getMessage() for r in caplog.records if r.getMessage().startswith("text gate on")]
    assert len(gated) == len(names)  # every photo was looked at by the gate


def test_a_photo_without_its_thumbnail_is_read_all_the_same(
    store: Store, tmp_path: Path, ocr: OcrEngine
) -> None:
    folder = tmp_path / "Pictures"
    photo = END_TO_END_TEXT[0]
    name = photo.write(folder).name
    reads: Counter[str] = Counter()
    make_indexer(store, tmp_path, ocr, reads, photo_text=False).run([folder])
    for thumb in (tmp_path / "thumbnails").rglob("*.jpg"):
        thumb.unlink()  # a cache: cleared by the user, or not written yet
    report = IndexReport()
    assert make_indexer(store, tmp_path, ocr, reads).read_photo_texts(report) == 1
    assert report.photo_texts == 1 and reads[name] == 2
    assert name in keyword_hits(store, tmp_path, photo.words[0])


def test_the_ocr_engine_owns_one_gate_loaded_on_its_first_look() -> None:
    engine = OcrEngine(threads=1)
    gate = engine.gate
    assert gate is not None and gate is engine.gate and not gate.loaded
    assert not engine.loaded  # the gate needs none of RapidOCR's pipeline
    assert gate.look(thumbnail(slide(1, SCALE))).has_text and gate.loaded
    engine.release()
    assert not gate.loaded


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("00000C", False),  # what OCR read in rows of page dots (photo-set-85)
        ("®\nOOOOOO", False),
        ("8 88\n8\n00000000000", False),
        ("oOoO", False),  # case does not make a letter different
        ("a b", False),  # too short
        ("2024", True),
        ("CITY MUSEUM", True),
        ("TOTAL 42.50", True),
    ],
)
def test_ocr_noise_and_patterns_are_not_kept_as_text(text: str, kept: bool) -> None:
    assert worth_keeping(text) is kept
