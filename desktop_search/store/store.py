"""The SQLite metadata store: the source of truth for files, items and embeddings.

``Store`` opens the database (creating and migrating it: ``schema.py``) and holds its parts,
each one job over the same connection: ``files`` (file rows, photos, failures, moves and
copies, forgetting), ``texts`` (documents, passages, the keyword index), ``objects`` (detected
objects), ``embeddings`` (vectors per model), ``reads`` (what search and status read),
``checks`` (what the doctor asks), ``queue`` (files waiting to be indexed) and ``vector_log``
(which embeddings changed). The store itself keeps what belongs to no table of its own: the
shared values in ``meta`` and the flags set there, generations, the write-ahead log and
transactions spanning parts.

Vector index files are caches derived from this database. Every change to the embeddings of a
model bumps that model's *generation* in the same transaction, so a saved index can tell whether it
is still current (see ``vectors/index.py``).
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from desktop_search.errors import StoreError, WriterLockedError
from desktop_search.platform import private
from desktop_search.store.checks import Checks
from desktop_search.store.embeddings import Embeddings
from desktop_search.store.files import FileRows
from desktop_search.store.objects import ObjectItems
from desktop_search.store.queue import WorkQueue
from desktop_search.store.reads import SearchReads
from desktop_search.store.schema import migrate
from desktop_search.store.texts import TextItems
from desktop_search.store.vector_log import VectorLog

log = logging.getLogger(__name__)


# Deleted content overwritten. Its cost, benchmarks/private_data.py (benchmarks/README.md), the
# store alone (nothing but database writes: the worst case), medians of 7: +2% saving 1,000
# documents, +6% replacing a third, +22% forgetting them (another run: +10%, +6%, +16%);
# Library.index without a model, end to end: within the noise (0.94x indexing 1,300 files,
# 0.97x a re-index, 1.11x forgetting the folder). ON rather than FAST (free): FAST leaves
# whole freed pages as they were: a forgotten folder's rows, a merged keyword-index segment.
SECURE_DELETE = "ON"
# SQLite's default: the -wal file keeps its size when the log restarts, so old frames past the
# new ones stay in it until overwritten. journal_size_limit=0 would cut it at every restart but
# costs +23% / +27% / +46% in the store benchmark above (another run: +32%, +25%, +50%);
# instead the writer empties the log after cleaning up what forgotten files left
# (Library.clean_up, Store.truncate_log).
WAL_SIZE_LIMIT = -1

_LIBRARY_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EIO}


def is_library_problem(error: BaseException) -> bool:
    """Whether ``error`` is a problem of the library itself, which stops a run with its own
    message: the database cannot be written or read (disk full, read-only, locked, damaged) or
    the disk fails. Anything else raised while handling one file is that file's failure."""
    if isinstance(error, StoreError | WriterLockedError):
        return True
    if isinstance(error, sqlite3.IntegrityError | sqlite3.InterfaceError | sqlite3.DataError):
        return False  # about the values of one file's rows
    if isinstance(error, sqlite3.DatabaseError):  # OperationalError: locked, full, I/O, damaged
        return True
    return isinstance(error, OSError) and error.errno in _LIBRARY_ERRNOS


class Store:
    """One connection to the library database and its parts. Use one Store per thread.

    A part's write that takes its own transaction (``db.atomic()``) nests as a savepoint in an
    enclosing ``transaction()``, so writes through several parts commit together or not at all.
    """

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.queue = WorkQueue(db)
        self.vector_log = VectorLog(db)
        self.texts = TextItems(db, self.queue)
        self.objects = ObjectItems(db, self.texts)
        self.files = FileRows(db, self.queue, self.texts, self.objects)
        self.embeddings = Embeddings(db)
        self.reads = SearchReads(db)
        self.checks = Checks(db)

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open (creating and migrating as needed) the database at ``path``."""
        try:
            # Private before SQLite creates it: SQLite gives the -wal and -shm files the main
            # file's permissions. An existing file is used as it is (doctor reports an open one).
            private.create_file(path)
        except OSError as error:
            raise StoreError(
                f"cannot create the library database {path}: {error.strerror or error}",
                hint="check that the library folder is writable",
            ) from error
        try:
            # Autocommit: a statement outside ``db.atomic()`` commits at once. With Python's
            # default, a stray write opened a transaction that every later atomic() nested into
            # as a savepoint and that nothing committed: a crash (or exit) lost all of it.
            connection = sqlite3.connect(
                str(path), timeout=30, check_same_thread=False, isolation_level=None
            )
            db = sqlite_utils.Database(connection)
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable across application crashes in WAL mode; only an OS crash can
            # lose the last transactions, never corrupt the file.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            # Deleted rows and freed pages are overwritten with zeros, so a forgotten file's
            # text, senders and GPS do not stay readable in the file's free space.
            db.execute(f"PRAGMA secure_delete={SECURE_DELETE}")
            db.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            migrate(db, path)
        except sqlite3.DatabaseError as error:
            raise StoreError(
                f"cannot open the library database {path}: {error}",
                hint="run 'desktop-search doctor' or move the file away to start a new library",
            ) from error
        return cls(db)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """One transaction over every part (nested: a savepoint): all of it commits, or none."""
        with self.db.atomic():
            yield self

    @property
    def in_transaction(self) -> bool:
        return self.db.conn.in_transaction

    # -- generations ---------------------------------------------------------------------

    def generation(self, model: str) -> int:
        """Changes with every change to the model's embeddings (see ``store/vector_log.py``)."""
        return self.vector_log.generation(model)

    def invalidate_vector_files(self) -> None:
        """Embeddings changed behind the log's back (doctor's repairs): rebuild every index."""
        self.vector_log.invalidate_all()

    # -- what forgotten data leaves behind ------------------------------------------------

    def flagged(self, key: str) -> bool:
        """Whether a trigger recorded a drop of this kind (``schema.DROPPED_THUMBNAILS``,
        ``schema.DROPPED_TEXT``) that no clean-up has followed yet."""
        return self.meta(key) is not None

    def clear_flag(self, key: str) -> None:
        """The clean-up of ``key`` is done (cleared after it: a crash meanwhile redoes it)."""
        with self.db.atomic():
            self.db.execute("DELETE FROM meta WHERE key = ?", [key])

    def truncate_log(self) -> bool:
        """Copy the write-ahead log into the database and empty it (what it held of deleted
        rows goes with it); False when a reader's snapshot kept part of it (it goes at the
        next restart of the log)."""
        busy, _, _ = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return not busy

    # -- small shared values -------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
