"""Background work for the GUI: every slow call runs in a worker that reports through signals.

``run_in_background(pool, fn, *args)`` runs ``fn`` on a QThreadPool thread and returns a
``Worker`` whose signals are delivered on the GUI thread: ``progress(done, total)`` (when ``fn``
accepts a ``progress`` keyword), ``result(value)``, ``error(exception)`` and ``finished()``.
The GUI thread never waits for a worker; ``WorkerPool.wait()`` is for shutdown and tests.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class WorkerSignals(QObject):
    progress = Signal(object, object)  # Python ints: byte counts pass 2**31
    result = Signal(object)
    error = Signal(object)
    finished = Signal()


class Worker(QRunnable):
    """One call of ``fn`` on a pool thread. Keep a reference to ``signals`` to connect them."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.signals = WorkerSignals()
        self.cancelled = False
        if _accepts_progress(fn):
            self.kwargs.setdefault("progress", self.signals.progress.emit)

    def run(self) -> None:
        if self.cancelled:
            self.signals.finished.emit()
            return
        try:
            value = self.fn(*self.args, **self.kwargs)
        except Exception as error:  # noqa: BLE001 - reported to the GUI, which shows it
            log.debug("background task failed", exc_info=True)
            self.signals.error.emit(error)
        else:
            self.signals.result.emit(value)
        finally:
            self.signals.finished.emit()


def _accepts_progress(fn: Callable[..., Any]) -> bool:
    try:
        return "progress" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class WorkerPool:
    """A QThreadPool of bounded size; tests and shutdown wait for it to drain."""

    def __init__(self, max_threads: int = 4) -> None:
        self.pool = QThreadPool()
        self.pool.setMaxThreadCount(max_threads)

    def start(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> Worker:
        """Run ``fn(*args, **kwargs)`` on the pool. The ``on_*`` callbacks are connected
        before the work starts, so a task that finishes at once still reports (connecting to
        ``worker.signals`` after ``start`` returns can miss it)."""
        worker = Worker(fn, *args, **kwargs)
        for signal, slot in (
            (worker.signals.result, on_result),
            (worker.signals.error, on_error),
            (worker.signals.progress, on_progress),
            (worker.signals.finished, on_finished),
        ):
            if slot is not None:
                signal.connect(slot)
        self.pool.start(worker)
        return worker

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until every worker finished (shutdown and tests only, never on a user action)."""
        return self.pool.waitForDone(msecs)
