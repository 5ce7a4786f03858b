"""The library's status (``library.status()``, a ``LibraryStatus``), fetched on a worker for the
main window, with its ``object_classes``: what the filter bar's "Objects" lists.

One query runs at a time; a refresh asked for meanwhile runs once the current one is done, so
the window always ends up with the latest status without piling up queries.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from desktop_search.app.library import Library
from desktop_search.app.status import LibraryStatus
from desktop_search.gui.search_controller import Readers
from desktop_search.gui.workers import WorkerPool

STATUS_INTERVAL_MS = 2000  # status refresh while indexing, or while another process indexes


def _status_job(readers: Readers) -> LibraryStatus:
    # With the filter bar's "Objects" button: photos per class (the status counts objects).
    return readers.get().status(object_classes=True)


class StatusPoller(QObject):
    loaded = Signal(object)  # LibraryStatus
    failed = Signal(object)  # the exception

    def __init__(self, library: Library, pool: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._readers = Readers(library)  # its own reader: never shared with the searches
        self._worker = None
        self._again = False
        self._stopped = False
        self._timer = QTimer(self, interval=STATUS_INTERVAL_MS)
        self._timer.timeout.connect(self.refresh)

    def refresh(self) -> None:
        """Ask for the status on a worker (or once more after the running query)."""
        if self._stopped:
            return
        if self._worker is not None:
            self._again = True
            return
        self._again = False
        self._worker = self._pool.start(
            _status_job, self._readers, on_result=self.loaded.emit, on_error=self.failed.emit,
            on_finished=self._finished,
        )  # fmt: skip

    def _finished(self) -> None:
        self._worker = None
        if self._again:
            self.refresh()

    def start_polling(self) -> None:
        if not self._timer.isActive():  # restarting it on every call would never let it fire
            self._timer.start()

    def stop_polling(self) -> None:
        self._timer.stop()

    def stop(self) -> None:
        """No more queries (shutdown); ``close()`` once the workers are done."""
        self._stopped = True
        self._timer.stop()

    def close(self) -> None:
        self._readers.close()
