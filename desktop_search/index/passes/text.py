"""The passes that follow the main indexing: encode passages, then read the text in photos.

Passages (document chunks, messages, chat windows, text read in photos) are saved with their
text first and encoded into the ``text`` space here, from the keyword index's copy of the text.
That keeps document extraction independent of the text model: installing or switching it only
encodes what has no embedding from it, nothing is extracted again.

Reading text in photos (OCR) is the slowest and least urgent work: it runs after everything
else, a few photos at a time, and a photo is only looked at once per content. Most photos hold
no text, so a gate (``models/runtime/text_gate.py``) looks at the thumbnail the indexer stored
first: a photo it finds no text in is done without being decoded again. The others (text seen,
or lines of print too small for the thumbnail) are decoded at the OCR's size, where the gate
looks again at a few windows, and read only when it finds text there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from desktop_search.errors import FileNotIndexableError, ModelError
from desktop_search.extract.clean import clean_text
from desktop_search.extract.document import ReadText
from desktop_search.index.control import IndexControl
from desktop_search.index.memory import return_free_memory
from desktop_search.index.progress import ProgressCallback
from desktop_search.index.readers import Readers
from desktop_search.index.report import IndexReport
from desktop_search.models.runtime.text_gate import GateVerdict, TextGate
from desktop_search.store.store import Store, is_library_problem
from desktop_search.store.thumbnails import ThumbnailStore
from desktop_search.vectors.encoders import TextEncoder
from desktop_search.vectors.spaces import Space

log = logging.getLogger(__name__)

TEXT_BATCH = 64
PHOTO_BATCH = 8
# Text needs more pixels than the image model: small print is unreadable at 224 px.
OCR_SIDE = 960
# Smaller photos (icons, thumbnails, emoji) hold no text worth finding: not even decoded.
MIN_TEXT_PHOTO_SIDE = 160
# Fewer characters than this is noise (a stray letter on a T-shirt), not text worth finding.
MIN_PHOTO_TEXT = 4
# Nor is text of fewer different letters and digits than this: OCR reads a row of dots or
# rings (an image viewer's page dots, a carousel) as "00000C", "OOOOOO" or "8 88 00000000": 4
# of the 64 pictures without text in photo-set-85 (benchmarks/photo_set.py) gave such text and
# nothing else; the 21 with text have dozens of different ones, a date or price at least 3.
MIN_DISTINCT_CHARACTERS = 3


def embed_passages(
    store: Store,
    space: Space[TextEncoder],
    report: IndexReport,
    control: IndexControl,
    *,
    limit: int | None = None,
    progress: ProgressCallback | None = None,
) -> int:
    """Encode passages that have no embedding from the text model; returns how many.
    ``progress(done, total)`` hears of each batch (nothing when there is nothing to encode)."""
    done = 0
    total = _progress_total(lambda: store.texts.texts_to_embed_count(space.model_id), 0, limit,
                            progress)  # fmt: skip
    while limit is None or done < limit:
        size = TEXT_BATCH if limit is None else min(TEXT_BATCH, limit - done)
        batch = store.texts.texts_to_embed(space.model_id, size)
        if not batch:
            break
        control.checkpoint()
        try:
            vectors = space.encoder.encode([text for _, text in batch])
        except Exception as error:  # noqa: BLE001 - one poison passage must not block the rest
            if is_library_problem(error):
                raise
            batch, vectors = _one_by_one(store, space, batch)
            if not batch:
                continue
        ids = [item_id for item_id, _ in batch]
        saved = store.embeddings.save(space.model_id, ids, vectors)
        keep = np.isin(np.asarray(ids), np.asarray(saved, dtype=np.int64))
        if saved:  # an item deleted meanwhile (by nobody else: one writer) is skipped
            space.vectors.add(np.asarray(ids, dtype=np.int64)[keep], vectors[keep])
        done += len(batch)
        report.passages += len(saved)
        if progress is not None:
            progress(done, max(done, total))
    if progress is not None and done < total:
        progress(done, done)  # ended short of the count (a failure, a limit): the last report
    return done


def _progress_total(
    count: Callable[[], int], done: int, limit: int | None, progress: ProgressCallback | None
) -> int:
    """What a pass will work through (``done`` of it already), reported as it starts; counted
    only when someone listens (the live index's short steps don't). 0: nothing to do."""
    if progress is None:
        return 0
    total = done + count()
    total = total if limit is None else min(total, limit)
    if total:
        progress(done, total)
    return total


def _one_by_one(store: Store, space: Space[TextEncoder], batch: list[tuple[int, str]]
                ) -> tuple[list[tuple[int, str]], np.ndarray]:  # fmt: skip
    """A batch failed to encode: each passage alone; one that fails alone is recorded (left to
    keyword search, not tried again by this model) and the others are encoded."""
    good, vectors = [], []
    for item_id, text in batch:
        try:
            vectors.append(space.encoder.encode([text])[0])
        except Exception as error:  # noqa: BLE001 - as in embed_passages
            if is_library_problem(error):
                raise
            log.warning("passage %d cannot be encoded: %s", item_id, error)
            reason = f"{type(error).__name__}: {error}"
            store.texts.record_embed_failure(space.model_id, item_id, reason)
            continue
        good.append((item_id, text))
    return good, (np.stack(vectors) if vectors else np.zeros((0, 0), dtype=np.float32))


def read_photo_texts(
    store: Store,
    read_text: ReadText,
    report: IndexReport,
    control: IndexControl,
    drop_vectors: Callable[[list[int]], None],
    readers: Readers,
    *,
    limit: int | None = None,
    gate: TextGate | None = None,
    thumbnails: ThumbnailStore | None = None,
    progress: ProgressCallback | None = None,
) -> int:
    """Read the text in photos not looked at yet; returns how many photos were looked at.
    The photos are decoded by ``readers`` (index/readers.py), the OCR runs here. With a
    ``gate`` and the ``thumbnails`` folder, a photo whose thumbnail the gate finds no text in is
    not decoded nor read (without them, or without a thumbnail, every photo is read).
    ``progress(done, total)`` hears of each photo (photos too small to hold text count as done
    at once); nothing when there is nothing to look at."""
    done = store.texts.skip_small_photos(MIN_TEXT_PHOTO_SIDE)
    total = _progress_total(store.texts.photos_to_read_count, done, limit, progress)
    while limit is None or done < limit:
        size = PHOTO_BATCH if limit is None else min(PHOTO_BATCH, limit - done)
        photos = store.texts.photos_to_read(size)
        if not photos:
            break
        for file_id, path, content_hash, thumbnail in photos:
            control.checkpoint()
            try:
                verdict = None if gate is None or thumbnails is None else _gate_verdict(
                    gate, thumbnails.path(thumbnail), path)  # fmt: skip
            except ModelError as error:  # the gate's model cannot be loaded: read every photo
                log.warning("not gating the text in photos: %s", error)
                gate, verdict = None, None
            if verdict is None or verdict.closer:
                text = _photo_text(path, read_text, readers, gate, verdict)
            else:  # the thumbnail shows no text: not decoded again
                text = ""
            try:
                dropped = store.texts.save_photo_text(file_id, content_hash, text)
            except Exception as error:  # noqa: BLE001 - the photo is read; saving its text failed
                if is_library_problem(error):
                    raise
                log.warning("could not save the text read in %s: %s", path, error)
                dropped = store.texts.save_photo_text(file_id, content_hash, "")  # looked at: done
            drop_vectors(dropped)
            report.photo_texts += bool(text)
            done += 1
            if progress is not None:
                progress(done, max(done, total))
        # RapidOCR allocates every tensor anew (no arena) from each thread's malloc arena; what
        # those arenas keep after the frees grows with the photos read (85 photos: the indexer
        # peaked at 1,045 MB; 1,000: 1,598 MB). A trim costs ~10% of one OCR call
        # (index/memory.py), so once a batch.
        return_free_memory()
    if progress is not None and done < total:
        progress(done, done)  # ended short of the count: the last report has done == total
    return done


def _gate_verdict(gate: TextGate, thumbnail: Path | None, path: str) -> GateVerdict | None:
    """The gate's verdict on the photo at ``path`` from its stored thumbnail; None (read it)
    when there is no thumbnail or the gate fails (it must never lose a photo's text)."""
    if thumbnail is None:
        return None
    try:
        with Image.open(thumbnail) as image:
            image.load()
            verdict = gate.look(image)
    except OSError as error:  # the thumbnail is gone or damaged: a cache, rebuilt elsewhere
        log.debug("no thumbnail to look at for %s: %s", path, error)
        return None
    except ModelError:
        raise
    except Exception:  # noqa: BLE001 - the gate failing must not stop reading text
        log.warning("the text gate failed on %s; reading it", path, exc_info=True)
        return None
    log.debug("text gate on %s: %s", path, verdict)
    return verdict


def _closer_has_text(gate: TextGate, image: Image.Image, verdict: GateVerdict, path: str) -> bool:
    """The gate's closer look at ``image``; True (read it) when that look fails."""
    try:
        closer = gate.look_closer(image, verdict)
    except Exception:  # noqa: BLE001 - the gate failing must not stop reading text
        log.warning("the text gate failed on %s; reading it", path, exc_info=True)
        return True
    log.debug("text gate, closer, on %s: %s", path, closer)
    return closer.has_text


def _photo_text(path: str, read_text: ReadText, readers: Readers, gate: TextGate | None = None,
                verdict: GateVerdict | None = None) -> str:  # fmt: skip
    """The text in the photo at ``path`` ("" when none, or when it can't be read now: the
    main pass records why a photo can't be read, this one does not repeat it). A ``verdict``
    that asks to look closer is settled by ``gate`` on the picture decoded for OCR first."""
    try:
        with readers.borrow() as reader:
            reader.load(path)
            photo = reader.photo(min_side=OCR_SIDE, thumb_size=16)
        image = photo.image
        if max(image.size) > OCR_SIDE * 2:
            scale = OCR_SIDE * 2 / max(image.size)
            image = image.resize((round(image.width * scale), round(image.height * scale)))
        if gate is not None and verdict is not None and not _closer_has_text(
                gate, image, verdict, path):  # fmt: skip
            return ""
        text = read_text(image).strip()
    except FileNotIndexableError as error:
        log.info("not reading text in %s: %s", path, error.reason)
        return ""
    except Exception:  # noqa: BLE001 - OCR trouble must not stop indexing
        log.warning("could not read the text in %s", path, exc_info=True)
        return ""
    text = clean_text(text)  # OCR output is extracted text too: the same boundary
    return text if worth_keeping(text) else ""


def worth_keeping(text: str) -> bool:
    """Whether OCR's ``text`` of a photo is text worth finding, not noise or a pattern."""
    characters = [char.casefold() for char in text if char.isalnum()]
    return len(characters) >= MIN_PHOTO_TEXT and len(set(characters)) >= MIN_DISTINCT_CHARACTERS
