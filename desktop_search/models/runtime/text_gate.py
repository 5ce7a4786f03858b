"""Whether a photo holds text at all, decided on its thumbnail before OCR reads it.

Reading the text in a photo (``ocr.py``: PP-OCRv4 detection at up to 2000 px, then recognition)
costs about 0.5 s, and most photos hold none. The gate looks at the 256 px thumbnail the indexer
stored for every photo (:meth:`TextGate.look`):

1. Contrast (numpy, under a millisecond): text is strokes that stand out from their background.
   A thumbnail with fewer than :data:`MIN_STEPS` steps of :data:`STEP` grey levels between
   neighbouring pixels holds none that could be read: flat colours, gradients, skies, soft
   photos.
2. The OCR's own text detector (the PP-OCRv4 DB graph of the ``rapidocr-onnxruntime`` wheel, in
   a session of its own) on the thumbnail enlarged to :data:`GATE_SIDE` px: text where at least
   :data:`MIN_TEXT_PIXELS` pixels of its probability map reach :data:`TEXT_PROBABILITY`. A dark
   thumbnail is inverted first: the detector finds small light text on dark backgrounds
   (dark-mode screenshots) far less often than the same text dark on light.
3. Strokes in the text found: print is sharp. Where the detector saw text, at least
   :data:`MIN_SHARP_SHARE` of the thumbnail's pixels must be steps; soft streaks and blobs it
   takes for lines of text (a motion-blurred clock, a cell under a microscope) have none.

Small print (a screenshot's 13-16 px text, a page on a desk) is 1-2 px high in a thumbnail: no
detector reads it there, but its lines leave a mark: many steps, most of them between rows
(:data:`SMALL_PRINT_STEPS`, :data:`SMALL_PRINT_ROWS`). Such a thumbnail is not decided: the
verdict names the densest spots, and :meth:`TextGate.look_closer` runs the detector on windows
of the picture decoded for OCR around them, at that picture's own resolution.

Measured with ``benchmarks/photo_text_gate.py`` (the numbers are in benchmarks/README.md).
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from desktop_search.errors import ModelError
from desktop_search.models.runtime.base import OnnxModel

log = logging.getLogger(__name__)

# Measured (2026-12-05) on the 256 px thumbnails the indexer makes of two sets: "wallpapers" (the
# 92 pictures of the Debian wallpaper packages benchmarks/photo_set.py unpacks, 10 of them with
# text, with 3 per kind of tests/text_photos.py and 19 skimage photos) and photo-set-85
# (benchmarks/photo_set.py: 21 with text, 64 without), which was not looked at while choosing
# GATE_SIDE, MIN_TEXT_PIXELS, STEP, MIN_STEPS and MIN_SHARP_SHARE.
#
# The detector's input: the long side, in pixels (a multiple of 32, as the graph needs). On the
# wallpapers set, with dark thumbnails inverted: at 256 the detector missed 7 of 34 photos with
# text (small print: screenshots, a page at an angle), at 320 (the thumbnail enlarged, bicubic)
# none; 384 found no more and cost 1.5x. 7-12 ms on 2 cores (quiet machine).
GATE_SIDE = 320
# A map pixel is text at this probability (RapidOCR binarises at 0.3 and keeps boxes scoring
# 0.5); and a thumbnail shows text with this many such pixels. The fewest in a photo with text
# was 9 (a desktop screenshot whose UI text is 2 px high in the thumbnail); photos without text
# gave 0, or hundreds on stripes, tilings and rows of dots.
TEXT_PROBABILITY = 0.5
MIN_TEXT_PIXELS = 5
# Contrast: a step of this many grey levels between neighbours is an edge a stroke could make;
# fewer than MIN_STEPS of them and there is no text to find. The smallest text the detector
# finds in the wallpapers set (a logo a twentieth of the width) makes 120-130 such steps; a
# quarter of the pictures without text (flat, gradients, soft wallpapers) make fewer than 50.
STEP = 40
MIN_STEPS = 50
# A thumbnail whose median grey is darker than this is inverted before detection.
DARK_MEDIAN = 100
# Of the thumbnail's pixels under the detector's text, the share that are steps of STEP levels:
# 0.31-0.89 in the 33 photos with text of the wallpapers set, 0.000-0.001 where the detector took
# soft shapes for text (a motion-blurred clock, a cell, a glow: 3 of the 102 without).
MIN_SHARP_SHARE = 0.1
# Small print: a thumbnail the detector found no text in is looked at closer when at least this
# share of its pixels are steps, at least SMALL_PRINT_ROWS times as many between rows as between
# columns (lines of text are rows). The 18 photos of photo-set-85 whose text the detector missed
# in the thumbnail (15 screenshots, 3 photos of text) made 0.036-0.28 of steps, 2.0-22.6 times
# more between rows but for a receipt at 30 degrees (1.5); isotropic texture (grass, gravel,
# foliage) 0.8-1.2 times. 17 of the 18, and 13 of the 166 pictures without text in both sets,
# are looked at closer.
SMALL_PRINT_STEPS = 0.03
SMALL_PRINT_ROWS = 1.8
# Looking closer: windows of WINDOW px of the picture decoded for OCR (at most 1920 px), around
# the CLOSER_SPOTS densest TILE px tiles of the thumbnail's text map (text seen) or of its steps
# (small print). A window with MIN_WINDOW_TEXT text pixels confirms text seen in the thumbnail;
# small print needs MIN_SHARP_SHARE of sharp pixels under them too (big letters are not sharp
# all through at this size, so text seen is not held to it). 2 windows: about 16 ms on 2 cores.
WINDOW = 320
CLOSER_SPOTS = 2
TILE = 16
MIN_WINDOW_TEXT = 20

# The detector graph inside the rapidocr-onnxruntime wheel, and its input normalisation.
DETECTOR_FILE = "models/ch_PP-OCRv4_det_infer.onnx"
OCR_PACKAGE = "rapidocr_onnxruntime"
_MEAN = 0.5
_STD = 0.5


Spot = tuple[float, float]


@dataclass(frozen=True)
class GateVerdict:
    """What the gate decided about one picture. ``step``: the step that decided ("contrast",
    "detector", "strokes", "small print" or "closer"); ``steps``: strong neighbour steps counted;
    ``text_pixels``: detector map pixels at :data:`TEXT_PROBABILITY` or more; ``sharp``: the
    share of the pixels under them that are steps. ``closer``: where small print may be (centres,
    as fractions of the width and height) when the thumbnail cannot tell: the photo is to be
    looked at closer there (:meth:`TextGate.look_closer`); empty when decided."""

    has_text: bool
    step: str
    steps: int
    text_pixels: int = 0
    sharp: float = 0.0
    closer: tuple[Spot, ...] = ()


def detector_path() -> Path | None:
    """The PP-OCRv4 text detector in the installed rapidocr-onnxruntime wheel, or None. Found
    without importing the package (which imports OpenCV)."""
    spec = importlib.util.find_spec(OCR_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / DETECTOR_FILE
    return path if path.is_file() else None


def step_maps(grey: np.ndarray, step: int = STEP) -> tuple[np.ndarray, np.ndarray]:
    """Which pixels of ``grey`` (HxW uint8) differ by at least ``step`` grey levels from their
    right neighbour, and from the one below: two (H-1)x(W-1) bool arrays."""
    grey = grey.astype(np.int16)
    across = np.abs(grey[:-1, 1:] - grey[:-1, :-1]) >= step
    down = np.abs(grey[1:, :-1] - grey[:-1, :-1]) >= step
    return across, down


def strong_steps(grey: np.ndarray, step: int = STEP) -> int:
    """How many pixels of ``grey`` are steps to their right or lower neighbour."""
    across, down = step_maps(grey, step)
    return int(np.count_nonzero(across | down))


def _sharp_share(edges: np.ndarray, text: np.ndarray) -> float:
    """The share of the pixels under ``text`` (a detector map, any size) that are ``edges``."""
    rows = np.minimum(np.arange(edges.shape[0]) * text.shape[0] // edges.shape[0],
                      text.shape[0] - 1)  # fmt: skip
    columns = np.minimum(np.arange(edges.shape[1]) * text.shape[1] // edges.shape[1],
                         text.shape[1] - 1)  # fmt: skip
    under = text[np.ix_(rows, columns)]
    return float(np.count_nonzero(edges & under)) / max(1, int(np.count_nonzero(under)))


def _densest_spots(edges: np.ndarray, count: int) -> tuple[Spot, ...]:
    """Centres of the ``count`` TILE px tiles of ``edges`` holding the most steps."""
    height, width = (edges.shape[0] // TILE) * TILE, (edges.shape[1] // TILE) * TILE
    if not height or not width:
        return ((0.5, 0.5),)
    tiles = edges[:height, :width].reshape(height // TILE, TILE, width // TILE, TILE)
    density = tiles.sum(axis=(1, 3))
    best = np.argsort(density.ravel(), kind="stable")[::-1][:count]
    rows, columns = np.divmod(best, density.shape[1])
    return tuple(((c + 0.5) * TILE / edges.shape[1], (r + 0.5) * TILE / edges.shape[0])
                 for r, c in zip(rows.tolist(), columns.tolist(), strict=True))  # fmt: skip


def _light(rgb: Image.Image, grey: np.ndarray) -> Image.Image:
    """``rgb`` with dark text made dark-on-light for the detector (see DARK_MEDIAN)."""
    return ImageOps.invert(rgb) if np.median(grey) < DARK_MEDIAN else rgb


def detector_input(image: Image.Image, side: int = GATE_SIDE) -> np.ndarray:
    """``image`` as the DB detector's 1x3xHxW float input: its long side scaled to ``side``,
    both sides rounded to multiples of 32, BGR, normalised as RapidOCR does."""
    scale = side / max(image.size)
    width = max(32, round(image.width * scale / 32) * 32)
    height = max(32, round(image.height * scale / 32) * 32)
    bgr = np.asarray(image.resize((width, height), Image.Resampling.BICUBIC))[..., ::-1]
    pixels = bgr.transpose(2, 0, 1)[None].astype(np.float32)
    pixels *= 1 / (255 * _STD)
    pixels -= _MEAN / _STD
    return pixels


class TextGate(OnnxModel):
    """Decides from a small picture (a photo's thumbnail) whether the photo holds text worth
    reading. Thread safe; the session loads on first use (``threads``: onnxruntime's intra-op
    threads, None: one per core)."""

    def __init__(self, path: Path | None = None, threads: int | None = None,
                 side: int = GATE_SIDE) -> None:  # fmt: skip
        path = path or detector_path()
        if path is None:
            raise ModelError(
                "the text detector needs the rapidocr-onnxruntime package",
                hint="pip install 'desktop-search[ocr]'",
            )
        super().__init__(path, threads)
        self.side = side

    def look(self, image: Image.Image) -> GateVerdict:
        """The gate's verdict on ``image`` (any mode and size; meant for a 256 px thumbnail)."""
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        grey = np.asarray(rgb.convert("L"))
        across, down = step_maps(grey)
        edges = across | down
        steps = int(np.count_nonzero(edges))
        if steps < MIN_STEPS:
            return GateVerdict(False, "contrast", steps)
        text = self._text_map(detector_input(_light(rgb, grey), self.side))
        text_pixels = int(np.count_nonzero(text))
        if text_pixels >= MIN_TEXT_PIXELS:
            sharp = _sharp_share(edges, text)
            if sharp >= MIN_SHARP_SHARE:
                spots = _densest_spots(text, CLOSER_SPOTS)
                return GateVerdict(True, "strokes", steps, text_pixels, round(sharp, 3), spots)
        rows, columns = int(np.count_nonzero(down)), int(np.count_nonzero(across))
        if steps >= SMALL_PRINT_STEPS * grey.size and rows >= SMALL_PRINT_ROWS * max(1, columns):
            spots = _densest_spots(edges, CLOSER_SPOTS)
            return GateVerdict(False, "small print", steps, text_pixels, closer=spots)
        return GateVerdict(False, "detector", steps, text_pixels)

    def look_closer(self, image: Image.Image, verdict: GateVerdict) -> GateVerdict:
        """The final verdict on ``image`` (the photo decoded at the size OCR reads it) from
        windows of :data:`WINDOW` px around the spots of the thumbnail's ``verdict``. Text seen
        in the thumbnail is confirmed by :data:`MIN_WINDOW_TEXT` text pixels in a window (big
        letters are not sharp all through at this size); small print needs sharp strokes too."""
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        sharpness = 0.0 if verdict.has_text else MIN_SHARP_SHARE
        best = GateVerdict(False, "closer", 0)
        for x, y in verdict.closer:
            left = min(max(0, round(x * rgb.width - WINDOW / 2)), max(0, rgb.width - WINDOW))
            top = min(max(0, round(y * rgb.height - WINDOW / 2)), max(0, rgb.height - WINDOW))
            window = rgb.crop((left, top, left + WINDOW, top + WINDOW))  # padded black if small
            grey = np.asarray(window.convert("L"))
            across, down = step_maps(grey)
            text = self._text_map(detector_input(_light(window, grey), WINDOW))
            text_pixels = int(np.count_nonzero(text))
            sharp = _sharp_share(across | down, text) if text_pixels else 0.0
            seen = GateVerdict(text_pixels >= MIN_WINDOW_TEXT and sharp >= sharpness, "closer",
                               int(np.count_nonzero(across | down)), text_pixels, round(sharp, 3))
            if seen.has_text:
                return seen
            best = max(best, seen, key=lambda v: v.text_pixels)
        return best

    def _text_map(self, pixels: np.ndarray) -> np.ndarray:
        """The detector's map of ``pixels`` (its input): where text is, as a bool HxW array."""
        session = self.session
        name = session.get_inputs()[0].name
        return session.run(None, {name: pixels})[0][0, 0] >= TEXT_PROBABILITY

    def has_text(self, image: Image.Image) -> bool:
        return self.look(image).has_text
