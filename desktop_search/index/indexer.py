# Over 400 lines: one job: the writer's two restartable steps (reconcile, drain), one drain's state.
"""Index folders of photos and documents: find what changed, queue it, then work the queue down.

Two steps, both restartable at any moment:
1. ``reconcile`` compares a folder with the store (size and modification time) and puts new and
   changed files into the persistent queue (``store/queue.py``); files gone from disk are returned
   as *vanished* and only forgotten after the queue was worked, so a moved file is recognised by
   its bytes and keeps its embeddings.
2. ``drain`` works the queue: the decode stage (``index/decode.py``) runs in a bounded thread pool
   ahead of the model, each thread handing its file to a reader process (``index/readers.py``);
   the model and the database are used from the calling thread only, and every file leaves the
   queue in the transaction that records its outcome.
"""

from __future__ import annotations

import itertools
import logging
import os
import sqlite3
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop_search.extract.clean import clean_text
from desktop_search.extract.document import ReadText
from desktop_search.extract.documents import is_indexed_name, kind_from_name
from desktop_search.extract.images import IMAGE_EXTENSIONS
from desktop_search.index.control import IndexControl, lower_thread_priority
from desktop_search.index.decode import FilePreparer, Outcome, Prepared, up_to_date
from desktop_search.index.memory import (
    PASSES_MMAP_THRESHOLD,
    map_large_blocks,
    release_models,
)
from desktop_search.index.passes.objects import ObjectFinder
from desktop_search.index.passes.text import embed_passages, read_photo_texts
from desktop_search.index.progress import (
    Phase,
    PhaseCallback,
    PhaseReporter,
    ProgressCallback,
)
from desktop_search.index.readers import LocalReaders, ReaderPool, Readers
from desktop_search.index.report import IndexReport
from desktop_search.index.scan import Wanted, scan
from desktop_search.models.runtime.text_gate import TextGate
from desktop_search.store.queue import MAX_ATTEMPTS, MAX_CLAIMS, QueuedFile
from desktop_search.store.records import FileState
from desktop_search.store.store import Store, is_library_problem
from desktop_search.store.thumbnails import ThumbnailStore
from desktop_search.vectors.spaces import Spaces

log = logging.getLogger(__name__)

QUEUE_CHUNK = 256
# Entries counted per query before a drain (paths only: 100,000 queued files in 25 queries).
COUNT_CHUNK = 4096
REASON_KILLED_READER = (
    f"the indexer stopped {MAX_CLAIMS} times while this file was being read (it may crash the "
    "reader); skipped until it changes ('desktop-search index --retry-failed' tries it again)"
)


def _is_photo(path: str) -> bool:
    """Is this queued file a photo (by its name, as the scanner picked it up)?"""
    return os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS


def _size_and_time(path: str) -> tuple[int | None, int | None]:
    try:
        stat = os.stat(path)
    except OSError:
        return None, None
    return stat.st_size, stat.st_mtime_ns


@dataclass(frozen=True)
class IndexOptions:
    """How an indexer works: the library's settings, or a test's or a benchmark's choice."""

    batch_size: int = 16  # photos (and their object crops) per model run
    threads: int = 0  # decode threads, each with its reader process; 0: one per CPU
    exclude: tuple[str, ...] = ()  # patterns of paths left out (index/scan.py)
    documents: bool = True  # documents, mail and chats too; False: photos only
    photo_text: bool = True  # read the text in photos (when OCR is available)
    # None: files are read and decoded in reader processes (index/readers.py). A function:
    # read with it and decode in this process (tests that change a file while it is read;
    # the benchmark of the process boundary's cost).
    read: Callable[[Path], bytes] | None = None


