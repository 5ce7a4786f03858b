"""Index photo folders: scan, decide what changed, decode ahead of the model, encode, store.

Decoding (read, hash, JPEG draft decode, thumbnail, preprocessing) runs in a bounded thread pool
ahead of the model: Pillow and onnxruntime release the GIL, so both cores stay busy. The model and
the database are used from the calling thread only.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop_search.core.control import IndexControl
from desktop_search.core.encoders import ImageEncoder
from desktop_search.core.items import FileState, IndexReport, PhotoRecord
from desktop_search.core.scan import ScannedFile, scan
from desktop_search.core.store import Store
from desktop_search.core.thumbnails import ThumbnailStore
from desktop_search.core.vectors import VectorIndex
from desktop_search.errors import FileNotIndexableError
from desktop_search.extract.images import IMAGE_EXTENSIONS, load_photo, read_file
from desktop_search.models.preprocess import ImageSpec, preprocess

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]
THUMBNAIL_SIZE = 256


@dataclass
class _Prepared:
    """The outcome of the decode stage for one file."""

    entry: ScannedFile
    state: FileState | None
    record: PhotoRecord | None = None
    pixels: np.ndarray | None = None
    unchanged_content: bool = False  # same bytes as indexed: only size/mtime need updating
    reason: str | None = None


class Indexer:
    """Brings the store and the vector index of one model up to date with folders on disk.

    Without an encoder (no CLIP model installed yet) photos are only catalogued: metadata and
    thumbnails; a later run with a model encodes them without counting them as changed.
    """

    def __init__(
        self,
        store: Store,
        vectors: VectorIndex | None,
        encoder: ImageEncoder | None,
        thumbnails: ThumbnailStore,
        *,
        model_id: str | None,
        batch_size: int = 16,
        threads: int = 0,
        exclude: Iterable[str] = (),
        control: IndexControl | None = None,
    ) -> None:
        self.store = store
        self.vectors = vectors
        self.encoder = encoder
        self.thumbnails = thumbnails
        self.model_id = model_id
        self.batch_size = max(1, batch_size)
        self.threads = threads or os.cpu_count() or 2
        self.exclude = list(exclude)
        self.control = control or IndexControl()

    def run(self, roots: list[Path], progress: ProgressCallback | None = None) -> IndexReport:
        started = time.perf_counter()
        report = IndexReport()
        todo: list[tuple[ScannedFile, FileState | None]] = []
        for root in roots:
            todo += self._reconcile(root, report)
        if todo:
            self._process(todo, report, progress or (lambda done, total: None))
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _reconcile(
        self, root: Path, report: IndexReport
    ) -> list[tuple[ScannedFile, FileState | None]]:
        """Compare one root with the store: count unchanged, forget removed, return the rest."""
        known = self.store.file_states(str(root), self.model_id)
        todo = []
        for entry in scan(root, IMAGE_EXTENSIONS, self.exclude):
            state = known.pop(entry.path, None)
            if entry.error:
                if state is None or state.status != "failed":
                    self._fail(entry, entry.error, report)
                else:
                    report.unchanged += 1
            elif state and _looks_unchanged(state, entry, needs_embedding=bool(self.encoder)):
                report.unchanged += 1
                report.still_failing += state.status == "failed"
            else:
                todo.append((entry, state))
        if known:
            self._drop_vectors(self.store.remove_paths(list(known)))
            report.removed += len(known)
        return todo

    def _process(
        self,
        todo: list[tuple[ScannedFile, FileState | None]],
        report: IndexReport,
        progress: ProgressCallback,
    ) -> None:
        spec = self.encoder.image_spec if self.encoder else None
        batch: list[_Prepared] = []
        progress(0, len(todo))
        for done, prepared in enumerate(self._decode_ahead(todo, spec), 1):
            self.control.checkpoint()
            if prepared.reason:
                self._fail(prepared.entry, prepared.reason, report)
            elif prepared.unchanged_content:
                self.store.touch(prepared.state.id, prepared.entry.size, prepared.entry.mtime_ns)
                report.unchanged += 1
            else:
                report.decoded += 1
                batch.append(prepared)
                if len(batch) >= self.batch_size:
                    self._encode_and_save(batch, report)
                    batch = []
            progress(done, len(todo))
        if batch:
            self._encode_and_save(batch, report)

    def _decode_ahead(self, todo, spec: ImageSpec | None) -> Iterable[_Prepared]:
        """Yield decoded files in order while the pool works a bounded distance ahead."""
        ahead = self.batch_size * 2 + self.threads
        pending: deque[Future[_Prepared]] = deque()
        items = iter(todo)
        with ThreadPoolExecutor(self.threads, thread_name_prefix="decode") as pool:
            try:
                for entry, state in items:
                    pending.append(pool.submit(self._prepare, entry, state, spec))
                    if len(pending) >= ahead:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:  # cancelled (or failed): don't decode what nobody will use
                for future in pending:
                    future.cancel()

    def _prepare(
        self, entry: ScannedFile, state: FileState | None, spec: ImageSpec | None
    ) -> _Prepared:
        """Runs in a pool thread: read once, hash, decode, thumbnail, preprocess."""
        try:
            data = read_file(Path(entry.path))
            digest = hashlib.sha256(data).hexdigest()
            if state and state.content_hash == digest and (state.has_embedding or not spec):
                return _Prepared(entry, state, unchanged_content=True)
            min_side = spec.size if spec else THUMBNAIL_SIZE
            photo = load_photo(data, min_side=min_side, thumb_size=THUMBNAIL_SIZE)
            pixels = preprocess(photo.image, spec) if spec else None
            thumbnail = self.thumbnails.put(digest, photo.thumbnail)
        except FileNotIndexableError as error:
            return _Prepared(entry, state, reason=error.reason)
        except Exception as error:  # noqa: BLE001 - one bad file must never stop the run
            log.exception("unexpected error while reading %s", entry.path)
            return _Prepared(entry, state, reason=f"unexpected error: {error}")
        record = PhotoRecord(
            path=entry.path, root=entry.root, size=entry.size, mtime_ns=entry.mtime_ns,
            content_hash=digest, width=photo.width, height=photo.height,
            taken_at=photo.taken_at, camera=photo.camera, gps=photo.gps, thumbnail=thumbnail,
        )  # fmt: skip
        return _Prepared(entry, state, record=record, pixels=pixels)

    def _encode_and_save(self, batch: list[_Prepared], report: IndexReport) -> None:
        embeddings = None
        if self.encoder:
            embeddings = self.encoder.encode_images(np.stack([p.pixels for p in batch]))
            report.encoded += len(batch)
        records = [prepared.record for prepared in batch]
        item_ids, replaced = self.store.save_photos(records, embeddings, self.model_id)
        self._drop_vectors(replaced)
        if self.vectors is not None and embeddings is not None:
            self.vectors.add(np.asarray(item_ids, dtype=np.int64), embeddings)
        for prepared in batch:
            if prepared.state is None:
                report.new += 1
            elif prepared.state.content_hash != prepared.record.content_hash:
                report.changed += 1
            else:  # same bytes, catalogued before a model was there (or for another model)
                report.caught_up += 1

    def _drop_vectors(self, item_ids: list[int]) -> None:
        if self.vectors is not None and item_ids:
            self.vectors.remove(np.asarray(item_ids, dtype=np.int64))

    def _fail(self, entry: ScannedFile, reason: str, report: IndexReport) -> None:
        log.info("cannot index %s: %s", entry.path, reason)
        self._drop_vectors(
            self.store.record_failure(
                entry.path, entry.root, "photo", entry.size, entry.mtime_ns, reason
            )
        )
        report.failed += 1
        report.failures.append((entry.path, reason))


def _looks_unchanged(state: FileState, entry: ScannedFile, *, needs_embedding: bool) -> bool:
    """Same size and mtime, and nothing left to do for it (failed files wait for a change)."""
    if state.size != entry.size or state.mtime_ns != entry.mtime_ns:
        return False
    return state.status == "failed" or state.has_embedding or not needs_embedding
