"""The library's text tools: the sentence model of the ``text`` space and the OCR engine.

Both come from the library's model registry, made on first use and shared by a Library and its
readers (the GUI's search thread and the live index use one of each). Either may be missing:
without a text model documents are found by keywords only; without OCR (the ``ocr`` extra) scans
and photos are not read.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from PIL import Image

from desktop_search.app.model_registry import ModelRegistry
from desktop_search.extract.document import ReadText
from desktop_search.models.runtime.text import TextModel

if TYPE_CHECKING:  # OCR's: never loaded by a search
    from desktop_search.models.runtime.text_gate import TextGate


class TextTools:
    """The sentence model and OCR as the indexer and the searcher use them (from the registry)."""

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry
        self._ocr_lock = threading.Lock()  # RapidOCR's pipeline keeps state between its steps

    def text_model_name(self) -> str | None:
        """The configured sentence model, else the (first) installed one."""
        return self.registry.name("text")

    def text_model(self) -> TextModel | None:
        """The sentence model, or None while none is installed (or it cannot be opened)."""
        return self.registry.get("text")

    def read_text(self) -> ReadText | None:
        """OCR as a function, or None when the OCR engine is not installed."""
        engine = self.registry.get("ocr")
        if engine is None:
            return None

        def read(image: Image.Image) -> str:
            with self._ocr_lock:
                return engine.read_text(image)

        return read

    def text_gate(self) -> TextGate | None:
        """The check that skips photos without text before OCR (the OCR engine's), or None when
        the OCR engine is not installed."""
        engine = self.registry.get("ocr")
        return None if engine is None else engine.gate
