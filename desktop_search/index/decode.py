"""The decode stage of indexing: look at one queued file and get it ready for the model.

Runs in pool threads ahead of the model. It decides as cheaply as it can what a file needs:
nothing (same size and time, or same bytes), a copy of embeddings already computed for the same
bytes, or a full decode, thumbnail and preprocessing. Reading and decoding happen in a reader
(``index/readers.py``: a worker process with limits, so no file can take the indexer down); what
comes back (a reduced image, a document's text) is preprocessed here.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from enum import Enum

import numpy as np

from desktop_search.errors import FileNotIndexableError
from desktop_search.extract.document import ReadText
from desktop_search.extract.documents import is_document
from desktop_search.extract.images import Photo, thumbnail_jpeg
from desktop_search.index.passes.objects import ObjectFinder
from desktop_search.index.readers import LocalReaders, Reader, Readers
from desktop_search.index.scan import clamp_ns, link_leaves
from desktop_search.models.runtime.preprocess import (
    ImageSpec,
    crop_with_context,
    preprocess,
    scale_box,
)
from desktop_search.store.records import DocumentRecord, FileState, FoundObject, PhotoRecord
from desktop_search.store.thumbnails import ThumbnailStore

log = logging.getLogger(__name__)

THUMBNAIL_SIZE = 256
REASON_CHANGING = "file changed while being read (still being written?)"


class Outcome(Enum):
    DECODED = "decoded"  # ready for the model
    UNCHANGED = "unchanged"  # same size and modification time as indexed: nothing to do
    SAME_BYTES = "same bytes"  # touched, but the content is what was indexed
    KNOWN_BYTES = "known bytes"  # another indexed file has these bytes: reuse its embeddings
    VANISHED = "vanished"  # gone before it could be read
    FAILED = "failed"


@dataclass
class Prepared:
    """What the decode stage found out about one file."""

    path: str
    root: str
    state: FileState | None
    outcome: Outcome
    size: int = 0
    mtime_ns: int = 0
    digest: str | None = None
    record: PhotoRecord | None = None
    document: DocumentRecord | None = None
    pixels: np.ndarray | None = None  # a photo's, or the pictures inside a document
    objects: list[FoundObject] | None = None  # None: not looked for
    object_pixels: np.ndarray | None = None  # the crops of the objects marked ``encoded``
    reason: str | None = None
    transient: bool = False  # a failure worth retrying as it is


class FilePreparer:
    """Prepares queued files; safe to call from several threads at once."""

    def __init__(
        self,
        thumbnails: ThumbnailStore,
        spec: ImageSpec | None,
        known_hashes: set[str],
        readers: Readers | None = None,
        read_text: ReadText | None = None,
        objects: ObjectFinder | None = None,
        objects_key: str | None = None,
    ) -> None:
        self.readers = readers or LocalReaders()
        self.read_text = read_text  # OCR for scanned PDF pages (None: not available)
        self.thumbnails = thumbnails
        self.spec = spec  # None: no model yet, photos are only catalogued
        self.known_hashes = known_hashes  # read-only here; the indexer may discard entries
        # Objects are looked for (with a CLIP model only: their crops need it) when a key is set.
        self.objects = objects if objects_key and spec else None
        self.objects_key = objects_key if self.objects else None

    def prepare(
        self, path: str, root: str, state: FileState | None, *, reuse: bool = True
    ) -> Prepared:
        """``reuse`` False: read the file even if its bytes are indexed elsewhere (a copy of a
        document, or of a photo whose other file went meanwhile)."""
        found = Prepared(path, root, state, Outcome.DECODED)
        try:
            with self.readers.borrow() as reader:
                self._prepare(reader, found, reuse)
        except FileNotIndexableError as error:
            found.outcome, found.reason, found.transient = (
                Outcome.FAILED, error.reason, error.transient
            )  # fmt: skip
        except Exception as error:  # noqa: BLE001 - one bad file must never stop the run
            log.exception("unexpected error while reading %s", path)
            found.outcome, found.reason, found.transient = (
                Outcome.FAILED, f"unexpected error: {error}", True
            )  # fmt: skip
        return found

    def _prepare(self, reader: Reader, found: Prepared, reuse: bool) -> None:
        """Fill in ``found``; its size and time are set before anything can fail on reading,
        so a parked file is only retried once it changes."""
        before = _stat(found.path)
        if before is None or link_leaves(found.path, found.root):
            # Gone, or a link that now points outside the indexed folder (the watcher saw it
            # by name): not indexed, and forgotten if it was.
            found.outcome = Outcome.VANISHED
            return
        found.size, found.mtime_ns = before
        state = found.state
        kept = state is not None and not self._thumbnail_missing(state)
        if kept and up_to_date(state, *before, needs_embedding=bool(self.spec),
                               objects_key=self.objects_key):  # fmt: skip
            found.outcome = Outcome.UNCHANGED
            return
        found.digest, length = reader.load(found.path)
        if _stat(found.path) != before or length != found.size:
            raise FileNotIndexableError(REASON_CHANGING, transient=True)
        document = is_document(found.path)
        if kept and state.content_hash == found.digest and self._complete(state, document):
            found.outcome = Outcome.SAME_BYTES
        elif reuse and found.digest in self.known_hashes and not self._objects_only(state, found):
            found.outcome = Outcome.KNOWN_BYTES  # moved here (or a copy of a photo)
        elif document:
            self._extract(reader, found)
        else:
            self._decode(reader, found)

    def _complete(self, state: FileState, document: bool) -> bool:
        """Does the stored file with these bytes need nothing more?"""
        if document:
            return state.kind != "photo"  # passages are encoded by a pass of their own
        return (state.has_embedding or not self.spec) and not needs_objects(state, self.objects_key)

    def _objects_only(self, state: FileState | None, found: Prepared) -> bool:
        """Its own bytes are indexed; only the objects are missing (not a move or a copy)."""
        return (
            state is not None and state.content_hash == found.digest
            and needs_objects(state, self.objects_key)
        )  # fmt: skip

    def _thumbnail_missing(self, state: FileState) -> bool:
        """A lost thumbnail (e.g. found by ``doctor``) is remade by a full decode."""
        wanted = state.kind == "photo" or state.thumbnail is not None  # text files have none
        return state.status == "indexed" and wanted and not self.thumbnails.exists(state.thumbnail)

    def _extract(self, reader: Reader, found: Prepared) -> None:
        document = reader.document(found.path, self.read_text)
        thumbnail = None
        if document.thumbnail is not None:
            jpeg = thumbnail_jpeg(document.thumbnail, THUMBNAIL_SIZE)
            thumbnail = self.thumbnails.put(found.digest, jpeg)
            document.thumbnail = None  # kept on disk; a 1,000-page PDF holds enough
        if document.images and self.spec:
            found.pixels = np.stack([preprocess(p.image, self.spec) for p in document.images])
        found.document = DocumentRecord(
            path=found.path, root=found.root, size=found.size, mtime_ns=found.mtime_ns,
            content_hash=found.digest, document=document, thumbnail=thumbnail,
        )  # fmt: skip

    def _decode(self, reader: Reader, found: Prepared) -> None:
        spec, state = self.spec, found.state
        photo = reader.photo(min_side=spec.size if spec else THUMBNAIL_SIZE,
                             thumb_size=THUMBNAIL_SIZE,
                             long_side=self.objects.input_size if self.objects else 0)  # fmt: skip
        # Same bytes already encoded: only its objects were missing (detector new, or the
        # setting switched on), so the photo's own embedding is not computed again.
        embedded = state is not None and state.content_hash == found.digest and state.has_embedding
        found.pixels = preprocess(photo.image, spec) if spec and not embedded else None
        if self.objects is not None:
            found.objects, found.object_pixels = self._find_objects(photo)
        found.record = PhotoRecord(
            path=found.path, root=found.root, size=found.size, mtime_ns=found.mtime_ns,
            content_hash=found.digest, width=photo.width, height=photo.height,
            taken_at=photo.taken_at, camera=photo.camera, gps=photo.gps,
            thumbnail=self.thumbnails.put(found.digest, photo.thumbnail),
        )  # fmt: skip

    def _find_objects(self, photo: Photo) -> tuple[list[FoundObject], np.ndarray | None]:
        """The photo's objects, and the CLIP input of the crops of the ones to encode."""
        try:
            objects = self.objects.find(photo.image, (photo.width, photo.height))
        except Exception:  # noqa: BLE001 - the photo itself is fine; index it without objects
            log.warning("object detection failed on one photo", exc_info=True)
            return [], None
        to_image = (photo.image.width / photo.width, photo.image.height / photo.height)
        crops = [
            preprocess(crop_with_context(photo.image, scale_box(found.box, *to_image)), self.spec)
            for found in objects
            if found.encoded
        ]
        return objects, np.stack(crops) if crops else None


def needs_objects(state: FileState, objects_key: str | None) -> bool:
    """An indexed photo whose objects were not looked for with this detector and model."""
    return (
        objects_key is not None and state.kind == "photo" and state.status == "indexed"
        and state.objects != objects_key
    )  # fmt: skip


def _stat(path: str) -> tuple[int, int] | None:
    """(size, mtime) of a regular file; None when it is gone."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise FileNotIndexableError("broken symbolic link") from None
        return None
    except OSError:
        return (-1, -1)  # let the read report the reason (permission, I/O, loop, ...)
    if not stat.S_ISREG(info.st_mode):
        raise FileNotIndexableError("not a regular file")
    return info.st_size, clamp_ns(info.st_mtime_ns)


def up_to_date(
    state: FileState, size: int, mtime_ns: int, *, needs_embedding: bool,
    objects_key: str | None = None,
) -> bool:  # fmt: skip
    """Same size and mtime, and nothing left to do for it (failed files wait for a change)."""
    if state.size != size or state.mtime_ns != mtime_ns:
        return False
    if state.status == "failed":
        return True
    return (state.has_embedding or not needs_embedding) and not needs_objects(state, objects_key)
