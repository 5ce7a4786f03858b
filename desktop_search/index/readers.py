# Over 400 lines: one job: the reader processes: their pool, the child and the pipe protocol.
"""Untrusted files are read and decoded in worker processes, so a file can only cost itself.

A photo or document that crashes a native decoder (a segfault in a codec), swells it past any
sensible size or hangs it takes down a *reader* process, never the indexer: the file fails with
a reason ("crashed the reader", "needs more than 3 GB of memory", "took more than 120 s"), the
reader is replaced, and the library goes on. GNOME's LocalSearch isolates its extractors so.

The decode stage (``index/decode.py``) borrows one ``Reader`` per file from a ``Readers`` pool:

- ``load(path)`` reads the file and returns its sha256 and length. The bytes stay in the reader:
  most files need nothing more (unchanged, moved, copied), and the big input never crosses.
  A mailbox (``extract.documents.is_streamed``) is not read whole: it is hashed in chunks and
  kept open, to be read message by message by ``document``.
- then at most one of ``photo(...)`` (``extract.images.load_photo``) or ``document(...)``
  (``extract.documents.extract_document``) decodes the bytes read.

``ReaderPool`` runs each reader in its own process (forkserver: a fresh interpreter with the
decoders imported once, forked in milliseconds; never a fork of a process running model
threads), at low priority, under an address-space limit, with a wall-clock limit per file.
Decoded pixels come back through one shared-memory block per reader, not as pickles of big
arrays (the pickle carries a reference into the block). OCR of scanned pages is asked of the
indexer: its model is loaded once there, not in every reader. ``LocalReaders`` does the same in
the calling thread (tests that intercept reads; the benchmark of the process boundary's cost).

Thread-safety: a ``Reader`` is used by one thread at a time (``borrow`` hands it out); the pool's
``borrow`` and ``close`` are safe from any thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import multiprocessing
import os
import pickle
import queue
import resource
import signal
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import Protocol

from PIL import Image

from desktop_search.errors import DesktopSearchError, FileNotIndexableError
from desktop_search.extract.document import Document, ReadText
from desktop_search.extract.documents import (
    extract_document,
    extract_mailbox,
    is_streamed,
    open_streamed,
)
from desktop_search.extract.images import REASON_NOT_IMAGE, Photo, load_photo, read_file
from desktop_search.extract.mbox import MailboxFile
from desktop_search.index.control import BACKGROUND_NICENESS
from desktop_search.index.memory import map_large_blocks

log = logging.getLogger(__name__)

# Reading and decoding one file takes well under 10 s (a 1,000-page PDF's text: ~6 s; the OCR
# the indexer does for it meanwhile is not counted). One that takes minutes is stuck and would
# stall the live index as much as a crash would.
READER_SECONDS = 120
# Enough for any file the decoders accept (a 179 MP image: ~700 MB decoded; the decode budget of
# extract/images.py is 768 MB; PDFium's render budget) with the interpreter and libraries around
# it. An address-space limit, so a bomb fails that file instead of waking the OOM killer.
READER_MEMORY_BYTES = 3 * 1024**3
# Pixels handed back per file: a photo reduced for the model or the detector (640x640 RGB:
# 1.2 MB; a 30000x20 panorama at a 224 short side: 1 MB), a document's pictures and page-1
# thumbnail. What does not fit is pickled instead (slower, still correct).
SHARED_BYTES = 16 * 1024**2
# The first reader of a process also starts the forkserver and imports the decoders there:
# ~1 s on the development machine, 10 s when it is busy; later ones are forked in ~25 ms.
START_SECONDS = 60

_RETRY = "skipped until it changes ('desktop-search index --retry-failed' tries it again)"
REASON_CRASHED = f"reading this file crashed the reader (tried in a separate process); {_RETRY}"


def too_large_reason(memory_bytes: int) -> str:
    return f"reading this file needs more than {memory_bytes / 1024**3:g} GB of memory; {_RETRY}"


def too_long_reason(seconds: float) -> str:
    return f"reading this file took more than {seconds:g} s; {_RETRY}"


class Reader(Protocol):
    """Reads one file at a time: ``load`` it, then decode it with at most one of the others."""

    def load(self, path: str) -> tuple[str, int]:
        """Read ``path``: (sha256 hex digest, length). Raises ``FileNotIndexableError``."""

    def photo(self, *, min_side: int, thumb_size: int, long_side: int = 0) -> Photo:
        """The loaded bytes decoded as a photo (see ``extract.images.load_photo``)."""

    def document(self, path: str, read_text: ReadText | None) -> Document:
        """The loaded bytes extracted as the document ``path`` names."""


class Readers(Protocol):
    def borrow(self) -> contextlib.AbstractContextManager[Reader]: ...

    def close(self) -> None: ...


# -- in the calling thread -------------------------------------------------------------------


class LocalReader:
    """A reader in the calling thread, reading with ``read``. Mailboxes are streamed (not read
    with ``read``) only when ``read`` is the usual ``read_file``: a test's own ``read`` sees
    every file it is asked for."""

    def __init__(self, read: Callable[[Path], bytes] = read_file) -> None:
        self._read = read
        self._data: Loaded = b""

    def load(self, path: str) -> tuple[str, int]:
        self._data = _release(self._data)
        self._data = _load(path, self._read)
        return _identity(self._data)

    def photo(self, *, min_side: int, thumb_size: int, long_side: int = 0) -> Photo:
        data, self._data = self._data, b""
        return _photo(data, min_side=min_side, thumb_size=thumb_size, long_side=long_side)

    def document(self, path: str, read_text: ReadText | None) -> Document:
        data, self._data = self._data, b""
        return _document(path, data, read_text)


# What a reader holds between ``load`` and the decode: a file's bytes, or an open mailbox.
Loaded = bytes | MailboxFile


def _load(path: str, read: Callable[[Path], bytes]) -> Loaded:
    if read is read_file and is_streamed(path):
        return open_streamed(path)
    return read(Path(path))


def _identity(loaded: Loaded) -> tuple[str, int]:
    """(sha256 hex digest, length) of what was loaded."""
    if isinstance(loaded, MailboxFile):
        return loaded.digest, loaded.length
    return hashlib.sha256(loaded).hexdigest(), len(loaded)


def _release(loaded: Loaded) -> bytes:
    """Let go of what was loaded (an open mailbox is closed); b"" to hold instead."""
    if isinstance(loaded, MailboxFile):
        loaded.close()
    return b""


def _photo(loaded: Loaded, *, min_side: int, thumb_size: int, long_side: int) -> Photo:
    if isinstance(loaded, MailboxFile):  # named a photo since it was loaded as a mailbox
        _release(loaded)
        raise FileNotIndexableError(REASON_NOT_IMAGE)
    return load_photo(loaded, min_side=min_side, thumb_size=thumb_size, long_side=long_side)


def _document(path: str, loaded: Loaded, read_text: ReadText | None) -> Document:
    if isinstance(loaded, MailboxFile):
        try:
            return extract_mailbox(path, loaded, read_text)
        finally:
            _release(loaded)
    return extract_document(path, loaded, read_text)


class LocalReaders:
    def __init__(self, read: Callable[[Path], bytes] = read_file) -> None:
        self._read = read

    @contextlib.contextmanager
    def borrow(self) -> Iterator[Reader]:
        yield LocalReader(self._read)

    def close(self) -> None:
        pass


# -- in worker processes ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReaderLimits:
    seconds: float = READER_SECONDS
    memory_bytes: int = READER_MEMORY_BYTES
    shared_bytes: int = SHARED_BYTES
    niceness: int = BACKGROUND_NICENESS  # the indexer's background threads' niceness


class ReaderPool:
    """Up to ``size`` reader processes, started on first use and replaced when one dies.

    If reader processes cannot start at all here (no forkserver in this environment, or one
    this process cannot reach any more, e.g. after dropping privileges), files are read in the
    calling threads instead, as before readers existed: safety lost is better than a library
    that indexes nothing.
    """

    def __init__(self, size: int, limits: ReaderLimits | None = None) -> None:
        self.limits = limits or ReaderLimits()
        self._free: queue.SimpleQueue[ChildReader] = queue.SimpleQueue()
        self._all = [ChildReader(self.limits) for _ in range(max(1, size))]
        for reader in self._all:
            self._free.put(reader)
        self._closed = False
        self.unavailable: str | None = None  # why readers cannot start here (then: in-process)

    @contextlib.contextmanager
    def borrow(self) -> Iterator[Reader]:
        if self._closed:
            raise RuntimeError("the reader pool is closed")
        if self.unavailable is not None:
            yield LocalReader()
            return
        reader = self._free.get()
        try:
            try:
                reader.start()
            except ReaderStartError as error:
                if self.unavailable is None:
                    log.warning("files are read in this process: %s", error)
                self.unavailable = str(error)
                yield LocalReader()
                return
            yield reader
        finally:
            self._free.put(reader)

    def close(self) -> None:
        """Stop every reader: idle ones end at once, a busy one is killed (its file's wait ends
        with a failure nobody records: the run is over)."""
        self._closed = True
        for reader in self._all:
            reader.close()


class ChildReader:
    """One reader process and the shared-memory block its pixels come back through."""

    def __init__(self, limits: ReaderLimits) -> None:
        self.limits = limits
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._shared: SharedMemory | None = None
        self._busy = False  # a request is out (set and read under the lock)
        self._lock = threading.Lock()  # close() may come from another thread than the user

    # The three requests of the Reader protocol.

    def load(self, path: str) -> tuple[str, int]:
        return self._ask(("load", path), None, start=True)

    def start(self) -> None:
        """Start the process if it is not running; raises ``ReaderStartError`` if it cannot."""
        with self._lock:
            if not self._running():
                self._start()

    def photo(self, *, min_side: int, thumb_size: int, long_side: int = 0) -> Photo:
        return self._ask(("photo", min_side, thumb_size, long_side), None)

    def document(self, path: str, read_text: ReadText | None) -> Document:
        return self._ask(("document", path, read_text is not None), read_text)

    def close(self) -> None:
        """End the process: an idle one on EOF, a busy one killed (its user sees it died and
        cleans up; the pipe is only closed by the thread that waits on it)."""
        with self._lock:
            if self._busy and self._process is not None:
                self._process.kill()
            else:
                self._stop(kill=False)
            shared, self._shared = self._shared, None
        if shared is not None:
            with contextlib.suppress(OSError):
                shared.unlink()  # the name goes now; the mapping when the last user closes it
            with contextlib.suppress(OSError, BufferError):
                shared.close()

    # The conversation with the process.

    def _ask(self, request: tuple, read_text: ReadText | None, *, start: bool = False) -> object:
        """Send ``request`` and wait for its answer. Only a ``load`` may start a new process:
        the others work on the bytes the last one read, which died with its process."""
        conn = self._ensure_running(start)
        try:
            conn.send(request)
            return self._answer(conn, read_text)
        except (EOFError, OSError):  # the process died: a crash, or the memory limit's kill
            died = self._stopped_reason()
            raise FileNotIndexableError(died) from None
        finally:
            with self._lock:
                self._busy = False

    def _answer(self, conn: Connection, read_text: ReadText | None) -> object:
        deadline = time.monotonic() + self.limits.seconds
        while True:
            if not conn.poll(max(0.0, deadline - time.monotonic())):
                log.warning("a reader took over %s s on one file: stopped", self.limits.seconds)
                self._stop(kill=True)
                raise FileNotIndexableError(too_long_reason(self.limits.seconds))
            kind, payload = _receive(conn, self._shared)
            if kind == "ok":
                return payload
            if kind == "failed":
                reason, transient = payload
                raise FileNotIndexableError(reason, transient=transient)
            if kind == "error":  # a bug of ours (or a library's) on this file, not the file's
                raise ReaderError(payload)
            # kind == "ocr": the reader asks for the text in a page image; OCR time is ours.
            asked = time.monotonic()
            conn.send(_read_text_for(read_text, payload))
            deadline += time.monotonic() - asked

    def _ensure_running(self, start: bool) -> Connection:
        with self._lock:
            self._busy = True
            if self._running():
                return self._conn
            if not start:  # died since it read the file
                self._busy = False
                raise FileNotIndexableError(self._stopped_reason())
            try:
                return self._start()
            except ReaderStartError as error:  # started before: worth another try later
                self._busy = False
                raise FileNotIndexableError(str(error), transient=True) from None

    def _running(self) -> bool:
        return self._process is not None and self._process.is_alive() and self._conn is not None

    def _start(self) -> Connection:
        """A new process, once it said it is ready (a reader that dies while starting is a
        problem of this environment, not of any file)."""
        self._stop(kill=True)
        if self._shared is None:
            self._shared = _shared_block(self.limits.shared_bytes)
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        ours, theirs = context.Pipe()
        name = self._shared.name if self._shared else None
        process = context.Process(
            target=_serve, args=(theirs, name, self.limits), name="desktop-search-reader",
            daemon=True,
        )  # fmt: skip
        try:
            with _no_main_module():
                process.start()
        except Exception as error:  # noqa: BLE001 - e.g. the forkserver is not reachable
            ours.close()
            raise ReaderStartError(f"a reader process could not start here ({error})") from error
        finally:
            theirs.close()
        self._process, self._conn = process, ours
        try:
            if ours.poll(START_SECONDS) and ours.recv() == "ready":
                return ours
        except (EOFError, OSError):
            pass
        process.join(timeout=1)
        code = process.exitcode
        self._stop(kill=True)
        raise ReaderStartError(f"a reader process could not start here (exit code {code})")

    def _stopped_reason(self) -> str:
        """Why the process ended (after EOF on its pipe)."""
        process = self._process
        if process is not None:
            process.join(timeout=5)
        code = process.exitcode if process is not None else None
        self._stop(kill=True)
        if code == _EXIT_OUT_OF_MEMORY:
            return too_large_reason(self.limits.memory_bytes)
        log.info("a reader process ended with exit code %s", code)
        return REASON_CRASHED

    def _stop(self, *, kill: bool) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()  # an idle reader ends on EOF
        if process is None:
            return
        if kill and process.is_alive():
            process.kill()
        process.join(timeout=2 if not kill else 10)
        if process.is_alive():  # busy and not killed: it would finish a file nobody wants
            process.kill()
            process.join(timeout=10)
        process.close()


_MAIN_LOCK = threading.Lock()


@contextlib.contextmanager
def _no_main_module() -> Iterator[None]:
    """Start a process without the caller's main module. multiprocessing makes each child
    import the ``__main__`` it finds in ``sys.modules`` again, which a reader never needs: it
    costs the CLI's imports per reader when started from a console script, runs a script's
    body again when it has no ``if __name__ == "__main__"`` guard, and fails outright for a
    program read from stdin. An empty stand-in while the process starts means no such import."""
    with _MAIN_LOCK:
        real = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = real


class ReaderError(Exception):
    """An unexpected error inside a reader (its type and message); the file fails with it."""


class ReaderStartError(Exception):
    """A reader process could not start in this environment."""


_EXIT_OUT_OF_MEMORY = 3


def _shared_block(size: int) -> SharedMemory | None:
    """The reader's block for pixels, its pages reserved now: a full /dev/shm must fail here
    (pixels are pickled instead), not with SIGBUS when the reader writes into it."""
    if size <= 0:
        return None
    try:
        block = SharedMemory(create=True, size=size)
    except OSError as error:
        log.info("no shared memory for reader pixels (%s): pickling them", error)
        return None
    try:
        os.posix_fallocate(block._fd, 0, size)  # noqa: SLF001 - the only handle to its file
    except (OSError, AttributeError) as error:
        log.info("cannot reserve %d bytes of shared memory (%s): pickling pixels", size, error)
        block.close()
        block.unlink()
        return None
    return block


def _read_text_for(read_text: ReadText | None, image: Image.Image) -> tuple[str, object]:
    """The answer to a reader's OCR request: ("text", str), ("unavailable", why), ("error", why)."""
    if read_text is None:
        return "unavailable", "no OCR in this run"
    try:
        return "text", read_text(image)
    except DesktopSearchError as error:  # the OCR engine cannot load: the reader stops asking
        return "unavailable", str(error)
    except Exception as error:  # noqa: BLE001 - that page's OCR failed; the reader notes it
        return "error", f"{type(error).__name__}: {error}"


