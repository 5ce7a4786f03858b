"""Debounced searches on a worker: at most one in flight, stale results dropped.

The controller holds the current query (text, image, the region of the image searched with, and
the filter bar's ``Filters``). Typing or changing a filter restarts a 250 ms timer;
``search_now()`` (Enter, a dropped image, a region chosen) skips it. Filters alone (no words)
list the newest matching items. A search runs on a ``WorkerPool`` thread against a reader
``Library`` (its own SQLite connection), created lazily on that thread. While one search runs,
newer requests wait; when it ends, only the newest query is run, and a result is delivered only
if it still answers the current query.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from desktop_search.app.library import Library
from desktop_search.gui.workers import WorkerPool
from desktop_search.search.hits import Hit
from desktop_search.search.query import Filters
from desktop_search.search.searcher import Query
from desktop_search.store.records import FoundObject

log = logging.getLogger(__name__)

Region = tuple[float, float, float, float]  # (x, y, w, h), full-size pixels of the query image
DEBOUNCE_MS = 250
WARMING = -1  # the "generation" of the warm-up job
LIMIT = 200


@dataclass
class SearchOutcome:
    """A finished search: the query, its hits, a date per hit (for sorting by date) and the
    query's words (for highlighting them in the preview)."""

    generation: int
    text: str
    image: Path | None
    hits: list[Hit]
    dates: dict[str, str] = field(default_factory=dict)
    terms: tuple[str, ...] = ()
    region: Region | None = None


def date_key(hit: Hit) -> str:
    """When the photo was taken (EXIF) or the message sent, else the file's modification time
    (ISO strings; a time zone offset, when there is one, is left out so that all compare)."""
    if hit.taken_at or hit.started_at:
        return (hit.taken_at or hit.started_at)[:19]
    try:
        return datetime.fromtimestamp(os.stat(hit.path).st_mtime).isoformat(timespec="seconds")
    except OSError:
        return ""


