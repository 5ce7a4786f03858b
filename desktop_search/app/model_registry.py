"""One registry of the models a library uses: one slot per kind (CLIP, text, detector, OCR).

Each slot knows which model of its kind to use (the setting, else the installed one), opens it on
first use, remembers why an installed model cannot be opened (said once in the log, not retried on
every search and status poll), and releases it. A Library and its readers share one registry, so
the window's search thread and the live index never load a model twice.

Which model: CLIP follows the ``active_model`` setting; the text model the ``text_model`` setting,
else the first installed one; the detector is the installed one. While none of a kind is
installed the folders are looked at again every half minute (one may be installed meanwhile by
another process); ``reset(kind)`` looks at once (after this process installed or switched one).
OCR is not a model folder: its weights ship inside the ``rapidocr-onnxruntime`` wheel.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from desktop_search.config import Settings
from desktop_search.errors import ModelError
from desktop_search.models.install.store import ModelStore

log = logging.getLogger(__name__)

RELOOK_SECONDS = 30.0
KINDS = ("clip", "text", "detector", "ocr")
OCR_PACKAGE = "rapidocr_onnxruntime"


@dataclass
class _Slot:
    """The state of one kind: the model chosen, the model opened, why it could not be."""

    name: str | None = None
    model: Any = None
    broken: str | None = None  # the name of an installed model that could not be opened
    reason: str | None = None
    found: str | None = None  # what the last look at the model folders found
    looked_at: float = -RELOOK_SECONDS


class ModelRegistry:
    """Models by kind, opened lazily and shared; thread-safe (one lock per registry).

    ``openers`` maps a kind to ``open(name) -> model``; the defaults make the runtime models
    (``ClipModel``, ``TextModel``, an ``ObjectFinder`` over YOLOX, ``OcrEngine``). A model object
    is expected to have ``release()``.
    """

    def __init__(
        self,
        store: ModelStore,
        settings: Settings,
        openers: dict[str, Callable[[str], Any]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self._openers = {**_default_openers(store, settings), **(openers or {})}
        self._slots = {kind: _Slot() for kind in KINDS}
        self._lock = threading.RLock()

    # -- which model ----------------------------------------------------------------------

    def name(self, kind: str) -> str | None:
        """The model of ``kind`` to use now (None: none installed / none chosen)."""
        if kind == "clip":
            return self.settings.active_model
        if kind == "text" and self.settings.text_model:
            return self.settings.text_model
        if kind == "ocr":
            return OCR_PACKAGE if importlib.util.find_spec(OCR_PACKAGE) is not None else None
        with self._lock:
            slot = self._slots[kind]
            now = self.clock()
            if slot.found is None and now - slot.looked_at > RELOOK_SECONDS:
                slot.found, slot.looked_at = self.store.first_of_kind(kind), now
            return slot.found

    # -- the model itself -------------------------------------------------------------------

    def get(self, kind: str) -> Any | None:
        """The opened model of ``kind``, or None when none is installed or it cannot be opened
        (then ``problem(kind)`` says why). A CLIP model that cannot be opened raises: the person
        chose it, and searching by content without it would silently find nothing."""
        name = self.name(kind)
        with self._lock:
            slot = self._slots[kind]
            if name is None:
                self._forget(slot)
                return None
            if name == slot.name and slot.model is not None:
                return slot.model
            if name == slot.broken:
                return None
            self._forget(slot)
            try:
                model = self._openers[kind](name)
            except ModelError as error:
                if kind == "clip":
                    raise
                log.warning("the %s model %s cannot be used: %s", kind, name, error)
                slot.broken, slot.reason = name, str(error)
                return None
            slot.name, slot.model, slot.broken, slot.reason = name, model, None, None
            return model

    def problem(self, kind: str) -> str | None:
        """Why the installed model of ``kind`` cannot be used (None: it can, or none is there)."""
        with self._lock:
            slot = self._slots[kind]
            is_broken = slot.broken is not None and slot.broken == self.name(kind)
            return slot.reason if is_broken else None

    def take(self, kind: str) -> Any | None:
        """Forget the opened model of ``kind`` and return it (the caller may release it)."""
        with self._lock:
            slot = self._slots[kind]
            model = slot.model
            self._forget(slot)
            return model

    def reset(self, kind: str) -> None:
        """A model of ``kind`` was installed, removed or switched here: look again at once."""
        with self._lock:
            slot = self._slots[kind]
            self._forget(slot)
            slot.broken = slot.reason = slot.found = None
            slot.looked_at = -RELOOK_SECONDS

    def release(self) -> None:
        """Release every opened model (the library closes)."""
        with self._lock:
            for slot in self._slots.values():
                if slot.model is not None:
                    slot.model.release()
                self._forget(slot)

    @staticmethod
    def _forget(slot: _Slot) -> None:
        # Not released here: an indexing step may still encode with a model that was just
        # switched away from; its sessions go with the last reference.
        slot.model, slot.name = None, None


def _default_openers(store: ModelStore, settings: Settings) -> dict[str, Callable[[str], Any]]:
    """How each kind is opened. Imports stay inside: a search never loads OCR or the detector."""
    threads = settings.index_threads or None

    def clip(name: str) -> Any:
        from desktop_search.models.runtime.clip import ClipModel

        return ClipModel(store.path(name), threads=threads)

    def text(name: str) -> Any:
        from desktop_search.models.runtime.text import TextModel

        return TextModel(store.path(name), threads=threads)

    def detector(name: str) -> Any:
        from desktop_search.index.passes.objects import ObjectFinder
        from desktop_search.models.runtime.detector import ObjectDetector
        from desktop_search.models.runtime.model_folder import read_model_json

        folder = store.path(name)
        description = read_model_json(folder)
        onnx = [folder / f for f in description.get("files", {}) if f.endswith(".onnx")]
        if len(onnx) != 1:
            raise ModelError(f"{folder} holds {len(onnx)} ONNX files, not one detector")
        size = int(description.get("preprocess", {}).get("image_size", 416))
        # One thread per run: the indexer's decode threads each run it, side by side.
        detector = ObjectDetector(onnx[0], input_size=size, threads=1)
        try:
            detector.load()
        except ValueError as error:
            raise ModelError(f"{onnx[0]} cannot be opened: {error}") from error
        return ObjectFinder(detector, name)

    def ocr(_name: str) -> Any:
        from desktop_search.models.runtime.ocr import OcrEngine

        return OcrEngine(threads=threads)

    return {"clip": clip, "text": text, "detector": detector, "ocr": ocr}

