"""Embedding spaces, and the vector indices one process keeps loaded for them.

A *space* is one model's embeddings with their vector index: ``clip`` (photos, their objects,
pictures in documents and mail; queried by CLIP text or image embeddings) and ``text`` (passages:
document chunks, messages, text read in photos; queried by the sentence model). ``Space`` ties its
name, encoder, model id and index together; ``Spaces`` is the pair the indexer and the searcher
take (either may be missing while its model is not installed).

``VectorCache`` holds the loaded indices of one library home, one per model id, and keeps each in
step with the store. SQLite is the truth, the index files are caches of it (ARCHITECTURE.md):

* load: the saved file, caught up with the vector log (``store/vector_log.py``) when another
  process committed changes after saving it; a file that can't be trusted or caught up is rebuilt
  from the store's embeddings (and saved, best effort, so the next process need not rebuild it);
* follow: while nobody writes in this process, an index loaded earlier catches up with what
  another process committed since (one query when nothing changed);
* save: under a per-file OS lock, never over a file that holds as much already;
* rebuild after a forget: an HNSW graph keeps removed vectors (marked deleted) in its file, only a
  rebuild leaves them out.

Thread safety: one ``VectorCache`` is shared by a Library and its readers (other threads, each
with its own ``Store`` connection, passed to every call). ``index`` holds the cache's lock while it
loads or catches up, so two threads never build the same index twice; ``save`` and
``rebuild_files`` take the per-file lock instead (readers never take the writer lock, so they
can't keep a writer from starting) and the cache's lock only to swap entries. The indices
themselves are safe to search from many threads while one writes (``vectors/index.py``). A
``Space`` belongs to the one thread that made it (an indexer's or a searcher's); two threads that
race on its first ``vectors`` get the cache's one index either way.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

import filelock
import numpy as np

from desktop_search.errors import IndexFileError
from desktop_search.platform import private
from desktop_search.vectors.encoders import QueryEncoder, TextEncoder
from desktop_search.vectors.files import ids_path, remove_abandoned_temporaries, sidecar_path
from desktop_search.vectors.index import VectorIndex

if TYPE_CHECKING:  # the store is passed in by the caller (one connection per thread)
    from desktop_search.store.store import Store

log = logging.getLogger(__name__)

CLIP = "clip"
TEXT = "text"
# A save waits this long for another writer of the same file (a reader saving a rebuild).
FILE_LOCK_TIMEOUT = 60.0

E = TypeVar("E")


@dataclass
class Space(Generic[E]):
    """One embedding space: its ``name`` (``CLIP`` or ``TEXT``), the ``encoder`` that embeds into
    it, the id of that model (the key of its embeddings in the store) and its vector index.

    The index is loaded on first use (by ``loader``, e.g. a ``VectorCache``'s) and kept: a
    space sees one index for its life; make a new one to follow changes another process made."""

    name: str
    encoder: E
    model_id: str
    loader: Callable[[], VectorIndex] = field(repr=False)
    _index: VectorIndex | None = field(default=None, init=False, repr=False)

    @classmethod
    def holding(cls, name: str, encoder: E, model_id: str, index: VectorIndex) -> Space[E]:
        """A space over a ready index (a test's, a benchmark's)."""
        space = cls(name, encoder, model_id, loader=lambda: index)
        space._index = index
        return space

    @property
    def vectors(self) -> VectorIndex:
        if self._index is None:
            self._index = self.loader()
        return self._index


@dataclass(frozen=True)
class Spaces:
    """The spaces there are models for: None while a model is not installed (photos are then
    only catalogued, passages found by keywords)."""

    clip: Space[QueryEncoder] | None = None
    text: Space[TextEncoder] | None = None

    def __iter__(self) -> Iterator[Space]:
        return iter([space for space in (self.clip, self.text) if space is not None])

    def load(self) -> None:
        """Load every space's index now (a warm-up: the first search then loads nothing)."""
        for space in self:
            _ = space.vectors

    def remove(self, item_ids: list[int]) -> None:
        """Take items the store just dropped out of every space's index."""
        if not item_ids:
            return
        ids = np.asarray(item_ids, dtype=np.int64)
        for space in self:
            space.vectors.remove(ids)


class VectorCache:
    """The loaded vector indices of one library home (``folder``: where their files live), per
    model id, shared by the threads of one process. See the module docstring for the lifecycle
    and the thread-safety contract."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._indices: dict[str, VectorIndex] = {}
        # Held while an index is loaded or caught up: two threads never build the same one twice.
        self._lock = threading.Lock()
        self._writers = 0  # writer sections open in this process (``writing``)
        self._writers_lock = threading.Lock()

    # -- who writes ----------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[None]:
        """This process holds the library's writer lock meanwhile: its indices get every change
        as it is committed, so ``index`` does not look for other processes' changes."""
        with self._writers_lock:
            self._writers += 1
        try:
            yield
        finally:
            with self._writers_lock:
                self._writers -= 1

    @property
    def writer_active(self) -> bool:
        """Whether a writer section is open in this process (an indexer may be running)."""
        return self._writers > 0

    # -- loading -------------------------------------------------------------------------

    def path(self, model_id: str) -> Path:
        """Where the saved index of ``model_id`` lives."""
        return self.folder / f"{model_id}.index"

    def space(self, store: Store, name: str, encoder: E, model_id: str, dim: int) -> Space[E]:
        """A space whose index comes from this cache on first use (through ``store``)."""
        return Space(name, encoder, model_id, loader=lambda: self.index(store, model_id, dim))

    def index(self, store: Store, model_id: str, dim: int) -> VectorIndex:
        """The index of ``model_id``: the saved file if current, else rebuilt from the store;
        one loaded before follows what other processes committed since (unless this one
        writes)."""
        with self._lock:
            index = self._indices.get(model_id)
            if index is None:
                index = self._indices[model_id] = self._load(store, model_id, dim)
            elif not self.writer_active:
                index = self._indices[model_id] = self._follow(store, model_id, dim, index)
            return index

    def loaded(self, model_id: str) -> VectorIndex | None:
        """The index of ``model_id`` if one is loaded (nothing is read)."""
        with self._lock:
            return self._indices.get(model_id)

    def _follow(self, store: Store, model_id: str, dim: int, index: VectorIndex) -> VectorIndex:
        if store.generation(model_id) == index.generation:
            return index  # one indexed query: nothing changed
        try:
            catch_up(store, index, model_id)
        except IndexFileError as error:
            log.info("reloading the vector index of %s: %s", model_id, error)
            return self._load(store, model_id, dim)
        return index

    def _load(self, store: Store, model_id: str, dim: int) -> VectorIndex:
        """The saved index file caught up with the store, else one rebuilt from the store."""
        try:
            index = VectorIndex.load(self.path(model_id), dim=dim, generation=None)
            catch_up(store, index, model_id)
        except IndexFileError as error:
            log.info("rebuilding the vector index of %s from the database: %s", model_id, error)
            index = build_from_store(store, model_id, dim)
            self._save_if_free(store, index, model_id)
        return index

    # -- saving --------------------------------------------------------------------------

    def save(self, store: Store, model_ids: Iterable[str]) -> None:
        """Save the loaded indices of ``model_ids`` (the writer's, holding the writer lock: they
        reflect every commit so far). Indices not loaded are left as their files are."""
        for model_id in model_ids:
            index = self.loaded(model_id)
            if index is not None:
                self.save_index(store, index, model_id)

    def save_index(
        self, store: Store, index: VectorIndex, model_id: str, *, current: bool = True
    ) -> None:
        """Save ``index`` as the file of ``model_id``. ``current``: the writer's own index, which
        reflects every commit so far; otherwise (a reader's rebuild) it keeps its snapshot's
        generation and is only saved over an older file."""
        path = self.path(model_id)
        with _file_lock(path):
            # Every writer of this file holds its lock: what temporaries it has are a killed
            # save's.
            remove_abandoned_temporaries(path)
            if current:
                index.generation = store.generation(model_id)
            saved = VectorIndex.saved_generation(path)
            if saved is not None and saved >= index.generation:
                return  # the file holds this already (or a writer saved something newer)
            index.save(path, generation=index.generation)
            store.vector_log.trim(model_id, index.generation)

    def _save_if_free(self, store: Store, index: VectorIndex, model_id: str) -> None:
        """Save a rebuilt index so the next process need not rebuild it (best effort)."""
        try:
            self.save_index(store, index, model_id, current=False)
        except (OSError, filelock.Timeout, sqlite3.OperationalError) as error:
            log.debug("not saving the rebuilt index: %s", error)

    # -- forgetting ----------------------------------------------------------------------

    def forget(self, store: Store, item_ids: list[int]) -> None:
        """Items were deleted from the store for good (a forgotten folder): take them out of the
        loaded indices and rebuild every saved file without them (holding the writer lock)."""
        if item_ids:
            ids = np.asarray(item_ids, dtype=np.int64)
            with self._lock:
                loaded = list(self._indices.values())
            for index in loaded:
                index.remove(ids)
        self.rebuild_files(store)

    def rebuild_files(self, store: Store) -> None:
        """Rebuild every saved vector index from the store and save it. After ``remove`` an
        HNSW graph still holds the removed vectors (marked deleted, until their slot is reused),
        and so would its file: only a rebuild leaves them out. A loaded index is replaced by its
        rebuild; the file of a model with no vector left goes."""
        dims = store.embeddings.dimensions()
        for path in sorted(self.folder.glob("*.index")):
            model_id = path.name.removesuffix(".index")
            with _file_lock(path):
                if model_id not in dims:  # no vector of this model is left
                    for file in (path, ids_path(path), sidecar_path(path)):
                        file.unlink(missing_ok=True)
                    with self._lock:
                        self._indices.pop(model_id, None)
                    continue
                index = build_from_store(store, model_id, dims[model_id])
                index.save(path, generation=index.generation)
                store.vector_log.trim(model_id, index.generation)
            with self._lock:
                if model_id in self._indices:
                    self._indices[model_id] = index


def build_from_store(store: Store, model_id: str, dim: int) -> VectorIndex:
    """A new index of every embedding of ``model_id``, at the generation it was read at."""
    with store.transaction():  # one snapshot: the vectors and their generation
        generation = store.generation(model_id)
        ids, vectors = store.embeddings.of_model(model_id)
    index = VectorIndex.build(dim, ids, vectors.reshape(len(ids), dim))
    index.generation = generation
    return index


def catch_up(store: Store, index: VectorIndex, model_id: str) -> None:
    """Apply the embedding changes logged since ``index`` was saved (another process indexes
    meanwhile); IndexFileError when the log can't tell (then: rebuild). Also how ``doctor``
    judges a saved file that the live index has not saved again yet."""
    with store.transaction():  # one snapshot: log, vectors and count agree
        current = store.generation(model_id)
        if index.generation > current:
            raise IndexFileError(f"is newer than the database ({index.generation} > {current})")
        changed = store.vector_log.changed_since(model_id, index.generation)
        if changed is None:
            raise IndexFileError(f"is too old to catch up (generation {index.generation})")
        vectors = store.embeddings.of_items(changed, model_id)
        stored = store.embeddings.count(model_id)
    index.remove(np.asarray([i for i in changed if i not in vectors], dtype=np.int64))
    if vectors:
        index.add(np.fromiter(vectors, dtype=np.int64), np.stack(list(vectors.values())))
    index.generation = current
    if len(index) != stored:  # cheap guard against an index that drifted anyway
        raise IndexFileError(f"holds {len(index)} vectors, the database {stored}")
    if changed:
        log.info("caught the vector index of %s up: %d change(s)", model_id, len(changed))


def _file_lock(index_path: Path) -> filelock.FileLock:
    """The lock of one saved vector index: its writers (the indexer, a reader saving a rebuilt
    index, a forget) take turns."""
    lock = index_path.with_name(index_path.name + ".lock")
    return filelock.FileLock(lock, timeout=FILE_LOCK_TIMEOUT, mode=private.FILE_MODE)
