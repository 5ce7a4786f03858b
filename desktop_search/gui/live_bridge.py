"""The app's ``LiveIndex`` behind Qt signals: it keeps the library current while the app runs.

``LiveIndex`` calls its listeners on its worker thread; the bridge re-emits each ``LiveStatus``
through a queued connection, so ``status_changed`` always arrives on the GUI thread and no widget
is touched from elsewhere. ``start()`` runs on the worker pool (taking the writer lock and adding
inotify watches over big folder trees takes a while); when another process holds the lock the
bridge becomes a *reader*: searching works, the other process indexes, and ``start()`` may be
tried again once that process is gone.

``mode``: ``stopped`` (not started, or shut down), ``starting``, ``live``, ``reader`` (another
process indexes) or ``failed`` (``error`` says why).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal

from desktop_search.app.library import Library
from desktop_search.app.live import LiveIndex, LiveStatus
from desktop_search.app.status import IndexerHeartbeat
from desktop_search.errors import WriterLockedError
from desktop_search.gui.live_text import FAILED, LIVE, READER, STARTING, STOPPED
from desktop_search.gui.settings_common import one_line
from desktop_search.gui.workers import WorkerPool

log = logging.getLogger(__name__)


class LiveBridge(QObject):
    status_changed = Signal(object)  # LiveStatus, on the GUI thread
    mode_changed = Signal(str)
    _from_worker = Signal(object)  # emitted on the live index's thread, delivered queued

    def __init__(
        self,
        library: Library,
        pool: WorkerPool,
        parent: QObject | None = None,
        *,
        live_factory: Callable[[Library], LiveIndex] = LiveIndex,
    ) -> None:
        super().__init__(parent)
        self._library = library
        self._pool = pool
        self._factory = live_factory
        self._live: LiveIndex | None = None
        self._start_worker = None
        self._started = threading.Event()  # the start job returned (or none is running)
        self._started.set()
        self._closed = False
        self.mode = STOPPED
        self.error = ""
        self.status: LiveStatus | None = None
        self._from_worker.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    # -- life cycle (GUI thread) ----------------------------------------------------------

    def start(self) -> None:
        """Start a live index on a worker; ``mode`` becomes ``live`` or ``reader``."""
        if self._closed or self.mode in (STARTING, LIVE):
            return
        self._set_mode(STARTING)
        self._launch()

    def take_over_if_free(self, indexer: IndexerHeartbeat | None) -> None:
        """As a reader: try to index here once the other process seems gone (no heartbeat).
        Quietly: while the lock is still taken (a holder that publishes nothing) it stays a
        reader, without flickering through ``starting``."""
        if self.mode == READER and indexer is None and self._started.is_set():
            self._launch()

    def _launch(self) -> None:
        live = self._factory(self._library)
        live.subscribe(self._from_worker.emit)
        self._live, self.status, self.error = live, None, ""
        self._started.clear()
        # Keep the worker until it reported: its signals die with it, queued results too.
        self._start_worker = self._pool.start(
            self._start_job, live, on_result=lambda _: self._start_returned(live, None),
            on_error=lambda error: self._start_returned(live, error),
        )  # fmt: skip

    def _start_job(self, live: LiveIndex) -> None:
        try:
            live.start()
        except BaseException:
            # LiveIndex() already started watchdog's inotify thread; only stop() ends it.
            live.stop(0)
            raise
        finally:
            self._started.set()

    def _start_returned(self, live: LiveIndex, error: Exception | None) -> None:
        self._start_worker = None
        if live is not self._live or self._closed:
            return
        if error is None:
            self._set_mode(LIVE)
            return
        self._live = None  # nothing of it runs: start() undid what it had begun
        self.error = one_line(error)
        if isinstance(error, WriterLockedError):
            self._set_mode(READER)
        else:
            log.error("the live index did not start: %s", error)
            self._set_mode(FAILED)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop for good (shutdown): finish the file at hand, save, release the writer lock."""
        self._closed = True
        self._started.wait(timeout)  # a start still running would start threads after stop()
        live, self._live = self._live, None
        if live is not None:
            live.stop(timeout)
        self._set_mode(STOPPED)

    # -- requests (GUI thread; each returns whether a live index took it) -------------------

    @property
    def running(self) -> bool:
        """True while this app is the library's writer (or becoming it)."""
        return self._live is not None and self.mode in (STARTING, LIVE)

    @property
    def paused(self) -> bool:
        return self.running and self._live.control.paused

    def rescan(self, folders: list[Path] | None = None) -> bool:
        """Index ``folders`` (they become indexed folders), or look at every folder again."""
        if not self.running:
            return False
        self._live.rescan(folders or None)
        return True

    def forget(self, root: str) -> bool:
        """Stop indexing ``root`` and forget its photos (the live index does it on its thread)."""
        if not self.running:
            return False
        self._live.forget(root)
        return True

    def pause(self) -> bool:
        if not self.running:
            return False
        self._live.pause()
        return True

    def resume(self) -> bool:
        if not self.running:
            return False
        self._live.resume()
        return True

    # -- signals ----------------------------------------------------------------------------

    def _deliver(self, status: LiveStatus) -> None:
        if self._closed:
            return
        self.status = status
        self.status_changed.emit(status)

    def _set_mode(self, mode: str) -> None:
        if mode != self.mode:
            self.mode = mode
            self.mode_changed.emit(mode)
