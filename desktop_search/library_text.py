"""The library's text tools: the sentence model of the ``text`` space and the OCR engine.

Both are made on first use and shared by a Library and its readers (the GUI's search thread and
the live index use one of each). Either may be missing: without a text model documents are
found by keywords only; without OCR (the ``ocr`` extra) scans and photos are not read.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time

from PIL import Image

from desktop_search.config import Settings
from desktop_search.errors import ModelError
from desktop_search.extract.document import ReadText
from desktop_search.models.store import ModelStore
from desktop_search.models.text import TextModel

log = logging.getLogger(__name__)

RELOOK_SECONDS = 30.0


class TextTools:
    def __init__(self, models: ModelStore, settings: Settings) -> None:
        self.models = models
        self.settings = settings
        self._lock = threading.Lock()
        self._text_model: TextModel | None = None
        self._text_model_name: str | None = None
        self._ocr = None
        self._ocr_lock = threading.Lock()  # RapidOCR's pipeline keeps state between its steps
        self._found: str | None = None  # the installed text model, once found
        self._looked_at = -RELOOK_SECONDS

    def text_model_name(self) -> str | None:
        """The configured sentence model, else the (first) installed one."""
        if self.settings.text_model:
            return self.settings.text_model
        # Asked for every search: the model folders are looked at once, and while none is
        # installed again every half minute (one may be installed while the app runs).
        now = time.monotonic()
        if self._found is None and now - self._looked_at > RELOOK_SECONDS:
            self._found, self._looked_at = self.models.first_of_kind("text"), now
        return self._found

    def text_model(self) -> TextModel | None:
        """The sentence model, or None while none is installed (or it cannot be opened)."""
        name = self.text_model_name()
        with self._lock:
            if name != self._text_model_name:
                self._text_model, self._text_model_name = None, name
                if name is not None:
                    self._text_model = self._open(name)
            return self._text_model

    def _open(self, name: str) -> TextModel | None:
        try:
            return TextModel(self.models.path(name), threads=self.settings.index_threads or None)
        except ModelError as error:
            log.warning("the text model %s cannot be used: %s", name, error)
            return None

    def read_text(self) -> ReadText | None:
        """OCR as a function, or None when the OCR engine is not installed."""
        with self._lock:
            if self._ocr is None:
                if importlib.util.find_spec("rapidocr_onnxruntime") is None:
                    return None
                from desktop_search.models.ocr import OcrEngine

                self._ocr = OcrEngine(threads=self.settings.index_threads or None)
            engine = self._ocr

        def read(image: Image.Image) -> str:
            with self._ocr_lock:
                return engine.read_text(image)

        return read

    def release(self) -> None:
        with self._lock:
            if self._text_model is not None:
                self._text_model.release()
            if self._ocr is not None:
                self._ocr.release()
