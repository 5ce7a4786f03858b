"""Memory an indexing process gives back: glibc's malloc settings, and models let go between phases.

glibc serves a block of 128 KiB or more with its own mapping, unmapped when freed, but raises that
threshold to the size of each such block freed (up to 32 MiB): after the first decoded picture or
model batch is freed, every later one of that size comes from the heap, which keeps what it grew
to. Measured on the 85-file Pictures set (benchmarks/README.md): the indexer's peak was ~110 MB
higher than with a fixed 1 MiB threshold; and in a process of its own, a released ViT-B-32 int8
session left 190 of its 215 MB resident until ``malloc_trim``. So: a fixed threshold where big
blocks are few (reader processes, the photos phase: decoded pictures, batches; decoding and the
run's CPU time unchanged), and a trim after large frees. Not in the passes: RapidOCR runs
onnxruntime without its arena, so every intermediate tensor is a fresh allocation, and mapping
each one made OCR 2-3x slower (8 photos: 17 s -> 35-52 s; 32 MiB, glibc's own ceiling, as fast
as the default). A trim after every OCR call was tried too: 110 MB lower peak, 10% slower OCR
(10 photos of text, 3 rounds each): not done. Other C libraries (musl, macOS) manage memory
their own way: nothing happens there.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
from typing import Protocol, runtime_checkable

log = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3  # mallopt parameter (malloc.h)
# Blocks of this size or more get a mapping of their own, returned to the system when freed: a
# batch of 16 CLIP inputs (9.6 MB), a decoded picture. Below it: a CLIP input (0.6 MB), rows.
MMAP_THRESHOLD = 1024 * 1024
# For the passes after the photos (OCR): glibc's ceiling for its dynamic threshold on 64-bit,
# fixed, so the heap serves (and reuses) the OCR's tensors as it would by default.
PASSES_MMAP_THRESHOLD = 32 * 1024 * 1024


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    if libc is None or not hasattr(libc, "mallopt") or not hasattr(libc, "malloc_trim"):
        return None  # not glibc
    return libc


def map_large_blocks(threshold: int = MMAP_THRESHOLD) -> bool:
    """From now on, blocks of ``threshold`` bytes or more are mapped and unmapped on their own
    (in this whole process, until called again). False where the C library has no such
    setting."""
    libc = _libc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, threshold))


def return_free_memory() -> None:
    """Hand the heap's free pages back to the system (after a model or a phase's data went)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@runtime_checkable
class Releasable(Protocol):
    """A model that frees its session and loads it again on next use (``OnnxModel``,
    ``ClipModel``, ``ObjectFinder``)."""

    def release(self) -> None: ...


def release_models(*models: object) -> None:
    """Let go of the models among ``models`` that can be let go of, then of the freed memory."""
    for model in models:
        if isinstance(model, Releasable):
            model.release()
    return_free_memory()
