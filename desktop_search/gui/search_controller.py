"""Debounced searches on a worker: at most one in flight, stale results dropped.

The controller runs the query of a ``SearchState`` (viewmodels/search.py: text, image, the region
of the image searched with, and the filter bar's ``Filters``) and writes the outcome, the error
and whether it is busy there, for the window's widgets to show. Typing or changing a filter
restarts a 250 ms timer; ``search_now()`` (Enter, a dropped image, a region chosen) skips it.
Filters alone (no words) list the newest matching items. A search runs on a ``WorkerPool`` thread
against a reader ``Library`` (its own SQLite connection), created lazily on that thread. The
searches are the pool's ``start_latest(serial=True)`` requests: while one runs, the newest query
waits for it and the one in flight reports nothing once the query changed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from desktop_search.app.library import Library
from desktop_search.gui.workers import WorkerPool
from desktop_search.search.hits import Hit
from desktop_search.search.query import Filters
from desktop_search.search.searcher import Query
from desktop_search.store.records import FoundObject
from desktop_search.viewmodels.search import Region, SearchOutcome, SearchQuery, SearchState

log = logging.getLogger(__name__)

DEBOUNCE_MS = 250
LIMIT = 200


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
        self._lock = threading.Lock()

    def get(self) -> Library:
        """The reader, for an owner that makes one call at a time itself."""
        if self.reader is None:
            self.reader = self.library.reader()
        return self.reader

    @contextmanager
    def use(self) -> Iterator[Library]:
        """The reader, lent to one call at a time (calls from other threads wait)."""
        with self._lock:
            yield self.get()

    def close(self) -> None:
        with self._lock:
            if self.reader is not None:
                self.reader.close()
                self.reader = None


class PassageReader:
    """The whole text of one item for the preview, and the objects of a query image, from worker
    threads (several may overlap: a preview load is not waited for when the selection moves on),
    with a reader of its own so that neither waits for a search."""

    def __init__(self, library: Library) -> None:
        self._readers = Readers(library)

    def passage_text(self, item_id: int) -> str:
        with self._readers.use() as reader:
            return reader.passage_text(item_id)

    def query_objects(self, path: Path) -> list[FoundObject] | None:
        """The objects the detector finds in ``path``; ``None`` when no detector is installed
        (the region picker then offers dragging a rectangle only)."""
        with self._readers.use() as reader:
            return reader.query_objects(path) if reader.has_detector() else None

    def close(self) -> None:
        self._readers.close()


def run_search(
    readers: Readers, query: SearchQuery, cancel: threading.Event | None = None
) -> SearchOutcome | None:
    """Runs on a worker: the search, then the date of every hit (stat is cheap off the GUI).
    ``None`` when a newer query replaced this one while it waited for the reader (nobody takes
    the result of a replaced request)."""
    search = Query(text=query.text or None, image=query.image, region=query.region, limit=LIMIT,
                   filters=query.filters)  # fmt: skip
    with readers.use() as reader:
        if cancel is not None and cancel.is_set():
            return None
        hits = reader.search(search)
    dates = {hit.path: date_key(hit) for hit in hits}
    return SearchOutcome(query, hits, dates, tuple(search.parsed.terms))


def warm_up(readers: Readers) -> None:
    """Runs on a worker: open the reader, its vector index and the text side of the model.

    Loading the CLIP tokenizer holds the GIL for ~130 ms (``tokenizers.Tokenizer.from_file``
    parses the BPE vocabulary without releasing it), which would stall the GUI thread while
    the user types the first query; at startup it passes unnoticed. A search asked for
    meanwhile waits for the reader (``Readers.use``).
    """
    with readers.use() as reader:
        clip = reader.clip_or_none()
        if clip is not None:
            reader.searcher()
            clip.encode_texts(["warm up"])


class SearchController(QObject):
    """Runs the query of ``state`` and writes what it found there (``results``, ``error``,
    ``busy``). Signals: ``started()`` (a search was handed to the pool), ``ready()`` (the
    warm-up ended: the first search loads nothing)."""

    started = Signal()
    ready = Signal()

    def __init__(
        self,
        library: Library,
        pool: WorkerPool,
        state: SearchState | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._pool = pool
        self.state = state if state is not None else SearchState()
        self._readers = Readers(library)
        self.passages = PassageReader(library)
        self._key = (self, "search")
        self._warming = None  # the warm-up's Worker while it runs
        self._closed = False
        self.warmed_up = False
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.search_now)

    # The query as the state holds it (the window's messages and tests read these).

    @property
    def text(self) -> str:
        return self.state.query.text

    @property
    def image(self) -> Path | None:
        return self.state.query.image

    @property
    def region(self) -> Region | None:
        """The part of ``image`` searched with; ``None``: all of it."""
        return self.state.query.region

    @property
    def filters(self) -> Filters:
        return self.state.query.filters

    @property
    def busy(self) -> bool:
        return self.state.busy

    @property
    def empty(self) -> bool:
        return self.state.query.empty

    def warm_up(self) -> None:
        """Load the model's text side and the vector index on a worker, before any search."""
        if self._warming is not None or self.warmed_up or self._closed:
            return
        self._warming = self._pool.start(
            warm_up, self._readers, on_error=self._warm_up_failed, on_finished=self._warmed
        )

    def _warm_up_failed(self, error: Exception) -> None:
        log.info("warm-up failed (the first search will say why): %s", error)

    def _warmed(self) -> None:
        self._warming = None
        self.warmed_up = True
        self.ready.emit()

    def set_text(self, text: str) -> None:
        """The search box changed: search after the debounce delay."""
        if text != self.state.query.text:
            self._change(replace(self.state.query, text=text), at_once=False)

    def set_filters(self, filters: Filters) -> None:
        """The filter bar changed: search after the debounce delay, like typing."""
        if filters != self.state.query.filters:
            self._change(replace(self.state.query, filters=filters), at_once=False)

    def set_image(self, image: Path | None) -> None:
        """The query image changed: search at once (with all of it)."""
        image = Path(image) if image is not None else None
        if image != self.state.query.image:
            self._change(replace(self.state.query, image=image, region=None), at_once=True)

    def set_region(self, region: Region | None) -> None:
        """Search with this part of the query image (``None``: the whole image), at once."""
        region = tuple(region) if region is not None else None
        query = self.state.query
        if region == query.region or (region is not None and query.image is None):
            return
        self._change(replace(query, region=region), at_once=True)

    def clear(self) -> None:
        """Forget the text and the image (a search in flight reports nothing); the filters stay
        (they are the bar's, which the user clears there): alone they still list what they
        match."""
        self._change(SearchQuery(filters=self.state.query.filters), at_once=True)

    def refresh(self) -> None:
        """Run the current query again (e.g. after indexing added photos)."""
        self.search_now()

    def fail(self, message: str) -> None:
        """Show ``message`` instead of results (a query the filter bar could not build)."""
        self.state.update(results=None, error=message)

    def _change(self, query: SearchQuery, *, at_once: bool) -> None:
        self._pool.drop(self._key)  # the search in flight answers a query that is gone
        self.state.query = query
        if at_once or query.empty:
            self.search_now()
        else:
            self._timer.start()
            self._update_busy()

    def search_now(self) -> None:
        self._timer.stop()
        if self._closed:
            return
        if self.state.query.empty:
            self._pool.drop(self._key)
            self.state.update(results=None, error="")
            self._update_busy()
            return
        self._pool.start_latest(
            self._key, run_search, self._readers, self.state.query, serial=True,
            on_result=self._deliver, on_error=self._fail, on_finished=self._update_busy,
        )  # fmt: skip
        self._update_busy()
        self.started.emit()

    def close(self) -> None:
        """No more searches; the reader is closed by ``release()``."""
        self._closed = True
        self._timer.stop()
        self._pool.drop(self._key)

    def release(self) -> None:
        """Close the readers (call after the pool drained)."""
        self._readers.close()
        self.passages.close()

    def _deliver(self, outcome: SearchOutcome | None) -> None:
        if outcome is not None:
            self.state.update(results=outcome, error="")

    def _fail(self, error: Exception) -> None:
        self.state.update(results=None, error=str(error))

    def _update_busy(self) -> None:
        self.state.busy = self._timer.isActive() or self._pool.busy(self._key)