# -- pixels through shared memory ------------------------------------------------------------


class _Packer(pickle.Pickler):
    """Pickles a reply; PIL images that fit go into the shared block, referenced by offset."""

    def __init__(self, file: io.BytesIO, block: memoryview | None) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.block, self.used = block, 0

    def persistent_id(self, obj: object) -> tuple | None:
        if self.block is None or not isinstance(obj, Image.Image):
            return None
        raw = obj.tobytes()
        if self.used + len(raw) > len(self.block):
            return None  # pickled as usual
        start, self.used = self.used, self.used + len(raw)
        self.block[start : self.used] = raw
        return ("image", obj.mode, obj.size, start, len(raw))


class _Unpacker(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, block: memoryview | None) -> None:
        super().__init__(file)
        self.block = block

    def persistent_load(self, pid: tuple) -> Image.Image:
        _, mode, size, start, length = pid
        # frombytes copies: the block is written again by the reader's next reply.
        return Image.frombytes(mode, size, bytes(self.block[start : start + length]))


def _send(conn: Connection, message: tuple, block: memoryview | None) -> None:
    buffer = io.BytesIO()
    _Packer(buffer, block).dump(message)
    conn.send_bytes(buffer.getbuffer())


def _receive(conn: Connection, shared: SharedMemory | None) -> tuple:
    data = conn.recv_bytes()
    return _Unpacker(io.BytesIO(data), shared.buf if shared is not None else None).load()


