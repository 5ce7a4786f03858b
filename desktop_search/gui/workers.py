"""Background work for the GUI: every slow call runs in a worker that reports through signals.

``WorkerPool.start(fn, *args, on_result=...)`` runs ``fn`` on a QThreadPool thread and returns a
``Worker`` whose signals are delivered on the GUI thread: ``progress(done, total)`` (when ``fn``
accepts a ``progress`` keyword), ``result(value)``, ``error(exception)`` and ``finished()``.
The GUI thread never waits for a worker; ``WorkerPool.wait()`` is for shutdown and tests.

``WorkerPool.start_latest(key, fn, *args, on_result=...)`` is for loaders where only the newest
request matters (the preview of the selected hit, the search for what is typed now): a new start
under the same key makes the earlier one's callbacks be dropped, and asks it to stop (a queued
call is skipped; a function with a ``cancel`` parameter the caller leaves open gets a
``threading.Event`` that is set).
``serial=True`` is for functions that use something serving one call at a time (a reader's
SQLite connection): a start while one runs waits for it, replacing any start already waiting.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

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
        self.cancel_event = threading.Event()
        if _accepts(fn, "progress"):
            self.kwargs.setdefault("progress", self.signals.progress.emit)

    def cancel(self) -> None:
        """Skip the call if it has not started; a running ``fn(cancel=...)`` sees the event set."""
        self.cancelled = True
        self.cancel_event.set()

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


def _accepts(fn: Callable[..., Any], parameter: str) -> bool:
    try:
        return parameter in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _left_open(fn: Callable[..., Any], parameter: str, args: tuple, kwargs: dict) -> bool:
    """Whether ``fn`` has ``parameter`` and the caller's arguments do not give it already."""
    try:
        signature = inspect.signature(fn)
        return parameter in signature.parameters and (
            parameter not in signature.bind_partial(*args, **kwargs).arguments
        )
    except (TypeError, ValueError):
        return False


class _Request:
    """One ``start_latest`` call: passes its worker's signals on while it is its key's latest.

    A plain object, not a QObject: its bound methods are connected like ``start``'s callables
    (PySide delivers them on the GUI thread, where the worker's signals object lives). As a
    Python subclass of QObject it segfaulted now and then in the GUI tests when the last
    reference went: QObject::~QObject asked PySide for Python overrides of a wrapper whose
    instance dict was already gone (core dumps: Sbk_GetPyOverride / Shiboken::Object::cppPointer
    under QObject::~QObject, from subtype_dealloc), inside its own slot or outside it."""

    def __init__(
        self,
        pool: WorkerPool,
        key: Hashable,
        lane: _Lane,
        worker: Worker,
        on_result: Callable[[Any], None] | None,
        on_error: Callable[[Exception], None] | None,
        on_progress: Callable[[int, int], None] | None,
        on_finished: Callable[[], None] | None,
    ) -> None:
        self.pool, self.key, self.lane, self.worker = pool, key, lane, worker
        self.owner = _owner_of(key)
        self.on_result, self.on_error = on_result, on_error
        self.on_progress, self.on_finished = on_progress, on_finished
        worker.signals.result.connect(self._result)
        worker.signals.error.connect(self._error)
        worker.signals.progress.connect(self._progress)
        worker.signals.finished.connect(self._finished)

    def is_latest(self) -> bool:
        """Whether the callbacks still run: no newer request, and the owner still exists (a
        result arriving after the window closed must not reach its deleted widgets)."""
        return self.lane.latest is self and (self.owner is None or shiboken6.isValid(self.owner))

    def _result(self, value: Any) -> None:
        if self.on_result is not None and self.is_latest():
            self.on_result(value)

    def _error(self, error: Exception) -> None:
        if self.on_error is not None and self.is_latest():
            self.on_error(error)

    def _progress(self, done: int, total: int) -> None:
        if self.on_progress is not None and self.is_latest():
            self.on_progress(done, total)

    def _finished(self) -> None:
        latest = self.is_latest()
        self.pool._request_ended(self)
        if latest and self.on_finished is not None:
            self.on_finished()


