"""Lazy-loading base class for onnxruntime-backed models (after Immich machine-learning's)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from desktop_search.models.runtime.session import create_session

log = logging.getLogger(__name__)


class OnnxModel:
    """One ONNX graph, loaded on first use and releasable to free its memory.

    Subclasses override :meth:`_load` / :meth:`_release` when they hold more than the session;
    callers use :meth:`load`, :meth:`release` and :attr:`loaded`. All three are thread safe: the
    indexer's decode threads and the GUI may race to trigger the first load.
    """

    def __init__(self, path: Path, threads: int | None = None) -> None:
        self.path = Path(path)
        self.threads = threads
        self._session: ort.InferenceSession | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._session is not None

    @property
    def session(self) -> ort.InferenceSession:
        """The session, loading it if needed."""
        session = self._session
        if session is None:
            self.load()
            session = self._session
            assert session is not None
        return session

    def load(self) -> None:
        """Load the model now (idempotent)."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is None:
                log.info("loading %s", self.path)
                self._session = self._load()

    def release(self) -> None:
        """Drop the session; the next use loads it again."""
        with self._lock:
            if self._session is not None:
                self._release()
                self._session = None

    def run(self, inputs: dict[str, np.ndarray]) -> list[Any]:
        """Run the graph, loading it first if needed."""
        return self.session.run(None, inputs)

    def _load(self) -> ort.InferenceSession:
        return create_session(self.path, self.threads)

    def _release(self) -> None:
        """Hook for subclasses holding resources beyond the session."""

    def __repr__(self) -> str:
        state = "loaded" if self.loaded else "not loaded"
        return f"{type(self).__name__}({str(self.path)!r}, {state})"