# -- the reader process ----------------------------------------------------------------------


def _serve(conn: Connection, shared_name: str | None, limits: ReaderLimits) -> None:
    """The reader process: answer requests until the indexer closes the pipe."""
    _limit_self(limits)
    shared = _attach(shared_name)
    block = shared.buf if shared is not None else None
    data: Loaded = b""
    conn.send("ready")
    try:
        while True:
            try:
                request = conn.recv()
            except (EOFError, OSError):
                return
            kind = request[0]
            try:
                if kind == "load":
                    data = _release(data)  # the previous file's bytes go before the next's come
                    data = _load(request[1], read_file)
                    reply = _identity(data)
                elif kind == "photo":
                    _, min_side, thumb_size, long_side = request
                    photo_data, data = data, b""
                    reply = _photo(photo_data, min_side=min_side, thumb_size=thumb_size,
                                   long_side=long_side)  # fmt: skip
                else:
                    _, path, with_ocr = request
                    document_data, data = data, b""
                    ocr = _ask_for_text(conn, block) if with_ocr else None
                    reply = _document(path, document_data, ocr)
                _send(conn, ("ok", reply), block)
            except FileNotIndexableError as error:
                _send(conn, ("failed", (error.reason, error.transient)), None)
            except MemoryError:
                # Past the address-space limit: the reader may be in any state, so it ends
                # (the indexer starts a fresh one) and the file is reported as too large.
                os._exit(_EXIT_OUT_OF_MEMORY)
            except Exception as error:  # noqa: BLE001 - reported as this file's failure
                log.debug("reader: %s failed", kind, exc_info=True)
                _send(conn, ("error", f"{type(error).__name__}: {error}"), None)
    finally:
        if shared is not None:
            shared.close()


def _limit_self(limits: ReaderLimits) -> None:
    """A memory limit and low priority: a reader must never take the desktop with it. SIGINT
    is the indexer's business (Ctrl+C in a terminal reaches the whole process group)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Nothing a reader logs reaches the terminal raw (Python's last-resort handler would print
    # warnings quoting a file's bytes): what matters comes back as the file's reason.
    logging.getLogger().addHandler(logging.NullHandler())
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    with contextlib.suppress(OSError):
        os.nice(limits.niceness)
    # A decoded picture's memory goes back to the system when it is freed, not to a heap that
    # keeps the largest one decoded so far (index/memory.py): readers run side by side.
    map_large_blocks()


def _attach(name: str | None) -> SharedMemory | None:
    if name is None:
        return None
    return SharedMemory(name=name)


def _ask_for_text(conn: Connection, block: memoryview | None) -> ReadText:
    """OCR for the document being extracted, answered by the indexer."""

    def read_text(image: Image.Image) -> str:
        _send(conn, ("ocr", image), block)
        kind, answer = conn.recv()
        if kind == "text":
            return answer
        if kind == "unavailable":
            raise DesktopSearchError(answer)  # extractors stop asking for this file
        raise RuntimeError(answer)

    return read_text
