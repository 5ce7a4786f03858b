"""Watch indexed folders and turn file-system events into settled changes.

watchdog reports every write of a file being copied; ``ChangeCollector`` waits until a file has
been quiet for ``settle`` seconds (less once it was closed after writing) and its size and time
stopped changing, then hands it out once. Moves and renames are handed out at once, so the store
can carry embeddings over to the new name before anything else looks at it.

Where watching is impossible (the inotify watch limit, network drives whose changes made by other
machines are never announced) a root falls back to periodic rescans, with the reason recorded.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from desktop_search.index.scan import is_wanted

log = logging.getLogger(__name__)

DEFAULT_SETTLE = 1.0  # seconds without events before a file counts as written
CLOSED_SETTLE = 0.2  # once closed after writing, only check the size stays put
NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "afs", "9p", "fuse.sshfs", "fuse.rclone", "davfs"}
)


@dataclass
class Changes:
    """Settled changes, in the order to apply them: moves first, then the rest."""

    moves: list[tuple[str, str]] = field(default_factory=list)  # (source, destination)
    folder_moves: list[tuple[str, str]] = field(default_factory=list)
    paths: set[str] = field(default_factory=set)  # created, modified or deleted: look again
    folders: set[str] = field(default_factory=set)  # created, deleted or unknown: rescan

    def __bool__(self) -> bool:
        return bool(self.moves or self.folder_moves or self.paths or self.folders)


@dataclass
class _Pending:
    last_event: float
    signature: tuple[int, int] | None
    closed: bool = False


class ChangeCollector:
    """Debounces events into ``Changes``; thread-safe (events arrive on watchdog's thread)."""

    def __init__(self, settle: float = DEFAULT_SETTLE, clock: Callable[[], float] = time.monotonic):
        self.settle = settle
        self.clock = clock
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        self._ready = Changes()

    def file_changed(self, path: str, *, closed: bool = False) -> None:
        with self._lock:
            self._pending[path] = _Pending(self.clock(), _signature(path), closed)

    def file_moved(self, source: str, destination: str) -> None:
        with self._lock:
            if self._pending.pop(source, None) is not None:
                # Written under a temporary name, then renamed: only the final name matters.
                self._pending[destination] = _Pending(self.clock(), _signature(destination))
            else:
                self._ready.moves.append((source, destination))

    def folder_moved(self, source: str, destination: str) -> None:
        with self._lock:
            self._ready.folder_moves.append((source, destination))

    def folder_changed(self, path: str) -> None:
        with self._lock:
            self._ready.folders.add(path)

    def take(self) -> Changes:
        """Everything that settled since the last call (empty when nothing did)."""
        now = self.clock()
        with self._lock:
            candidates = [
                (path, pending)
                for path, pending in self._pending.items()
                if now - pending.last_event >= (CLOSED_SETTLE if pending.closed else self.settle)
            ]
        settled = []
        for path, pending in candidates:  # stat outside the lock: events keep flowing
            signature = _signature(path)
            if signature == pending.signature:
                settled.append((path, pending))
            else:  # still growing: wait another quiet period
                pending.signature, pending.last_event, pending.closed = signature, now, False
        with self._lock:
            for path, pending in settled:
                if self._pending.get(path) is pending:
                    del self._pending[path]
                    self._ready.paths.add(path)
            ready, self._ready = self._ready, Changes()
        return ready

    @property
    def waiting(self) -> int:
        """Files seen changing that have not settled yet."""
        with self._lock:
            return len(self._pending)


def _signature(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


class _Handler(FileSystemEventHandler):
    """Feeds one root's events into the collector, dropping what indexing would skip."""

    def __init__(self, root: str, collector: ChangeCollector, wanted: Callable[[str, str], bool]):
        self.root, self.collector, self.wanted = root, collector, wanted

    def on_any_event(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        # str as the scan's: a name that is not UTF-8 keeps its bytes as surrogate escapes.
        source, destination = os.fsdecode(event.src_path), os.fsdecode(event.dest_path or "")
        if event.is_directory:
            if kind == "moved":
                self.collector.folder_moved(source, destination)
            elif kind in ("created", "deleted"):
                self.collector.folder_changed(source)
            return
        if kind == "moved":
            self._moved(source, destination)
        elif kind in ("created", "modified", "deleted", "closed") and self.wanted(
            source, self.root
        ):
            self.collector.file_changed(source, closed=kind == "closed")

    def _moved(self, source: str, destination: str) -> None:
        source_wanted = self.wanted(source, self.root)
        destination_wanted = self.wanted(destination, self.root)
        if source_wanted and destination_wanted:
            self.collector.file_moved(source, destination)
        elif source_wanted:  # renamed to something not indexed: gone for us
            self.collector.file_changed(source)
        elif destination_wanted:  # e.g. a download's temporary name becoming a photo
            self.collector.file_changed(destination)


@dataclass(frozen=True)
class Unwatched:
    root: str
    reason: str


class FolderWatcher:
    """watchdog observers over the roots; roots that cannot be watched are listed instead."""

    def __init__(
        self,
        collector: ChangeCollector,
        extensions: Collection[str],
        exclude: Callable[[], Collection[str]] = tuple,
        *,
        observer_factory: Callable[[], Observer] = Observer,
        on_overflow: Callable[[], None] | None = None,
    ) -> None:
        self.collector = collector
        # A callable: exclude patterns changed in the settings apply to the next event.
        self.extensions, self.exclude = extensions, exclude
        self.observer_factory = observer_factory
        self.observer: Observer | None = None  # made in start(): watchdog starts a thread
        self.unwatched: dict[str, Unwatched] = {}
        self._watches: dict[str, object] = {}
        self._overflow = _OverflowListener(on_overflow) if on_overflow else None

    def start(self) -> None:
        self.observer = self.observer_factory()
        self.observer.start()
        if self._overflow:
            self._overflow.attach()

    def stop(self) -> None:
        if self.observer is None:
            return
        if self._overflow:
            self._overflow.detach()
        self.observer.stop()
        if self.observer.is_alive():
            self.observer.join(timeout=5)
        self.observer = None

    def watch(self, root: str) -> Unwatched | None:
        """Start watching ``root``; returns why it can't be watched (rescans instead)."""
        if self.observer is None:
            raise RuntimeError("start() the watcher first")
        if root in self._watches or root in self.unwatched:
            return self.unwatched.get(root)
        reason = network_filesystem(root)
        if reason is None:
            handler = _Handler(root, self.collector, self._wanted)
            try:
                self._watches[root] = self.observer.schedule(handler, root, recursive=True)
                return None
            except OSError as error:
                reason = _watch_error_reason(error)
        unwatched = Unwatched(root, reason)
        self.unwatched[root] = unwatched
        log.warning("not watching %s (%s): rescanning it periodically instead", root, reason)
        return unwatched

    def unwatch(self, root: str) -> None:
        self.unwatched.pop(root, None)
        watch = self._watches.pop(root, None)
        if watch is not None and self.observer is not None:
            self.observer.unschedule(watch)

    def _wanted(self, path: str, root: str) -> bool:
        return is_wanted(path, root, self.extensions, self.exclude())


def _watch_error_reason(error: OSError) -> str:
    if error.errno in (errno.ENOSPC, errno.EMFILE):
        return (
            "the system limit on watched folders is reached "
            "(raise fs.inotify.max_user_watches to watch it live)"
        )
    return f"cannot watch it: {error.strerror or error}"


def network_filesystem(path: str, mounts: str | None = None) -> str | None:
    """Why ``path`` can't be watched if it is on a network file system (Linux), else None.

    ``mounts``: the text of /proc/self/mounts (read from there when not given)."""
    if mounts is None:
        if not sys.platform.startswith("linux"):
            return None
        try:
            with open("/proc/self/mounts", encoding="utf-8", errors="replace") as file:
                mounts = file.read()
        except OSError:
            return None
    best, best_type = "", ""
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        mount_point = fields[1].replace("\\040", " ")
        if _inside(path, mount_point) and len(mount_point) > len(best):
            best, best_type = mount_point, fields[2]
    if best_type in NETWORK_FILESYSTEMS:
        return f"network drive ({best_type}): changes made elsewhere are not announced"
    return None


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class _OverflowListener(logging.Handler):
    """watchdog only logs that the kernel dropped events; hearing that, we rescan."""

    LOGGER = "watchdog.observers.inotify_c"

    def __init__(self, callback: Callable[[], None]) -> None:
        super().__init__(logging.WARNING)
        self.callback = callback

    def attach(self) -> None:
        logging.getLogger(self.LOGGER).addHandler(self)

    def detach(self) -> None:
        logging.getLogger(self.LOGGER).removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self.callback()


def root_of(path: str, roots: Collection[str]) -> str | None:
    """The root ``path`` lies in (the innermost, when roots nest)."""
    inside = [root for root in roots if _inside(path, root)]
    return max(inside, key=len) if inside else None