class Readers:
    """One reader Library, created on (and used from) the worker threads, one call at a time."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self.reader: Library | None = None

    def get(self) -> Library:
        if self.reader is None:
            self.reader = self.library.reader()
        return self.reader

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None


class PassageReader:
    """The whole text of one item for the preview, and the objects of a query image, from worker
    threads (several may overlap: a preview load is not waited for when the selection moves on),
    with a reader of its own so that neither waits for a search."""

    def __init__(self, library: Library) -> None:
        self._readers = Readers(library)
        self._lock = threading.Lock()

    def passage_text(self, item_id: int) -> str:
        with self._lock:
            return self._readers.get().passage_text(item_id)

    def query_objects(self, path: Path) -> list[FoundObject] | None:
        """The objects the detector finds in ``path``; ``None`` when no detector is installed
        (the region picker then offers dragging a rectangle only)."""
        with self._lock:
            reader = self._readers.get()
            return reader.query_objects(path) if reader.has_detector() else None

    def close(self) -> None:
        with self._lock:
            self._readers.close()


def run_search(
    readers: Readers,
    generation: int,
    text: str,
    image: Path | None,
    filters: Filters,
    region: Region | None = None,
) -> SearchOutcome:
    """Runs on a worker: the search, then the date of every hit (stat is cheap off the GUI)."""
    query = Query(text=text or None, image=image, region=region, limit=LIMIT, filters=filters)
    hits = readers.get().search(query)
    dates = {hit.path: date_key(hit) for hit in hits}
    terms = tuple(query.parsed.terms)
    return SearchOutcome(generation, text, image, hits, dates, terms, region)


def warm_up(readers: Readers) -> None:
    """Runs on a worker: open the reader, its vector index and the text side of the model.

    Loading the CLIP tokenizer holds the GIL for ~130 ms (``tokenizers.Tokenizer.from_file``
    parses the BPE vocabulary without releasing it), which would stall the GUI thread while
    the user types the first query; at startup it passes unnoticed.
    """
    reader = readers.get()
    clip = reader.clip_or_none()
    if clip is not None:
        reader.searcher()
        clip.encode_texts(["warm up"])


class SearchController(QObject):
    """Signals: ``started()``, ``results(SearchOutcome)``, ``failed(str)``, ``cleared()``,
    ``settled()`` (a search ended and no other one is waiting)."""

    started = Signal()
    settled = Signal()
    ready = Signal()  # the warm-up ended (the first search does not load anything)
    results = Signal(object)
    failed = Signal(str)
    cleared = Signal()

    def __init__(self, library: Library, pool: WorkerPool, parent=None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._readers = Readers(library)
        self.passages = PassageReader(library)
        self.text = ""
        self.image: Path | None = None
        self.region: Region | None = None  # part of ``image`` searched with; None: all of it
        self.filters = Filters()
        self._generation = 0  # bumped on every change of the query
        self._running: int | None = None  # generation of the search in flight
        self._pending = False  # a newer query waits for the one in flight
        self._worker = None
        self._closed = False
        self.warmed_up = False
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.search_now)

    @property
    def busy(self) -> bool:
        return self._running is not None or self._timer.isActive() or self._pending

    @property
    def empty(self) -> bool:
        return not self.text.strip() and self.image is None and self.filters.is_empty

    def warm_up(self) -> None:
        """Load the model's text side and the vector index on a worker, before any search."""
        if self._running is not None or self._closed:
            return
        self._running = WARMING
        self._worker = self._pool.start(
            warm_up, self._readers, on_error=self._warm_up_failed, on_finished=self._warmed
        )

    def _warm_up_failed(self, error: Exception) -> None:
        log.info("warm-up failed (the first search will say why): %s", error)

    def _warmed(self) -> None:
        self.warmed_up = True
        self._finished()
        self.ready.emit()

    def set_text(self, text: str) -> None:
        """The search box changed: search after the debounce delay."""
        if text == self.text:
            return
        self.text = text
        self._changed()

    def set_filters(self, filters: Filters) -> None:
        """The filter bar changed: search after the debounce delay, like typing."""
        if filters == self.filters:
            return
        self.filters = filters
        self._changed()

    def _changed(self) -> None:
        self._generation += 1
        if self.empty:
            self._timer.stop()
            self._pending = False
            self.cleared.emit()
        else:
            self._timer.start()

    def set_image(self, image: Path | None) -> None:
        """The query image changed: search at once (with all of it)."""
        image = Path(image) if image is not None else None
        if image == self.image:
            return
        self.image, self.region = image, None
        self._generation += 1
        self.search_now()

    def set_region(self, region: Region | None) -> None:
        """Search with this part of the query image (``None``: the whole image), at once."""
        region = tuple(region) if region is not None else None
        if region == self.region or (region is not None and self.image is None):
            return
        self.region = region
        self._generation += 1
        self.search_now()

    def clear(self) -> None:
        """Forget the text and the image (a search in flight is dropped when it ends); the
        filters stay (they are the bar's, which the user clears there)."""
        self.text, self.image, self.region = "", None, None
        self._generation += 1
        self._timer.stop()
        self._pending = False
        if self.empty:
            self.cleared.emit()
        else:
            self.search_now()  # the filters alone still list what they match

    def refresh(self) -> None:
        """Run the current query again (e.g. after indexing added photos)."""
        self._generation += 1
        self.search_now()

    def search_now(self) -> None:
        self._timer.stop()
        if self._closed:
            return
        if self.empty:
            self._pending = False
            self.cleared.emit()
            return
        if self._running is not None:
            self._pending = True  # started when the one in flight ends
            return
        self._start()

    def close(self) -> None:
        """No more searches; the reader is closed by the last worker or by ``release()``."""
        self._closed = True
        self._timer.stop()
        self._pending = False

    def release(self) -> None:
        """Close the readers (call after the pool drained)."""
        self._readers.close()
        self.passages.close()

    def _start(self) -> None:
        self._pending = False
        self._running = self._generation
        self.started.emit()
        self._worker = self._pool.start(
            run_search, self._readers, self._generation, self.text, self.image, self.filters,
            self.region, on_result=self._deliver, on_error=self._fail, on_finished=self._finished,
        )  # fmt: skip

    def _deliver(self, outcome: SearchOutcome) -> None:
        if outcome.generation == self._generation and not self._closed:
            self.results.emit(outcome)

    def _fail(self, error: Exception) -> None:
        if self._running == self._generation and not self._closed:
            self.failed.emit(str(error))

    def _finished(self) -> None:
        self._running = None
        self._worker = None
        if self._closed:
            return
        if self._pending:
            self._start()
        else:
            self.settled.emit()
