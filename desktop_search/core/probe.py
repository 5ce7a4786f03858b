"""Try a suspect file in a child process first: a file that kills the reader kills only the child.

A *suspect* is a file the indexing process died on (``core/queue.py``): a segfault in a native
decoder, the kernel's OOM killer, or just a kill -9 or a power cut that happened to land while it
was being read. Only a child that dies while reading the file tells these apart: the indexer
survives and the file is parked with the reason; a suspect the child reads without dying is
indexed as usual. The child reads and decodes with the decoders the indexer uses (no models), in
a memory limit, at low priority, and is stopped by an alarm after PROBE_SECONDS.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import resource
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

log = logging.getLogger(__name__)

# Reading and decoding one file takes well under 10 s (a 1,000-page PDF's text: ~6 s); one that
# takes minutes is stuck, and would stall the live index as much as a crash.
PROBE_SECONDS = 120
# Enough for any file the decoders accept (a 179 MP image: ~700 MB decoded; the decode budget of
# extract/images.py is 768 MB) with the interpreter and libraries around it.
PROBE_MEMORY_BYTES = 3 * 1024**3
REASON_CRASHED = (
    "reading this file crashed the reader, ran out of memory or took more than "
    f"{PROBE_SECONDS} s (tried in a separate process); skipped until it changes "
    "('desktop-search index --retry-failed' tries it again)"
)


def _child_setup() -> None:
    """In the child: a memory limit and low priority; it must never take the desktop with it."""
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (PROBE_MEMORY_BYTES, PROBE_MEMORY_BYTES))
    with contextlib.suppress(OSError):
        os.nice(10)


def _read(path: str) -> None:
    """Read and decode ``path`` as the indexer would (in the child). Python errors are fine:
    the child survived, and the indexer records them the usual way."""
    from desktop_search.extract.documents import extract_document, is_document
    from desktop_search.extract.images import load_photo, read_file

    signal.alarm(PROBE_SECONDS)  # its default action ends the child: counted as a crash
    try:
        data = read_file(Path(path))
        if is_document(path):
            extract_document(path, data)
        else:
            load_photo(data)
    except Exception:  # noqa: BLE001, S110 - see the docstring
        pass
    finally:
        signal.alarm(0)


class Prober:
    """One child process at a time (started on first use, replaced when one dies)."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def crashes(self, path: str) -> bool:
        """Does reading ``path`` kill a child process (crash, memory limit, alarm)?"""
        if self._pool is None:
            # spawn: a fresh interpreter, not a fork of a process running model threads.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(1, mp_context=context, initializer=_child_setup)
        try:
            self._pool.submit(_read, path).result()
        except BrokenProcessPool:
            log.warning("reading %s killed the reader process", path)
            self.close()
            return True
        return False

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
