"""Pause, resume and cancel a running indexer from another thread (the GUI, the tray)."""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Protocol

from desktop_search.errors import IndexCancelled

log = logging.getLogger(__name__)

BACKGROUND_NICENESS = 10


def lower_thread_priority() -> None:
    """Make the calling thread a background one, so indexing never slows the desktop down.

    On Linux a thread has its own nice value (and threads it starts inherit it); elsewhere this
    is a no-op and the process-wide ``lower_process_priority`` is what helps.
    """
    if sys.platform.startswith("linux"):
        try:
            current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            os.setpriority(
                os.PRIO_PROCESS, threading.get_native_id(), max(current, BACKGROUND_NICENESS)
            )
        except OSError as error:
            log.debug("cannot lower the thread priority: %s", error)


def lower_process_priority() -> None:
    """For headless indexing processes (``index``, ``watch``): the whole process yields."""
    try:
        if hasattr(os, "nice"):
            os.nice(max(0, BACKGROUND_NICENESS - os.nice(0)))
    except OSError as error:
        log.debug("cannot lower the process priority: %s", error)


class SearchActivity(Protocol):
    """What the indexer steps aside for: searches in the same process (the app passes
    ``search/activity.py``'s ``UserActivity``; indexing imports nothing of search)."""

    def wait_until_quiet(self, cancelled: threading.Event) -> float:
        """Block while the user is searching; returns the time waited."""


class IndexControl:
    """Shared by the thread that indexes and the ones that steer it.

    The indexer calls ``checkpoint()`` between files: it blocks while paused and raises
    ``IndexCancelled`` once cancelled (what was committed so far stays committed).
    """

    def __init__(self, activity: SearchActivity | None = None) -> None:
        self._running = threading.Event()
        self._running.set()
        self._cancelled = threading.Event()
        self.activity = activity

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
        if self.activity is not None:
            self.activity.wait_until_quiet(self._cancelled)
        if self._cancelled.is_set():
            raise IndexCancelled("indexing was cancelled; what was indexed so far is kept")
