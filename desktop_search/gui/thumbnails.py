"""Thumbnails for the result grid: read from the index on a worker, kept in a small LRU cache.

The GUI thread never decodes an image: ``ThumbnailCache.get(path)`` answers from memory or
returns ``None`` (the view draws a placeholder) and queues the file; one worker at a time loads
the queued files in a batch (``QImage`` is safe off the GUI thread) and ``loaded(path)`` fires
on the GUI thread for each, where the image becomes a ``QPixmap`` (cheap for <= 256 px).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap

from desktop_search.gui.workers import WorkerPool

BATCH = 24  # thumbnails per worker call: keeps the pool free for searches in between


def load_thumbnails(paths: list[str], size: QSize) -> list[tuple[str, QImage | None]]:
    """Decode and scale thumbnails (runs on a worker). ``None`` for a missing or broken file."""
    loaded = []
    for path in paths:
        image = QImage(path)
        if image.isNull():
            loaded.append((path, None))
            continue
        if image.width() > size.width() or image.height() > size.height():
            image = image.scaled(size, Qt.KeepAspectRatio, Qt.SmoothTransformation)
        loaded.append((path, image))
    return loaded


class ThumbnailCache(QObject):
    """LRU cache of thumbnail pixmaps keyed by the thumbnail file path."""

    loaded = Signal(str)

    def __init__(self, pool: WorkerPool, size: QSize, capacity: int = 400, parent=None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._size = size
        self._capacity = capacity
        self._cache: OrderedDict[str, QPixmap | None] = OrderedDict()
        self._queued: list[str] = []
        self._queued_set: set[str] = set()
        self._in_flight: set[str] = set()
        self._worker = None
        self._closed = False
        self._flush = QTimer(self, singleShot=True, interval=0)
        self._flush.timeout.connect(self._start)

    def get(self, path: Path | str | None) -> QPixmap | None:
        """The cached pixmap, else ``None`` (and the file is queued for loading)."""
        if path is None:
            return None
        key = str(path)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        if key not in self._queued_set and key not in self._in_flight:
            self._queued.append(key)
            self._queued_set.add(key)
            self._flush.start()
        return None

    def is_loaded(self, path: Path | str) -> bool:
        return str(path) in self._cache

    def forget_queue(self) -> None:
        """Drop queued (not yet started) loads, e.g. when a new result list replaces the old."""
        self._queued.clear()
        self._queued_set.clear()

    def close(self) -> None:
        """Start no more loads (shutdown)."""
        self._closed = True
        self.forget_queue()
        self._flush.stop()

    def _start(self) -> None:
        if self._worker is not None or not self._queued or self._closed:
            return
        # Most recently requested first: those are the cells on screen now.
        batch = self._queued[-BATCH:][::-1]
        del self._queued[-BATCH:]
        self._queued_set.difference_update(batch)
        self._in_flight.update(batch)
        self._worker = self._pool.start(
            load_thumbnails, batch, QSize(self._size), on_result=self._store, on_finished=self._done
        )

    def _store(self, loaded: list[tuple[str, QImage | None]]) -> None:
        for key, image in loaded:
            self._in_flight.discard(key)
            self._cache[key] = QPixmap.fromImage(image) if image is not None else None
            self._cache.move_to_end(key)
            while len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
            self.loaded.emit(key)

    def _done(self) -> None:
        self._worker = None
        self._in_flight.clear()
        if self._queued and not self._closed:
            self._flush.start()
