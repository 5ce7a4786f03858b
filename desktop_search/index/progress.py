"""Indexing rate and time left, smoothed so the numbers a user sees don't jump around."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop_search.store.store import Store

# (done, total): the files of a drain, photos and documents together (what the live index, the
# heartbeat and the window show); a pass (text in photos, passages) counts its own items.
ProgressCallback = Callable[[int, int], None]

SMOOTHING_SECONDS = 10.0  # the rate follows changes over about this long


class Phase(Enum):
    """The parts of an index run a person sees, in the order a run goes through them.

    Photos come first and alone: once their phase ends every photo of the run has its CLIP
    embedding (and its objects, detected in the same decode) committed, i.e. is searchable.
    Documents follow, then their passages' embeddings, then the slowest and least urgent pass,
    the text in photos.
    """

    PHOTOS = "photos"
    DOCUMENTS = "documents"
    PASSAGES = "passages"
    PHOTO_TEXT = "text in photos"


@dataclass(frozen=True)
class PhaseProgress:
    """Where one phase of a run stands; reported as it starts (``done`` 0), as it goes and once
    it ends (``done == total``: the last report of that phase)."""

    phase: Phase
    done: int
    total: int
    seconds: float  # since the run started
    failed: int = 0  # of ``done``: failed (or waiting for a retry), so not searchable


PhaseCallback = Callable[[PhaseProgress], None]


class PhaseReporter:
    """One run's clock and where its phase reports go (nowhere: ``callback`` None)."""

    def __init__(self, callback: PhaseCallback | None = None, started: float | None = None) -> None:
        self.callback = callback
        self.started = time.perf_counter() if started is None else started
        # When each phase said it ended, on this clock: "photos searchable" is that very
        # moment, not a second reading of the clock a moment later (which can differ by 1 ms).
        self.ended: dict[Phase, float] = {}

    def elapsed(self) -> float:
        """Seconds since the run started (``time.perf_counter``), to the millisecond."""
        return round(time.perf_counter() - self.started, 3)

    def report(self, phase: Phase, done: int, total: int, failed: int = 0) -> None:
        seconds = self.elapsed()
        if done >= total:
            self.ended[phase] = seconds
        if self.callback is not None:
            self.callback(PhaseProgress(phase, done, max(total, done), seconds, failed))

    def counter(self, phase: Phase) -> ProgressCallback:
        """A ``(done, total)`` callback reporting ``phase`` (for the passes)."""
        return lambda done, total: self.report(phase, done, total)


class RateMeter:
    """Files per second over a run, and the estimated seconds until ``total`` is done."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.done = 0
        self.total = 0
        self._rate: float | None = None
        self._last_time = clock()
        self._last_done = 0

    def start(self, total: int, done: int = 0) -> None:
        """Measure from now; ``done``: where this run starts (a resumed download's kept bytes)."""
        self.done, self.total = done, total
        self._rate, self._last_time, self._last_done = None, self.clock(), done

    def update(self, done: int, total: int) -> None:
        now = self.clock()
        self.done, self.total = done, max(total, done)
        elapsed = now - self._last_time
        if elapsed < 0.5:  # too short to measure; keep the previous estimate
            return
        current = (done - self._last_done) / elapsed
        weight = min(1.0, elapsed / SMOOTHING_SECONDS)
        self._rate = current if self._rate is None else self._rate + weight * (current - self._rate)
        self._last_time, self._last_done = now, done

    @property
    def rate(self) -> float | None:
        """Files per second, once measured."""
        return self._rate

    @property
    def eta_seconds(self) -> float | None:
        if not self._rate or self._rate <= 0:
            return None
        return max(0.0, (self.total - self.done) / self._rate)


def eta_text(seconds: float | None) -> str:
    """``about 30 s left``, ``about 4 min left``, ``about 2 h 5 min left``."""
    if seconds is None:
        return ""
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"about {max(seconds, 1)} s left"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} min left"
    return f"about {minutes // 60} h {minutes % 60} min left"


def megabytes(size: int | None) -> str:
    """``605.2 MB`` (decimal, as download sizes are usually given); ``size ?`` when unknown."""
    return "size ?" if size is None else f"{size / 1e6:,.1f} MB"


class TransferMeter:
    """Bytes of a download: ``120.5 of 605.0 MB · 4.2 MB/s · about 2 min left``.

    The same words on a terminal and in the window (both call it with each progress report).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.meter = RateMeter(clock)
        self._started = False

    def update(self, done: int, total: int) -> str:
        if not self._started:  # the first report is where this attempt starts: the bytes kept
            self.meter.start(total, done)  # from an earlier one did not just arrive
            self._started = True
        self.meter.update(done, total)
        parts = [f"{done / 1e6:,.1f} of {megabytes(total)}"]
        if self.meter.rate:
            parts.append(f"{self.meter.rate / 1e6:,.1f} MB/s")
        if eta := eta_text(self.meter.eta_seconds):
            parts.append(eta)
        return " · ".join(parts)


class Heartbeat:
    """What a running indexer publishes in the database for ``status`` in other processes:
    its state, progress, rate and time left. Gone (None) once stale or its process ended."""

    KEY = "indexer"
    INTERVAL = 2.0  # seconds between writes: cheap, and fresh enough for a status line
    STALE_AFTER = 30.0

    def __init__(
        self,
        store: Store,
        clock: Callable[[], float] = time.time,
        context: Callable[[], dict] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.context = context  # more to publish every time (e.g. folders not watched live)
        self.meter = RateMeter()
        self._published = float("-inf")

    def wrap(self, progress: ProgressCallback | None) -> ProgressCallback:
        """A progress callback that measures, publishes now and then, and forwards."""

        def on_progress(done: int, total: int) -> None:
            if done == 0:
                self.meter.start(total)
            else:
                self.meter.update(done, total)
            if self.clock() - self._published >= self.INTERVAL or done == total:
                self.publish("indexing")
            if progress is not None:
                progress(done, total)

        return on_progress

    def publish(self, state: str, **extra: object) -> dict:
        self._published = self.clock()
        info = {
            "pid": os.getpid(), "state": state, "updated": self._published,
            "done": self.meter.done, "total": self.meter.total,
            "rate": round(self.meter.rate, 2) if self.meter.rate is not None else None,
            "eta_seconds": round(self.meter.eta_seconds) if self.meter.eta_seconds else None,
            **(self.context() if self.context else {}),
            **extra,
        }  # fmt: skip
        self.store.set_meta(self.KEY, json.dumps(info))
        return info

    def keep_alive(self, state: str, **extra: object) -> None:
        """Publish again before the last one goes stale (an idle watcher is still there)."""
        if self.clock() - self._published >= self.STALE_AFTER / 3:
            self.publish(state, **extra)

    def clear(self) -> None:
        self.store.set_meta(self.KEY, "null")

    def read(self) -> dict | None:
        raw = self.store.meta(self.KEY)
        info = json.loads(raw) if raw else None
        if not info or self.clock() - info.get("updated", 0) > self.STALE_AFTER:
            return None
        return info if _process_alive(info.get("pid")) else None


def _process_alive(pid: object) -> bool:
    if not isinstance(pid, int):
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True
