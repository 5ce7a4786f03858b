"""Text in images (OCR): PP-OCRv4 detection + recognition through ``rapidocr_onnxruntime``.

The optional ``ocr`` extra provides the package, whose wheel ships the three ONNX graphs
(text detection, 0/180 degree angle classifier, recognition). Importing this module is cheap:
RapidOCR (and OpenCV, which it pulls in) is imported and its sessions created on first use.
"""

from __future__ import annotations

import logging
import os
import statistics
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from desktop_search.errors import ModelError
from desktop_search.models.runtime.text_gate import TextGate

log = logging.getLogger(__name__)

# RapidOCR's module loggers: each is set to DEBUG and given its own stderr handler whenever the
# package creates one (its ``get_logger``), so we quieten them after every construction.
_RAPIDOCR_LOGGERS = ("RapidOCR", "OrtInferSession")

# The bundled recogniser (PP-OCRv4, Chinese + Latin dictionary) often decodes the gap between
# two Latin words as CTC "blank" instead of "space" (a known limitation: PaddleOCR issue 11386),
# which glues words together ("TOTAL42.50") and breaks keyword search. In such gaps the space
# class still peaks well above its background (0.1-0.3 measured, vs < 0.01 elsewhere), so a gap
# between two non-CJK letters/digits whose peak space probability reaches this value becomes a
# space. Gaps next to punctuation are left alone: monospaced "4.25" peaks there too (0.26).
SPACE_HINT = 0.05
_CJK_START = 0x2E80

# Two boxes are on the same line when their vertical centres are closer than this fraction of
# the line's median box height.
_SAME_LINE = 0.5

Point = tuple[float, float]


