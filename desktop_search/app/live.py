# Over 400 lines: one job: the live index's writer thread (reconcile, changes, retries, rescans).
"""Keep a library current while the app (or ``desktop-search watch``) runs.

``LiveIndex`` holds the writer lock for its whole life and owns one worker thread, the only one
that writes: at start it reconciles every indexed folder (changes made while nothing ran), then
it applies the watcher's settled changes, works the persistent queue down, retries what failed
for a passing reason, and rescans folders that cannot be watched. Listeners get a ``LiveStatus``
after every step; they are called on the worker thread (the GUI forwards them as Qt signals).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from watchdog.observers import Observer

from desktop_search.app.library import Library
from desktop_search.errors import IndexCancelled
from desktop_search.extract.documents import is_indexed_name
from desktop_search.extract.images import IMAGE_EXTENSIONS
from desktop_search.index.control import IndexControl, lower_thread_priority
from desktop_search.index.indexer import Indexer
from desktop_search.index.progress import Heartbeat
from desktop_search.index.report import IndexReport
from desktop_search.index.watch import ChangeCollector, Changes, FolderWatcher, root_of
from desktop_search.store.records import FileState

log = logging.getLogger(__name__)

TICK = 0.1  # seconds between looks at the watcher's settled changes
RESCAN_INTERVAL = 15 * 60.0  # folders that cannot be watched are rescanned this often
SAVE_INTERVAL = 60.0  # while busy, the vector index file is saved at most this often
IDLE_SAVE_DELAY = 5.0  # and this long after the last change once idle
# Forgotten files' words leave the keyword index by a rewrite of the whole index (0.7-1.3 s at
# 20k passages, 3-8 s at 100k: benchmarks/private_data.py), so at quiet moments at most this
# often; their thumbnails go at the first quiet moment (0.2-0.4 s to list 100k: Library.clean_up).
TEXT_PURGE_INTERVAL = 600.0


@dataclass(frozen=True)
class LiveStatus:
    """A snapshot for status lines: what the worker does and how far it is."""

    # starting | scanning | indexing | passages | photo text | idle | paused | stopped | error
    state: str = "starting"
    done: int = 0
    total: int = 0
    rate: float | None = None  # files per second
    eta_seconds: float | None = None
    queued: int = 0  # waiting now
    retrying: int = 0  # waiting for a retry after a passing failure
    unwatched: dict[str, str] = field(default_factory=dict)  # root -> why it is rescanned
    last_report: IndexReport | None = None
    error: str | None = None


# A step that fails (the library's own problem: disk full, database locked by another program)
# is tried again after 5 s, then 10, 20, ... up to 5 minutes: a failure that lasts costs a few
# log lines an hour, not a hot loop; one that passes is over within seconds.
BACKOFF_FIRST = 5.0
BACKOFF_MAX = 300.0


def backoff_delay(failures: int) -> float:
    """Seconds to wait after ``failures`` failed steps in a row."""
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, failures - 1))


PASSAGES_PER_STEP = 64
PHOTOS_PER_STEP = 2


def _record_skipped_links(
    library: Library, scanned: dict[str, Counter[str]], known: list[str]
) -> None:
    """Keep the links not followed that ``status`` shows once (``Library.index`` records its
    run's) current: replaced when every indexed folder was just scanned whole, added to for
    folders new to the library. A rescan of some of the known folders leaves them: which of the
    recorded links were in those folders is not known."""
    if set(library.roots()) <= set(scanned):
        counts: Counter[str] = Counter()
    elif new := [root for root in scanned if root not in known]:
        counts = Counter(json.loads(library.store.meta("skipped_links") or "{}"))
        scanned = {root: scanned[root] for root in new}
    else:
        return
    for found in scanned.values():
        counts.update(found)
    library.store.set_meta("skipped_links", json.dumps(dict(counts)))


def _indexed_name(library: Library, path: str) -> bool:
    if library.settings.index_documents:
        return is_indexed_name(path)
    return os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS


class LiveIndex:
    """The one writer of a library while it runs; ``start`` raises ``WriterLockedError`` when
    another process indexes the same library."""

    def __init__(
        self,
        library: Library,
        *,
        settle: float | None = None,
        rescan_interval: float = RESCAN_INTERVAL,
        observer_factory: Callable[[], Observer] = Observer,
    ) -> None:
        self.library = library
        self.control = IndexControl(library.activity)
        self.collector = ChangeCollector() if settle is None else ChangeCollector(settle)
        self.watcher = FolderWatcher(
            self.collector, functools.partial(_indexed_name, library),
            lambda: library.settings.exclude,
            observer_factory=observer_factory, on_overflow=self.rescan,
        )  # fmt: skip
        self.rescan_interval = rescan_interval
        self._listeners: list[Callable[[LiveStatus], None]] = []
        self._status = LiveStatus()
        self._status_lock = threading.Lock()
        self._requests_lock = threading.Lock()
        self._rescan_roots: set[str] = set()
        self._forget_roots: set[str] = set()
        # Passages to encode or photos to read may be left: checked when nothing else is to do.
        self._passes_pending = True
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._writer = None
        self._next_periodic = time.monotonic() + rescan_interval
        self._hash_cache: dict = {}  # content hashes indexed, kept between steps (worker only)

    # -- life cycle (any thread) -----------------------------------------------------------

    def start(self) -> None:
        self._writer = self.library.writer()
        self._writer.__enter__()  # raises WriterLockedError: nothing else is started then
        try:
            self.watcher.start()
            roots = self.library.roots()
            for root in roots:
                self._watch(root)
        except BaseException:
            self.watcher.stop()
            self._writer.__exit__(None, None, None)
            self._writer = None
            raise
        self.rescan()
        self._thread = threading.Thread(target=self._work, name="live-index", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the file at hand, save, release the writer lock. Safe to call twice."""
        self._stopping.set()
        self.control.cancel()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.watcher.stop()
        if self._writer is not None:
            self._writer.__exit__(None, None, None)
            self._writer = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def subscribe(self, listener: Callable[[LiveStatus], None]) -> None:
        self._listeners.append(listener)

    def status(self) -> LiveStatus:
        with self._status_lock:
            return self._status

    # -- requests (any thread) ---------------------------------------------------------------

    def rescan(self, folders: list[Path] | None = None) -> None:
        """Reconcile ``folders`` (new ones become indexed folders), or every indexed folder."""
        roots = [os.path.abspath(folder) for folder in folders] if folders else None
        with self._requests_lock:
            self._rescan_roots |= set(roots) if roots else {""}  # "" stands for all roots
        self._wake.set()

    def forget(self, root: str) -> None:
        """Stop indexing ``root`` and forget its files."""
        with self._requests_lock:
            self._forget_roots.add(root)
        self._wake.set()

    def pause(self) -> None:
        self.control.pause()
        self._publish(state="paused")

    def resume(self) -> None:
        self.control.resume()
        self._wake.set()

    # -- the worker thread -----------------------------------------------------------------

    def _work(self) -> None:
        lower_thread_priority()
        library = self.library.reader()  # this thread's own database connection
        heartbeat = Heartbeat(library.store, context=lambda: {"unwatched": self.status().unwatched})
        unsaved, last_save = False, time.monotonic()
        last_change = last_save
        failures = 0  # steps failed in a row: each waits longer before the next try
        # What forgotten files left behind is cleaned up at quiet moments (nothing is being
        # decoded then); the first one looks at every thumbnail (leftovers of a crash).
        clean, swept, text_waiting, text_after = False, False, False, 0.0
        try:
            while not self._stopping.is_set():
                self._wake.wait(TICK)
                self._wake.clear()
                try:
                    busy = self._step(library, heartbeat)
                except IndexCancelled:
                    continue  # stopping; what was committed stays
                except Exception as error:  # noqa: BLE001 - keep watching; say what went wrong
                    failures += 1
                    delay = backoff_delay(failures)
                    log.exception("live indexing step failed (%d in a row; next try in %.0f s)",
                                  failures, delay)  # fmt: skip
                    self._publish(state="error", error=f"indexing failed: {error} (trying "
                                  f"again in {delay:.0f} s)")  # fmt: skip
                    self._stopping.wait(delay)  # never spins, whatever keeps failing
                    continue
                failures = 0
                now = time.monotonic()
                if busy:
                    unsaved, last_change = True, now
                # Save once things have been quiet for a few seconds, and now and then during
                # long runs. Other processes catch a file up from the change log and a crash
                # loses nothing either way: saving (0.2-0.7 s at 100k) while photos keep
                # arriving would only delay them.
                quiet = not busy and now - last_change >= IDLE_SAVE_DELAY
                if unsaved and (quiet or now - last_save >= SAVE_INTERVAL):
                    library.save_vectors()
                    unsaved, last_save = False, time.monotonic()
                clean = clean and not busy
                if quiet and (not clean or (text_waiting and now >= text_after)):
                    every, clean, swept = not swept, True, True  # a failure: the next change
                    try:
                        done = library.clean_up(every_thumbnail=every, text=now >= text_after)
                    except (OSError, sqlite3.Error) as error:
                        log.warning("could not clean up after forgotten files: %s", error)
                        continue
                    text_waiting = done.text_waiting
                    if done.text_purged:
                        text_after = time.monotonic() + TEXT_PURGE_INTERVAL
                heartbeat.keep_alive(self.status().state, **self._queue_counts())
        finally:
            if unsaved:
                library.save_vectors()
            heartbeat.clear()
            library.close()
            self._publish(state="stopped")

    def _queue_counts(self) -> dict:
        status = self.status()
        return {"queued": status.queued, "retrying": status.retrying}

    def _step(self, library: Library, heartbeat: Heartbeat) -> bool:
        """One round: returns whether anything was indexed or changed."""
        self.control.checkpoint()  # blocks while paused
        with self._requests_lock:
            forget, self._forget_roots = self._forget_roots, set()
            rescan, self._rescan_roots = self._rescan_roots, set()
        for root in forget:
            self.watcher.unwatch(root)
            library.forget_root(root)
        rescan |= self._periodic_rescans()
        changes = self.collector.take()
        queued, retrying = library.store.queue.waiting()
        if not (rescan or changes or queued or forget):
            if self._passes_pending and self._background_pass(library):
                return True
            # The idle tick (ten a second): one query, no indexer built, nothing to apply.
            self._publish(state="idle", queued=0, retrying=retrying, done=0, total=0)
            return False
        indexer = library.indexer(self.control, hash_cache=self._hash_cache)
        report = IndexReport()
        vanished = self._apply(library, indexer, changes, report)
        if rescan:
            self._publish(state="scanning")
            vanished |= self._reconcile(library, indexer, rescan, report)
        self._drain(indexer, heartbeat, report, vanished)
        self._passes_pending = True
        return True

    def _background_pass(self, library: Library) -> bool:
        """A little of the work after indexing: encode passages, then read text in photos
        (each step is short, so new files and the user's searches never wait long)."""
        indexer = library.indexer(self.control, hash_cache=self._hash_cache)
        report = IndexReport()
        if indexer.embed_passages(report, limit=PASSAGES_PER_STEP):
            self._publish(state="passages", done=0, total=0)
            return True
        if indexer.read_photo_texts(report, limit=PHOTOS_PER_STEP):
            self._publish(state="photo text", done=0, total=0)
            return True
        self._passes_pending = False
        return False

    def _drain(
        self, indexer: Indexer, heartbeat: Heartbeat, report: IndexReport,
        vanished: dict[str, FileState],
    ) -> None:  # fmt: skip
        def progress(done: int, total: int) -> None:
            meter = heartbeat.meter
            self._publish(
                state="indexing", done=done, total=total, rate=meter.rate,
                eta_seconds=meter.eta_seconds, queued=max(0, total - done),
            )  # fmt: skip

        started = time.perf_counter()
        indexer.drain(report, heartbeat.wrap(progress), vanished)
        indexer.forget(list(vanished), report)
        report.seconds = round(time.perf_counter() - started, 3)
        queued, retrying = indexer.store.queue.waiting()
        heartbeat.publish("idle", queued=queued, retrying=retrying)
        self._publish(state="idle", last_report=report, queued=queued, retrying=retrying)

    def _apply(
        self, library: Library, indexer: Indexer, changes: Changes, report: IndexReport
    ) -> dict[str, FileState]:
        """Carry settled watcher changes into the store and queue; returns vanished files."""
        store, roots = library.store, library.roots()
        for source, destination in changes.folder_moves:
            root = root_of(destination, roots)
            if root is None:  # moved out of every indexed folder
                indexer.drop_vectors(store.files.remove_under(source))
                continue
            _, replaced = store.files.move_folder(source, destination, root)
            indexer.drop_vectors(replaced)
            changes.folders.add(destination)  # and look at what arrived with it
        for source, destination in changes.moves:
            root = root_of(destination, roots)
            moved, replaced = (
                store.files.move_file(source, destination, root) if root else (False, [])
            )
            indexer.drop_vectors(replaced)
            if not moved:  # unknown before, or moved out of sight: look at both ends
                changes.paths |= {source, destination}
        return self._look_again(library, indexer, changes, report, roots)

    def _look_again(
        self, library: Library, indexer: Indexer, changes: Changes, report: IndexReport,
        roots: list[str],
    ) -> dict[str, FileState]:  # fmt: skip
        store, vanished, fresh = library.store, {}, []
        gone = [path for path in changes.paths if not os.path.lexists(path)]
        vanished |= store.files.file_states_of(gone, indexer.model_id)
        for path in changes.paths:
            root = root_of(path, roots)
            if root is not None and path not in gone:
                fresh.append((path, root))
        store.queue.add(fresh, fresh=True)
        for folder in changes.folders:
            root = root_of(folder, roots)
            if root is None:
                continue
            if os.path.isdir(folder):
                vanished |= indexer.reconcile(Path(folder), report, root=root)
            else:
                vanished |= store.files.file_states(folder, indexer.model_id)
        return vanished

    def _reconcile(
        self, library: Library, indexer: Indexer, requested: set[str], report: IndexReport
    ) -> dict[str, FileState]:
        known = library.roots()
        if "" in requested:
            requested = (requested - {""}) | set(known)
        # A folder inside an indexed one is rescanned as part of it, not added as another root
        # (its files would be scanned twice and change roots back and forth).
        inside = {f: root_of(f, [r for r in known if r != f]) for f in requested}
        library.store.files.add_roots(f for f in requested if os.path.isdir(f) and not inside[f])
        vanished: dict[str, FileState] = {}
        skipped: dict[str, Counter[str]] = {}  # indexed folder scanned whole -> links not followed
        for folder in sorted(requested):
            if not os.path.exists(folder):
                log.warning("indexed folder %s is missing (unmounted?); its files are kept", folder)
                continue
            if inside[folder] is None:
                self._watch(folder)
            before = Counter(report.skipped_links)
            vanished |= indexer.reconcile(Path(folder), report, root=inside[folder])
            if inside[folder] is None:
                skipped[folder] = Counter(report.skipped_links) - before
        _record_skipped_links(library, skipped, known)
        return vanished

    def _periodic_rescans(self) -> set[str]:
        now = time.monotonic()
        if not self.watcher.unwatched or now < self._next_periodic:
            return set()
        self._next_periodic = now + self.rescan_interval
        return set(self.watcher.unwatched)

    def _watch(self, root: str) -> None:
        if os.path.isdir(root):
            self.watcher.watch(root)
        unwatched = {r: u.reason for r, u in self.watcher.unwatched.items()}
        self._publish(unwatched=unwatched)

    def _publish(self, **changes: object) -> None:
        with self._status_lock:
            if self.control.paused and changes.get("state") not in (None, "stopped", "paused"):
                changes["state"] = "paused"
            status = replace(self._status, **changes)
            if status == self._status:
                return  # idle ticks: nothing new to tell
            self._status = status
        for listener in list(self._listeners):
            try:
                listener(status)
            except Exception:  # noqa: BLE001 - a broken listener must not stop indexing
                log.exception("status listener failed")
