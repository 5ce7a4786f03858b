"""Pause, resume and cancel a running indexer from another thread (the GUI, the tray)."""

from __future__ import annotations

import threading

from desktop_search.errors import IndexCancelled


class IndexControl:
    """Shared by the thread that indexes and the ones that steer it.

    The indexer calls ``checkpoint()`` between files: it blocks while paused and raises
    ``IndexCancelled`` once cancelled (what was committed so far stays committed).
    """

    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self._cancelled = threading.Event()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def cancel(self) -> None:
        self._cancelled.set()
        self._running.set()  # wake a paused indexer so it can stop

    def checkpoint(self) -> None:
        self._running.wait()
        if self._cancelled.is_set():
            raise IndexCancelled("indexing was cancelled; what was indexed so far is kept")