class Indexer:
    """Brings the store and the vector indices of its spaces up to date with folders on disk.

    Without a clip space (no CLIP model installed yet) photos are only catalogued: metadata and
    thumbnails; a later run with a model encodes them without counting them as changed. Without
    a text space passages are saved for keyword search and encoded once a text model is there.
    """

    def __init__(
        self,
        store: Store,
        spaces: Spaces,
        thumbnails: ThumbnailStore,
        options: IndexOptions | None = None,
        *,
        control: IndexControl | None = None,
        read_text: ReadText | None = None,
        objects: ObjectFinder | None = None,
        hash_cache: dict[str | None, set[str]] | None = None,
        text_gate: TextGate | None = None,
    ) -> None:
        self.store = store
        self.spaces = spaces
        self.clip = spaces.clip
        self.text = spaces.text
        # The CLIP model whose embeddings photos need: None while none is installed.
        self.model_id = self.clip.model_id if self.clip else None
        self.thumbnails = thumbnails
        self.options = options = options or IndexOptions()
        self.batch_size = max(1, options.batch_size)
        self.threads = options.threads or os.cpu_count() or 2
        self.exclude = list(options.exclude)
        self.wanted: Wanted = is_indexed_name if options.documents else IMAGE_EXTENSIONS
        self.control = control or IndexControl()
        self.read_text = read_text  # OCR (scanned pages, text in photos); None: not available
        # Skips photos whose thumbnail shows no text before OCR; None: every photo is read.
        self.text_gate = text_gate
        self.objects = objects  # the object detector; None: not installed or switched off
        # Content hashes already indexed, per model: reading all of them costs ~0.4 s at 100k
        # photos, so a long-lived caller (the live index) keeps them between drains. Entries for
        # files deleted since are harmless: a copy that finds no source is decoded after all.
        self.hash_cache = {} if hash_cache is None else hash_cache
        # Photos whose objects were looked for with another detector or model are done again.
        self.objects_key = objects.key(self.model_id) if objects and self.model_id else None

    def run(
        self, roots: list[Path], progress: ProgressCallback | None = None, *,
        phases: PhaseCallback | None = None,
    ) -> IndexReport:  # fmt: skip
        """Reconcile ``roots`` with the store and index everything that is queued: photos, then
        documents, their passages, then the text in photos (``phases`` hears of each)."""
        clock = PhaseReporter(phases)
        report = IndexReport()
        map_large_blocks()  # decoded pictures and batches go back when freed (index/memory.py)
        vanished: dict[str, FileState] = {}
        for root in roots:
            vanished |= self.reconcile(root, report)
        self.drain(report, progress, vanished, phases=clock)
        self.forget(list(vanished), report)
        # Every photo is encoded: the image model and the detector go before the passes load
        # theirs (they load again on next use). ViT-B-32 int8: ~250 MB of session and arena.
        release_models(self.clip.encoder if self.clip else None, self.objects)
        map_large_blocks(PASSES_MMAP_THRESHOLD)  # the OCR's tensors: from the heap
        self.embed_passages(report, progress=clock.counter(Phase.PASSAGES))
        if self.read_photo_texts(report, progress=clock.counter(Phase.PHOTO_TEXT)):
            self.embed_passages(report)
        report.seconds = clock.elapsed()
        return report

    def reconcile(
        self, folder: Path, report: IndexReport, *, root: str | None = None
    ) -> dict[str, FileState]:
        """Queue new and changed files below ``folder`` (part of the indexed folder ``root``,
        when given); return the known ones that are gone."""
        known = self.store.files.file_states(str(folder), self.model_id)
        changed: list[tuple[str, str]] = []
        for entry in scan(folder, self.wanted, self.exclude, within=root):
            if entry.skipped:  # a link not followed; one indexed before is forgotten
                report.skipped_links[entry.skipped] = report.skipped_links.get(entry.skipped, 0) + 1
                continue
            state = known.pop(entry.path, None)
            if entry.error:
                if state is None or state.status != "failed":
                    self.park(entry.path, entry.root, entry.size, entry.mtime_ns, entry.error,
                               report)  # fmt: skip
                else:
                    report.unchanged += 1
            elif state and up_to_date(
                state, entry.size, entry.mtime_ns, needs_embedding=self.clip is not None,
                objects_key=self.objects_key,
            ):  # fmt: skip
                report.unchanged += 1
                report.still_failing += state.status == "failed"
            else:
                changed.append((entry.path, entry.root))
        self.store.queue.add(changed)
        return known

    def forget(self, paths: list[str], report: IndexReport) -> None:
        """Forget files that are gone (after ``drain``: moved ones were claimed by then)."""
        if paths:
            self.drop_vectors(self.store.files.remove_paths(paths))
            report.removed += len(paths)

    def drain(
        self,
        report: IndexReport,
        progress: ProgressCallback | None = None,
        vanished: dict[str, FileState] | None = None,
        *,
        phases: PhaseReporter | None = None,
    ) -> None:
        """Index queued files until none is ready (files waiting for a retry stay queued).

        Photos first, then documents: once the photos' part ends every queued photo is
        searchable (``report.searchable_seconds``), however long the documents take. Files the
        process died on last time (see ``store/queue.py``) come last, one at a time; every file
        is claimed before it is read and its claim given back however it ends here.
        ``progress`` counts every file; ``phases`` reports the two parts on the run's clock.
        """
        progress = progress or (lambda done, total: None)
        phases = phases or PhaseReporter()
        vanished = {} if vanished is None else vanished
        suspects = self.store.queue.suspects()
        total = self.store.queue.waiting()[0]
        if not total and not suspects:
            self._searchable(report, phases)
            return
        photos, documents = self._ready_counts()
        readers = self.readers()
        run = _Run(self, report, vanished, readers)
        try:
            progress(0, total)
            done = 0
            for phase, count in ((Phase.PHOTOS, photos), (Phase.DOCUMENTS, documents)):
                done = self._drain_part(run, phase, count, (done, total), progress, phases)
                if phase is Phase.PHOTOS:
                    self._searchable(report, phases)
            self._handle_suspects(run, suspects)
            progress(max(total, done + len(suspects)), max(total, done + len(suspects)))
        finally:
            readers.close()
            run.give_back_claims()

    def _drain_part(
        self, run: _Run, phase: Phase, count: int, files: tuple[int, int],
        progress: ProgressCallback, phases: PhaseReporter,
    ) -> int:  # fmt: skip
        """Work the ready photos (``Phase.PHOTOS``) or the other files; committed when it
        returns. ``files``: (done, total) over the drain; returns the new ``done``."""
        done, total = files
        if not count:
            return done
        report = run.report
        before = report.failed + report.retrying

        def failed() -> int:  # in this part: not searchable (or not readable) now
            return report.failed + report.retrying - before

        phases.report(phase, 0, count)
        handled = 0
        for handled, prepared in enumerate(
            self._decode_ahead(run, photos=phase is Phase.PHOTOS), 1
        ):
            self.control.checkpoint()
            run.record(prepared)
            done += 1
            progress(done, max(total, done))
            if handled < count:  # the last report waits for the last batch's commit
                phases.report(phase, handled, count, failed())
        run.flush()  # the last photos' batch: committed before the phase says it ended
        phases.report(phase, max(handled, count), max(handled, count), failed())
        return done

    def _searchable(self, report: IndexReport, phases: PhaseReporter) -> None:
        """Every photo queued for this run is committed (or failed): note when (the moment
        the photos phase said it ended, when it ran)."""
        if self.clip is not None:
            report.searchable_seconds = phases.ended.get(Phase.PHOTOS, phases.elapsed())

    def _ready_counts(self) -> tuple[int, int]:
        """(photos, other files) ready in the queue (suspects are not: they come last)."""
        photos = others = after = 0
        while chunk := self.store.queue.ready_after(after, COUNT_CHUNK):
            after = chunk[-1][0]
            kinds = [_is_photo(entry.path) for _, entry in chunk]
            photos += sum(kinds)
            others += len(kinds) - sum(kinds)
        return photos, others

    def readers(self) -> Readers:
        """Where files are read and decoded: reader processes, or this one (see ``read``)."""
        if self.options.read is not None:
            return LocalReaders(self.options.read)
        return ReaderPool(self.threads)

    def _handle_suspects(self, run: _Run, suspects: list[QueuedFile]) -> None:
        """Files the process died on, read alone: a reader that crashes on one fails just that
        file, but the indexer may have died for any reason meanwhile (the OOM killer picks the
        biggest process). A file the indexer died on MAX_CLAIMS times alone is parked."""
        if not suspects:
            return
        states = self.store.files.file_states_of([entry.path for entry in suspects], self.model_id)
        for entry in suspects:
            self.control.checkpoint()
            if entry.solo >= MAX_CLAIMS:
                size_time = _size_and_time(entry.path)
                self.park(entry.path, entry.root, *size_time, REASON_KILLED_READER, run.report)
                continue
            run.claim([entry.path], alone=True)
            run.record(run.preparer.prepare(entry.path, entry.root, states.get(entry.path)))
            run.flush()

    def _queued(self, photos: bool) -> Iterator[tuple[QueuedFile, FileState | None]]:
        """Ready queue entries that are photos (or, ``photos`` False, the other files) with what
        the store knows of them, fetched a chunk at a time."""
        after = 0
        while chunk := self.store.queue.ready_after(after, QUEUE_CHUNK):
            after = chunk[-1][0]
            entries = [entry for _, entry in chunk if _is_photo(entry.path) == photos]
            if not entries:
                continue
            states = self.store.files.file_states_of([e.path for e in entries], self.model_id)
            for entry in entries:
                yield entry, states.get(entry.path)

    def _decode_ahead(self, run: _Run, *, photos: bool) -> Iterator[Prepared]:
        """Yield prepared photos (or the other files) in queue order while the pool works a
        bounded distance ahead."""
        # A batch and one file per thread: the threads decode the next batch while the model
        # runs this one, and at most that many preprocessed photos (0.6 MB each, plus up to 3
        # object crops) wait in memory (twice the batch before: 34 photos, ~20-80 MB).
        ahead = self.batch_size + self.threads
        pending: deque[Future[Prepared]] = deque()
        with ThreadPoolExecutor(
            self.threads, thread_name_prefix="decode", initializer=lower_thread_priority
        ) as pool:
            try:
                queued = self._queued(photos)
                # Claimed a window at a time: one transaction per ``ahead`` files, not per file
                # (10,000 small photos: 300 commits instead of 10,000).
                while group := list(itertools.islice(queued, ahead)):
                    run.claim([entry.path for entry, _ in group])
                    for entry, state in group:
                        pending.append(
                            pool.submit(run.preparer.prepare, entry.path, entry.root, state)
                        )
                        if len(pending) >= ahead:
                            yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:  # cancelled (or failed): don't decode what nobody will use
                for future in pending:
                    future.cancel()
                if pending:  # and stop the readers busy with files nobody will record
                    run.preparer.readers.close()

    def embed_passages(
        self, report: IndexReport, limit: int | None = None, *,
        progress: ProgressCallback | None = None,
    ) -> int:  # fmt: skip
        """Encode passages saved without a text embedding (see ``index/passes/text.py``)."""
        if self.text is None:
            return 0
        return embed_passages(self.store, self.text, report, self.control, limit=limit,
                              progress=progress)  # fmt: skip

    def read_photo_texts(
        self, report: IndexReport, limit: int | None = None, *,
        progress: ProgressCallback | None = None,
    ) -> int:  # fmt: skip
        """The lower-priority pass: read the text in photos (after everything else)."""
        if self.read_text is None or not self.options.photo_text:
            return 0
        readers = self.readers()
        try:
            return read_photo_texts(self.store, self.read_text, report, self.control,
                                    self.drop_vectors, readers, limit=limit,
                                    gate=self.text_gate, thumbnails=self.thumbnails,
                                    progress=progress)  # fmt: skip
        finally:
            readers.close()

    def known_hashes(self) -> set[str]:
        """Hashes with an embedding from this model (indexed at all, without a model)."""
        if self.model_id not in self.hash_cache:
            self.hash_cache[self.model_id] = self.store.files.hashes_with_embedding(self.model_id)
        return self.hash_cache[self.model_id]

    def drop_vectors(self, item_ids: list[int]) -> None:
        """Take items the store just dropped out of the in-memory vector indices too."""
        self.spaces.remove(item_ids)

    def park(
        self, path: str, root: str, size: int | None, mtime_ns: int | None, reason: str,
        report: IndexReport,
    ) -> None:  # fmt: skip
        """Record that ``path`` cannot be indexed; it waits until it changes."""
        reason = clean_text(reason)  # from an exception: may quote the file's own bytes
        log.info("cannot index %s: %s", path, reason)
        kind = kind_from_name(path)
        self.drop_vectors(self.store.files.record_failure(path, root, kind, size, mtime_ns, reason))
        report.failed += 1
        report.failures.append((path, reason))