def _owner_of(key: Hashable) -> QObject | None:
    owner = key[0] if isinstance(key, tuple) and key else key
    return owner if isinstance(owner, QObject) else None


@dataclass
class _Lane:
    """The requests of one key: whose callbacks run, and (serial keys) who runs and who waits."""

    latest: _Request | None = None
    running: _Request | None = None
    waiting: _Request | None = None


class WorkerPool:
    """A QThreadPool of bounded size; tests and shutdown wait for it to drain."""

    def __init__(self, max_threads: int = 4) -> None:
        self.pool = QThreadPool()
        self.pool.setMaxThreadCount(max_threads)
        self._lanes: dict[Hashable, _Lane] = {}
        self._requests: set[_Request] = set()  # alive until their worker ends (Qt needs that)
        self._ending: list[_Request] = []  # ended; released outside their own callback

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

    def start_latest(
        self,
        key: Hashable,
        fn: Callable[..., Any],
        *args: Any,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        serial: bool = False,
        **kwargs: Any,
    ) -> Worker:
        """Run ``fn(*args, **kwargs)`` as the latest request under ``key``.

        The callbacks run on the GUI thread, as with ``start``, but only while this is still the
        latest request under ``key``: a later ``start_latest`` (or ``drop``) under the same key
        drops them, cancels this one (``Worker.cancel``) and, with ``serial``, makes the new one
        wait until this one ended. ``on_finished`` follows the result or error of the latest.
        Keys are any hashable; a widget's own tuple such as ``(self, "page")`` keeps apart
        widgets that share the pool, and a key that is or starts with a QObject ties the
        requests to it: once it is deleted, they report nothing."""
        worker = Worker(fn, *args, **kwargs)
        if _left_open(fn, "cancel", args, kwargs):
            worker.kwargs["cancel"] = worker.cancel_event
        lane = self._lanes.setdefault(key, _Lane())
        request = _Request(self, key, lane, worker, on_result, on_error, on_progress, on_finished)
        self._supersede(lane)
        lane.latest = request
        self._requests.add(request)
        if serial and lane.running is not None:
            lane.waiting = request
        else:
            if serial:
                lane.running = request
            self.pool.start(worker)
        return worker

    def drop(self, key: Hashable) -> None:
        """Drop the callbacks of the requests under ``key`` and cancel them (nothing new starts)."""
        lane = self._lanes.get(key)
        if lane is None:
            return
        self._supersede(lane)
        lane.latest = None
        self._forget_if_idle(key, lane)

    def busy(self, key: Hashable) -> bool:
        """Whether a request under ``key`` whose result will be delivered runs or waits."""
        lane = self._lanes.get(key)
        return lane is not None and lane.latest is not None

    def _supersede(self, lane: _Lane) -> None:
        if lane.latest is not None:
            lane.latest.worker.cancel()
        if lane.waiting is not None:  # never handed to the thread pool: forget it now
            self._requests.discard(lane.waiting)
            lane.waiting = None

    def _request_ended(self, request: _Request) -> None:
        # Called from the request's own callback: PySide's receiver still runs its bound method,
        # so the request is let go on the next turn of the event loop, not inside that call.
        self._requests.discard(request)
        self._ending.append(request)
        QTimer.singleShot(0, self._release_ended)
        lane = request.lane
        if lane.latest is request:
            lane.latest = None
        if lane.running is request:
            lane.running = lane.waiting
            lane.waiting = None
            if lane.running is not None:
                self.pool.start(lane.running.worker)
        self._forget_if_idle(request.key, lane)

    def _release_ended(self) -> None:
        self._ending.clear()

    def _forget_if_idle(self, key: Hashable, lane: _Lane) -> None:
        idle = lane.latest is None and lane.running is None and lane.waiting is None
        if idle and self._lanes.get(key) is lane:
            del self._lanes[key]

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until every worker finished (shutdown and tests only, never on a user action).

        A request waiting behind a ``serial`` key starts only when the event loop delivers the
        end of the one before it: owners ``drop`` their keys before shutting down."""
        return self.pool.waitForDone(msecs)