@dataclass
class TextBox:
    """One recognised run of text; ``box`` is its 4 corners (clockwise from top-left) in the
    image's pixels. ``confidence`` is the recogniser's mean character probability, in (0, 1]."""

    text: str
    confidence: float
    box: tuple[Point, ...]

    @property
    def top(self) -> float:
        return min(y for _, y in self.box)

    @property
    def bottom(self) -> float:
        return max(y for _, y in self.box)

    @property
    def left(self) -> float:
        return min(x for x, _ in self.box)

    @property
    def center_y(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def height(self) -> float:
        return self.bottom - self.top


def reading_lines(boxes: Sequence[TextBox]) -> list[list[TextBox]]:
    """Group boxes into lines, top to bottom, each line left to right.

    Boxes are taken in order of their vertical centre; a box joins the current line when its
    centre is within half the line's median height of the line's mean centre.
    """
    lines: list[list[TextBox]] = []
    for box in sorted(boxes, key=lambda b: (b.center_y, b.left)):
        if lines:
            line = lines[-1]
            centre = statistics.fmean(b.center_y for b in line)
            height = statistics.median(b.height for b in line)
            if abs(box.center_y - centre) <= _SAME_LINE * max(height, box.height, 1.0):
                line.append(box)
                continue
        lines.append([box])
    return [sorted(line, key=lambda b: b.left) for line in lines]


def sort_reading_order(boxes: Sequence[TextBox]) -> list[TextBox]:
    """Boxes in reading order: top-to-bottom lines, left-to-right within a line."""
    return [box for line in reading_lines(boxes) for box in line]


def text_of(boxes: Sequence[TextBox]) -> str:
    """The text of ``boxes``: one output line per text line, boxes on a line joined by a space."""
    return "\n".join(
        " ".join(b.text for b in line if b.text) for line in reading_lines(boxes)
    ).strip()


def _to_bgr(image: Image.Image | np.ndarray) -> np.ndarray:
    """A contiguous HxWx3 uint8 BGR array (RapidOCR's convention for ndarray input).

    Arrays are taken as RGB(A) or grayscale, like Pillow and skimage give them; floats in [0, 1]
    are scaled to 0-255.
    """
    if isinstance(image, Image.Image):
        rgb = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    else:
        arr = np.asarray(image)
        if arr.dtype != np.uint8:
            arr = arr.astype(np.float32)
            if arr.size and float(arr.max()) <= 1.0:
                arr = arr * 255.0
            arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
        if arr.ndim == 2:
            arr = arr[..., None]
        if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
            raise ValueError(f"expected an HxW, HxWx3 or HxWx4 image array, got {arr.shape}")
        rgb = np.repeat(arr, 3, axis=2) if arr.shape[2] == 1 else arr[..., :3]
    return np.ascontiguousarray(rgb[..., ::-1])


class OcrEngine:
    """Reads text in images. Lazily creates the RapidOCR pipeline (three onnxruntime sessions)
    on first :meth:`read`; :meth:`release` drops it.

    ``threads`` is passed to RapidOCR as ``intra_op_num_threads``, which it applies to each of
    its three sessions (detection, angle classifier, recognition; they run one after another, so
    the process uses at most that many compute threads for OCR). ``None`` lets onnxruntime pick
    (one per physical core). RapidOCR ignores values above ``os.cpu_count()``, so they are
    capped here. Inter-op parallelism is pinned to 1 thread, as for the app's other sessions.

    ``min_confidence``: recognised runs scoring below it are dropped (RapidOCR's
    ``text_score``). ``use_angle_cls``: also run the 0/180 degree classifier so upside-down
    text is read (costs a little time per text box). ``upscale_small_images``: RapidOCR's
    default enlarges every image whose short side is under 736 px before text detection; that
    helps only tiny text and costs 2-3x the time on screenshots and scans, so by default images
    are never enlarged (large ones are still capped at 2000 px). ``repair_spaces``: restore
    spaces between Latin words the recogniser dropped (see :data:`SPACE_HINT`).

    Recognised text is NFKC-normalised (full-width punctuation such as "，" becomes ",").
    """

    def __init__(
        self,
        *,
        threads: int | None = None,
        min_confidence: float = 0.5,
        use_angle_cls: bool = True,
        upscale_small_images: bool = False,
        repair_spaces: bool = True,
    ) -> None:
        self.threads = threads
        self.min_confidence = min_confidence
        self.use_angle_cls = use_angle_cls
        self.upscale_small_images = upscale_small_images
        self.repair_spaces = repair_spaces
        self._engine: Any = None
        self._lock = threading.Lock()
        self._gate: TextGate | None = None
        self._no_gate = False  # the detector's file was not found (said once in the log)

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    def load(self) -> None:
        """Create the OCR pipeline now (idempotent, thread safe)."""
        if self._engine is not None:
            return
        with self._lock:
            if self._engine is None:
                self._engine = self._create()

    def release(self) -> None:
        """Drop the pipeline and its sessions; the next :meth:`read` creates them again."""
        with self._lock:
            self._engine = None
            if self._gate is not None:
                self._gate.release()

    @property
    def gate(self) -> TextGate | None:
        """The check that a picture holds text at all (``text_gate.py``): RapidOCR's text
        detector in a session of its own, with as many threads as OCR, loaded on its first look.
        None when the installed RapidOCR has no detector file where the gate looks for it."""
        with self._lock:
            if self._gate is None and not self._no_gate:
                try:
                    self._gate = TextGate(threads=self._threads())
                except ModelError as error:
                    log.warning("photos are read without the text gate: %s", error)
                    self._no_gate = True
            return self._gate

    def _threads(self) -> int | None:
        return max(1, min(self.threads, os.cpu_count() or 1)) if self.threads else None

    def _create(self) -> Any:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            raise ModelError(
                f"OCR needs the rapidocr-onnxruntime package ({exc})",
                hint="pip install 'desktop-search[ocr]'",
            ) from exc
        kwargs: dict[str, Any] = {
            "text_score": self.min_confidence,
            "use_cls": self.use_angle_cls,
            "inter_op_num_threads": 1,
        }
        if not self.upscale_small_images:
            kwargs["det_limit_type"] = "max"
        if self.threads:
            kwargs["intra_op_num_threads"] = self._threads()
        log.info("loading RapidOCR (PP-OCRv4), threads=%s", kwargs.get("intra_op_num_threads"))
        _quieten_rapidocr()
        try:
            engine = RapidOCR(**kwargs)
        except Exception as exc:  # missing/corrupt model files inside the wheel, onnxruntime
            raise ModelError(
                f"OCR models cannot be loaded ({type(exc).__name__}: {exc})",
                hint="reinstall the OCR extra: pip install --force-reinstall 'desktop-search[ocr]'",
            ) from exc
        finally:
            _quieten_rapidocr()
        if self.repair_spaces:
            _install_space_repair(engine)
        return engine

    def read(self, image: Image.Image | np.ndarray) -> list[TextBox]:
        """Text runs in ``image`` (PIL image, or an RGB/RGBA/grayscale array), in reading order.
        An image without text gives ``[]``."""
        bgr = _to_bgr(image)
        if bgr.shape[0] == 0 or bgr.shape[1] == 0:
            return []
        engine = self._engine
        if engine is None:
            self.load()
            engine = self._engine
        result, _elapsed = engine(bgr)
        if not result:
            return []
        height, width = bgr.shape[:2]
        boxes = []
        for points, text, score in result:
            text = unicodedata.normalize("NFKC", str(text)).strip()
            if not text:
                continue
            corners = tuple(
                (min(max(float(x), 0.0), float(width)), min(max(float(y), 0.0), float(height)))
                for x, y in points
            )
            boxes.append(TextBox(text=text, confidence=float(score), box=corners))
        return sort_reading_order(boxes)

    def read_text(self, image: Image.Image | np.ndarray) -> str:
        """Just the text of ``image``, line by line."""
        return text_of(self.read(image))

    def __repr__(self) -> str:
        state = "loaded" if self.loaded else "not loaded"
        return f"OcrEngine(threads={self.threads}, {state})"


def _latin_alnum(char: str) -> bool:
    return len(char) == 1 and char.isalnum() and ord(char) < _CJK_START


def repair_ctc_spaces(preds: np.ndarray, blank: int, space: int, characters: Sequence[str]):
    """In CTC outputs ``preds`` (batch, time, classes), turn a blank gap between two non-CJK
    letters or digits into a space where the space class peaks at :data:`SPACE_HINT` or more: at the
    gap's most space-like step, blank and space swap probabilities. Returns a modified copy."""
    preds = np.array(preds, copy=True)
    best = preds.argmax(axis=2)
    for b in range(preds.shape[0]):
        steps = np.flatnonzero(best[b] != blank)
        for left, right in zip(steps[:-1], steps[1:], strict=True):
            if right - left < 2 or best[b, left] == space or best[b, right] == space:
                continue
            if not all(_latin_alnum(characters[best[b, i]]) for i in (left, right)):
                continue
            gap = np.arange(left + 1, right)
            step = gap[preds[b, gap, space].argmax()]
            if preds[b, step, space] >= SPACE_HINT:
                row = preds[b, step]
                row[blank], row[space] = row[space], row[blank]
    return preds


def _install_space_repair(engine: Any) -> None:
    """Wrap RapidOCR's CTC decoder with :func:`repair_ctc_spaces`. Skipped (with a log line)
    when the installed RapidOCR is laid out differently from the 1.3/1.4 releases."""
    try:
        decoder = engine.text_rec.postprocess_op
        characters = list(decoder.character)
        blank, space = 0, characters.index(" ")
    except (AttributeError, ValueError):
        log.info("RapidOCR's recogniser has an unexpected layout; word-space repair is off")
        return
    original = decoder.__call__

    def decode(preds: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        return original(repair_ctc_spaces(preds, blank, space, characters), *args, **kwargs)

    engine.text_rec.postprocess_op = decode


def _warnings_and_above(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


def _quieten_rapidocr() -> None:
    """Stop RapidOCR's loggers from printing on their own: drop the stderr handlers they add,
    keep warnings and errors, and let those flow to the app's logging configuration.

    The filter stays on the logger objects, so it also holds while RapidOCR re-adds a handler and
    resets the level to DEBUG in the middle of its constructor."""
    for name in _RAPIDOCR_LOGGERS:
        logger = logging.getLogger(name)
        if _warnings_and_above not in logger.filters:
            logger.addFilter(_warnings_and_above)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = True