class _Run:
    """One drain: records each prepared file's outcome and batches the ones for the model."""

    def __init__(
        self, indexer: Indexer, report: IndexReport, vanished: dict[str, FileState],
        readers: Readers,
    ) -> None:  # fmt: skip
        self.indexer, self.store, self.report = indexer, indexer.store, report
        self.vanished = vanished
        # Bytes seen at a path that is gone now: a file moved there keeps its item.
        self.moved_from = {
            state.content_hash: path
            for path, state in vanished.items()
            if state.content_hash and state.status == "indexed"
        }
        known = indexer.known_hashes()
        spec = indexer.clip.encoder.image_spec if indexer.clip else None
        self.preparer = FilePreparer(indexer.thumbnails, spec, known, readers,
                                     indexer.read_text, indexer.objects,
                                     indexer.objects_key)  # fmt: skip
        self.batch: list[Prepared] = []
        # Claimed here, attempt not ended yet: (path, read alone).
        self.open_claims: set[tuple[str, bool]] = set()

    def claim(self, paths: list[str], *, alone: bool = False) -> None:
        """Count an attempt on ``paths`` before they are read (see ``store/queue.py``)."""
        self.store.queue.claim(paths, alone=alone)
        self.open_claims.update((path, alone) for path in paths)

    def _ended(self, paths: list[str]) -> None:
        """Attempts that ended here. Every recorded outcome takes the file out of the queue
        with its claim, but a retry later, which gives its claim back itself."""
        self.open_claims.difference_update((p, a) for p in paths for a in (False, True))

    def release_claim(self, path: str) -> None:
        """An attempt ended but the file stays queued (a retry later): give its claim back."""
        for alone in (False, True):
            if (path, alone) in self.open_claims:
                self.store.queue.release([path], alone=alone)
        self._ended([path])

    def give_back_claims(self) -> None:
        """The run ends (done, cancelled or failed): attempts that never ended give back their
        claims, so only a process that dies leaves claims behind."""
        if self.open_claims:
            try:
                for alone in (False, True):
                    paths = [path for path, solo in self.open_claims if solo == alone]
                    self.store.queue.release(paths, alone=alone)
                self.open_claims.clear()
            except sqlite3.Error as error:  # the library's own problem is being raised anyway
                log.warning("could not give back %d claim(s): %s", len(self.open_claims), error)

    def record(self, prepared: Prepared) -> None:
        """Record one prepared file's outcome. Whatever goes wrong here is that file's failure,
        unless it is a problem of the library itself (disk full, database unusable)."""
        batched = len(self.batch)
        try:
            self._record(prepared)
        except Exception as error:  # noqa: BLE001 - one bad file must never stop the run
            if is_library_problem(error):
                raise
            self._cannot_save(prepared, error)
        if len(self.batch) <= batched:  # not waiting in the batch: its attempt ended
            self._ended([prepared.path])

    def _record(self, prepared: Prepared) -> None:
        report, outcome = self.report, prepared.outcome
        if outcome is Outcome.DECODED and prepared.document is not None:
            self._save_document(prepared)
        elif outcome is Outcome.DECODED:
            report.decoded += 1
            self.batch.append(prepared)
            if len(self.batch) >= self.indexer.batch_size:
                self.flush()
        elif outcome is Outcome.FAILED:
            self._failed(prepared)
        elif outcome is Outcome.VANISHED:
            if prepared.state:
                self.indexer.forget([prepared.path], report)
            else:  # queued, then deleted before it was ever indexed
                self.store.queue.discard([prepared.path])
        elif outcome is Outcome.KNOWN_BYTES:
            self._reuse(prepared)
        else:  # UNCHANGED or SAME_BYTES: only the recorded size and time may need updating
            self.store.files.touch(prepared.state.id, prepared.size, prepared.mtime_ns)
            report.unchanged += 1

    def _cannot_save(self, prepared: Prepared, error: Exception) -> None:
        """Park a file whose outcome could not be recorded, with the reason."""
        log.warning("cannot index %s", prepared.path, exc_info=error)
        reason = f"could not be saved ({type(error).__name__}: {error})"
        self.indexer.park(prepared.path, prepared.root, prepared.size, prepared.mtime_ns,
                          reason, self.report)  # fmt: skip

    def flush(self) -> None:
        """Encode the batch (photos and the crops of their objects) and save it in one
        transaction. When that fails for a reason of one photo's, each is saved alone and the
        one that fails is parked with the reason."""
        if not self.batch:
            return
        batch, self.batch = self.batch, []
        try:
            self._save_batch(batch)
        except Exception as error:  # noqa: BLE001 - one bad photo must not lose the batch
            if is_library_problem(error) or len(batch) == 1:
                if is_library_problem(error):
                    raise
                self._cannot_save(batch[0], error)
            else:
                log.info("saving a batch failed (%s); saving its photos one by one", error)
                for prepared in batch:
                    try:
                        self._save_batch([prepared])
                    except Exception as single:  # noqa: BLE001 - as above, per photo
                        if is_library_problem(single):
                            raise
                        self._cannot_save(prepared, single)
        finally:
            self._ended([p.path for p in batch])

    def _save_batch(self, batch: list[Prepared]) -> None:
        indexer, store = self.indexer, self.store
        photo_vectors, object_vectors = self._encode(batch)
        with store.transaction():  # the photos and their objects commit together
            item_ids, replaced = store.files.save_photos(
                [p.record for p in batch], photo_vectors, indexer.model_id
            )
            object_ids, object_rows, dropped = self._save_objects(batch, object_vectors)
        # Committed: from here on nothing may fail for one photo's sake (it would be saved twice).
        indexer.drop_vectors(replaced + dropped)
        encoded = [(i, v) for i, v in zip(item_ids, photo_vectors or [], strict=False)
                   if v is not None]  # fmt: skip
        ids = [i for i, _ in encoded] + object_ids
        if indexer.clip is not None and ids:
            indexer.clip.vectors.add(np.asarray(ids, dtype=np.int64),
                                     np.stack([v for _, v in encoded] + object_rows))  # fmt: skip
        for prepared in batch:
            self._count_saved(prepared)
            self.preparer.known_hashes.add(prepared.digest)  # a copy later on reuses it

    def _save_objects(
        self, batch: list[Prepared], object_vectors: list[np.ndarray | None]
    ) -> tuple[list[int], list[np.ndarray], list[int]]:
        """Replace the objects of the photos that were looked at (inside flush's transaction);
        (ids of the encoded objects, their vectors, ids of the object items dropped)."""
        indexer = self.indexer
        ids: list[int] = []
        rows: list[np.ndarray] = []
        dropped: list[int] = []
        for prepared, vectors in zip(batch, object_vectors, strict=True):
            if prepared.objects is None:  # not looked at: whatever it had stays
                continue
            encoded, gone = self.store.objects.save_objects(
                prepared.path, prepared.objects, vectors, indexer.model_id, indexer.objects_key
            )
            ids += encoded
            rows += list(vectors) if encoded else []
            dropped += gone
            self.report.objects += len(prepared.objects)
        return ids, rows, dropped

    def _encode(
        self, batch: list[Prepared]
    ) -> tuple[list[np.ndarray | None] | None, list[np.ndarray | None]]:
        """One model run for the batch's photos and object crops; split back per photo."""
        clip = self.indexer.clip
        no_objects: list[np.ndarray | None] = [None] * len(batch)
        if clip is None:
            return None, no_objects
        parts = [p.pixels[None] for p in batch if p.pixels is not None]
        parts += [p.object_pixels for p in batch if p.object_pixels is not None]
        if not parts:
            return [None] * len(batch), no_objects
        vectors = iter(clip.encoder.encode_images(np.concatenate(parts)))
        photos = [next(vectors) if p.pixels is not None else None for p in batch]
        self.report.encoded += sum(vector is not None for vector in photos)
        objects = [
            np.stack([next(vectors) for _ in p.object_pixels])
            if p.object_pixels is not None else None
            for p in batch
        ]  # fmt: skip
        return photos, objects

    def _save_document(self, prepared: Prepared) -> None:
        """Save a document at once (one may hold thousands of passages: no batching)."""
        indexer, record = self.indexer, prepared.document
        pictures = None
        if indexer.clip is not None and prepared.pixels is not None:
            pictures = indexer.clip.encoder.encode_images(prepared.pixels)
            self.report.encoded += len(pictures)
        item_ids, dropped = self.store.texts.save_document(record, pictures, indexer.model_id)
        indexer.drop_vectors(dropped)
        if indexer.clip is not None and pictures is not None:
            picture_ids = item_ids[len(record.document.items) :][: len(pictures)]
            indexer.clip.vectors.add(np.asarray(picture_ids, dtype=np.int64), pictures)
        for note in record.document.notes:
            log.info("%s: %s", record.path, note)
        self.report.documents += 1
        self._count_saved(prepared)
        self.preparer.known_hashes.add(prepared.digest)  # moved later on: not read again

    def _count_saved(self, prepared: Prepared) -> None:
        if prepared.state is None:
            self.report.new += 1
        elif prepared.state.content_hash != prepared.digest:
            self.report.changed += 1
        else:  # same bytes, catalogued before a model was there (or for another model)
            self.report.caught_up += 1

    def _reuse(self, prepared: Prepared) -> None:
        """Index a file whose bytes are indexed already, without decoding or encoding it."""
        source = self.moved_from.pop(prepared.digest, None)
        if source is None or source not in self.vanished:
            source = self._gone_twin(prepared.digest)
        if source is not None:
            moved, replaced = self.store.files.move_file(source, prepared.path, prepared.root)
            self.indexer.drop_vectors(replaced)
            self.vanished.pop(source, None)
            if moved:
                state = self.store.files.file_states_of([prepared.path], None)[prepared.path]
                self.store.files.touch(state.id, prepared.size, prepared.mtime_ns)
                self.report.moved += 1
                return
        copied = self.store.files.copy_photo(
            prepared.digest, prepared.path, prepared.root, prepared.size, prepared.mtime_ns,
            self.indexer.model_id,
        )  # fmt: skip
        if copied is None:  # a document (copies are read), or the other photo went meanwhile
            self.record(self.preparer.prepare(prepared.path, prepared.root, prepared.state,
                                              reuse=False))  # fmt: skip
            return
        item_ids, replaced = copied
        self.indexer.drop_vectors(replaced)
        self._add_copied_vectors(item_ids)
        self.report.copied += 1

    def _gone_twin(self, digest: str) -> str | None:
        """An indexed file with these bytes that is no longer on disk: this one moved from
        there, even if the watcher saw the move as a delete and a create."""
        for path in self.store.files.paths_with_hash(digest):
            if not os.path.lexists(path):
                return path
        return None

    def _add_copied_vectors(self, item_ids: list[int]) -> None:
        indexer = self.indexer
        if indexer.clip is None:
            return
        found = self.store.embeddings.of_items(item_ids, indexer.clip.model_id)
        if found:
            ids = np.asarray(list(found), dtype=np.int64)
            indexer.clip.vectors.add(ids, np.stack(list(found.values())))

    def _failed(self, prepared: Prepared) -> None:
        reason = prepared.reason or "unknown error"
        if prepared.transient:
            if self.store.queue.retry_later(prepared.path, reason):
                self.release_claim(prepared.path)  # this attempt ended: no crash
                log.info("will retry %s later: %s", prepared.path, reason)
                self.report.retrying += 1
                return
            reason = f"{reason} (gave up after {MAX_ATTEMPTS} attempts)"
        self.indexer.park(
            prepared.path, prepared.root, prepared.size, prepared.mtime_ns, reason, self.report
        )
