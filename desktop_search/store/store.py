"""The SQLite metadata store: the source of truth for files, items and embeddings.

Vector index files are caches derived from this database. Every change to the embeddings of a
model bumps that model's *generation* in the same transaction, so a saved index can tell whether it
is still current (see ``vectors/index.py``).
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import sqlite_utils
from sqlite_utils.migrations import Migrations

from desktop_search.errors import StoreError, WriterLockedError
from desktop_search.platform import private
from desktop_search.store.moves import FileMoves
from desktop_search.store.objects import ObjectStore, create_object_tables
from desktop_search.store.pathnames import ESCAPE, from_db, name_keywords, to_db
from desktop_search.store.queue import WorkQueue, add_claims_column, create_queue_table
from desktop_search.store.reads import SearchReads
from desktop_search.store.records import FileState, PhotoRecord
from desktop_search.store.sql import chunks, now_text, under_folder
from desktop_search.store.texts import TextStore, create_text_tables
from desktop_search.store.vector_log import VectorLog, create_vector_log

log = logging.getLogger(__name__)

migrations = Migrations("desktop_search")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE files (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            root TEXT NOT NULL,
            kind TEXT NOT NULL,
            size INTEGER,
            mtime_ns INTEGER,
            content_hash TEXT,
            status TEXT NOT NULL,            -- indexed | failed
            error TEXT,                      -- why a failed file could not be indexed
            width INTEGER,
            height INTEGER,
            taken_at TEXT,                   -- ISO 8601, from EXIF
            camera TEXT,
            gps_lat REAL,
            gps_lon REAL,
            thumbnail TEXT,                  -- relative to the thumbnails folder
            updated_at TEXT NOT NULL
        );
        CREATE INDEX files_status ON files(status);
        CREATE INDEX files_content_hash ON files(content_hash);
        CREATE TABLE items (
            -- AUTOINCREMENT: an item id is never reused, so a stale vector index can never
            -- point at a different item than the one it was built for.
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,              -- photo (later: object, page, chunk, messages)
            locator TEXT                     -- JSON: where in the file (page, box, time range)
        );
        CREATE INDEX items_file ON items(file_id);
        CREATE TABLE embeddings (
            item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            vector BLOB NOT NULL,            -- float16, L2-normalised
            PRIMARY KEY (item_id, model)
        );
        CREATE INDEX embeddings_model ON embeddings(model);
        CREATE TABLE roots (path TEXT PRIMARY KEY, added_at TEXT NOT NULL);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """
    )


@migrations()
def m002_queue(db: sqlite_utils.Database) -> None:
    create_queue_table(db)


@migrations()
def m003_vector_log(db: sqlite_utils.Database) -> None:
    create_vector_log(db)


@migrations()
def m004_documents(db: sqlite_utils.Database) -> None:
    create_text_tables(db)


@migrations()
def m005_objects(db: sqlite_utils.Database) -> None:
    create_object_tables(db)


@migrations()
def m006_queue_claims(db: sqlite_utils.Database) -> None:
    add_claims_column(db)


# What earlier versions stored for a name that is not UTF-8: its \x spelling (not the real
# path, which SQLite could not hold), parked with this reason.
_OLD_REASON_NOT_UTF8 = "file name is not valid UTF-8 (rename the file to index it)"
_PATH_COLUMNS = {"files": ("path", "root"), "queue": ("path", "root"), "roots": ("path",)}


@migrations()
def m007_exact_path_names(db: sqlite_utils.Database) -> None:
    """Paths are stored through ``pathnames.to_db``: a literal U+FFFF is its escape character,
    doubled now. Files parked under their \\x spelling are dropped: the next scan finds them
    under their real name and indexes them (until then the doctor would call them gone)."""
    for table, columns in _PATH_COLUMNS.items():
        for column in columns:
            rows = db.execute(
                f"SELECT rowid, {column} FROM {table} WHERE instr({column}, ?)", [ESCAPE]
            ).fetchall()
            # Most escapes first: a value doubled then never meets one not yet doubled (it has
            # more escapes than any of those), so a unique column never sees a duplicate.
            rows.sort(key=lambda row: row[1].count(ESCAPE), reverse=True)
            for rowid, value in rows:
                db.execute(
                    f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                    [value.replace(ESCAPE, ESCAPE + ESCAPE), rowid],
                )
    db.execute("DELETE FROM files WHERE status = 'failed' AND error = ?", [_OLD_REASON_NOT_UTF8])


DROPPED_THUMBNAILS = "dropped:thumbnails"
DROPPED_TEXT = "dropped:text"


@migrations()
def m008_forgotten_data(db: sqlite_utils.Database) -> None:
    """Flags, set by triggers in the transaction that drops the data, that files left behind
    what must not outlive them: a thumbnail no row may use any more (a file forgotten, failed or
    changed), keyword-index entries of deleted items (FTS5 keeps a deleted row's words in its
    segments until they are merged). The writer cleans up after committing and clears the flag
    (``Store.take_flag``). A library that had data before gets both set: earlier versions
    never deleted either."""
    db.executescript(
        f"""
        CREATE TRIGGER files_thumbnail_dropped AFTER DELETE ON files
        WHEN old.thumbnail IS NOT NULL BEGIN
            INSERT OR IGNORE INTO meta(key, value) VALUES ('{DROPPED_THUMBNAILS}', '1');
        END;
        CREATE TRIGGER files_thumbnail_replaced AFTER UPDATE OF thumbnail ON files
        WHEN old.thumbnail IS NOT NULL AND old.thumbnail IS NOT new.thumbnail BEGIN
            INSERT OR IGNORE INTO meta(key, value) VALUES ('{DROPPED_THUMBNAILS}', '1');
        END;
        CREATE TRIGGER items_text_dropped AFTER DELETE ON items BEGIN
            INSERT OR IGNORE INTO meta(key, value) VALUES ('{DROPPED_TEXT}', '1');
        END;
        INSERT OR IGNORE INTO meta(key, value)
            SELECT '{DROPPED_THUMBNAILS}', '1' WHERE EXISTS (SELECT 1 FROM files);
        INSERT OR IGNORE INTO meta(key, value)
            SELECT '{DROPPED_TEXT}', '1' WHERE EXISTS (SELECT 1 FROM files);
        """
    )


SCHEMA_MIGRATIONS = [
    m001_initial.__name__, m002_queue.__name__, m003_vector_log.__name__, m004_documents.__name__,
    m005_objects.__name__, m006_queue_claims.__name__, m007_exact_path_names.__name__,
    m008_forgotten_data.__name__,
]  # fmt: skip


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


class Store(FileMoves, SearchReads, TextStore, ObjectStore):
    """One connection to the library database. Use one Store per thread."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.queue = WorkQueue(db)
        self.vector_log = VectorLog(db)

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
            cls._check_version(db, path)
            migrations.apply(db)
        except sqlite3.DatabaseError as error:
            raise StoreError(
                f"cannot open the library database {path}: {error}",
                hint="run 'desktop-search doctor' or move the file away to start a new library",
            ) from error
        return cls(db)

    @staticmethod
    def _check_version(db: sqlite_utils.Database, path: Path) -> None:
        applied = {m.name for m in migrations.applied(db)}
        unknown = applied - set(SCHEMA_MIGRATIONS)
        if unknown:
            raise StoreError(
                f"the library database {path} was written by a newer desktop-search "
                f"(schema steps {', '.join(sorted(unknown))})",
                hint="upgrade desktop-search",
            )

    def close(self) -> None:
        self.db.close()

    # -- roots ---------------------------------------------------------------------------

    # Paths go in and come out as in memory (a name that is not UTF-8 with its surrogates);
    # every statement spells them with to_db / from_db (store/pathnames.py).

    def add_roots(self, roots: Iterable[str]) -> None:
        with self.db.atomic():
            for root in roots:
                self.db.execute(
                    "INSERT OR IGNORE INTO roots(path, added_at) VALUES (?, ?)",
                    [to_db(root), now_text()],
                )

    def remove_root(self, root: str) -> None:
        with self.db.atomic():
            self.db.execute("DELETE FROM roots WHERE path = ?", [to_db(root)])

    def roots(self) -> list[str]:
        return [from_db(row[0]) for row in self.db.execute("SELECT path FROM roots ORDER BY path")]

    # -- files ---------------------------------------------------------------------------

    def file_states(self, under: str, model: str | None) -> dict[str, FileState]:
        """Every known file below folder ``under``, keyed by path."""
        condition, params = under_folder("f.path", under)
        return self._states(condition, params, model)

    def file_states_of(self, paths: list[str], model: str | None) -> dict[str, FileState]:
        """The known ones among ``paths``, keyed by path."""
        states: dict[str, FileState] = {}
        for chunk in chunks([to_db(path) for path in paths], 500):
            states |= self._states(f"f.path IN ({','.join('?' * len(chunk))})", chunk, model)
        return states

    def _states(self, condition: str, params: list, model: str | None) -> dict[str, FileState]:
        rows = self.db.execute(
            f"""
            SELECT f.id, f.path, f.size, f.mtime_ns, f.content_hash, f.status,
                   f.kind != 'photo' OR EXISTS (
                       SELECT 1 FROM items i JOIN embeddings e ON e.item_id = i.id
                       WHERE i.file_id = f.id AND e.model = ?),
                   f.thumbnail, f.kind, f.objects
            FROM files f
            WHERE {condition}
            """,
            [model, *params],
        )
        # Documents count as embedded: their passages are encoded by a pass of their own.
        states = (FileState(row[0], from_db(row[1]), *row[2:6], bool(row[6]), *row[7:])
                  for row in rows)  # fmt: skip
        return {state.path: state for state in states}

    def save_photos(
        self,
        photos: list[PhotoRecord],
        vectors: np.ndarray | list[np.ndarray | None] | None,
        model: str | None,
    ) -> tuple[list[int], list[int]]:
        """Insert or update photos, with their embeddings from ``model`` when given.

        A photo whose bytes did not change keeps its item (and other models' embeddings); one
        whose bytes changed gets a new item. Without vectors the photos are only catalogued
        (metadata and thumbnail) and wait for a model; a row of None keeps the photo's embedding
        as it is. One transaction for the whole batch.
        Returns (item ids, ids of dropped items of earlier versions of these files).
        """
        item_ids: list[int] = []
        replaced: list[int] = []
        rows = vectors if vectors is not None else [None] * len(photos)
        with self.db.atomic():
            for photo, vector in zip(photos, rows, strict=True):
                item_id, dropped = self._item_for(photo)
                replaced += dropped
                if vector is not None:
                    self.db.execute(
                        "INSERT OR REPLACE INTO embeddings(item_id, model, vector) "
                        "VALUES (?, ?, ?)",
                        [item_id, model, vector.astype(np.float16).tobytes()],
                    )
                item_ids.append(item_id)
            self.queue.discard(photo.path for photo in photos)
        return item_ids, replaced

    def _item_for(self, photo: PhotoRecord) -> tuple[int, list[int]]:
        """The item of ``photo`` after upserting its file row; (item id, dropped item ids)."""
        before = self.db.execute(
            "SELECT f.content_hash, i.id FROM files f JOIN items i ON i.file_id = f.id "
            "WHERE f.path = ? AND i.kind = 'photo'",
            [to_db(photo.path)],
        ).fetchall()
        file_id = self._upsert_file(photo)
        if len(before) == 1 and before[0][0] == photo.content_hash:
            return before[0][1], []
        dropped = [row[0] for row in self.db.execute(
            "SELECT id FROM items WHERE file_id = ?", [file_id])]  # fmt: skip
        self.db.execute("DELETE FROM items WHERE file_id = ?", [file_id])
        cursor = self.db.execute("INSERT INTO items(file_id, kind) VALUES (?, 'photo')", [file_id])
        self.index_text(cursor.lastrowid, name_keywords(photo.path), None, "")
        return cursor.lastrowid, dropped

    def _upsert_file(self, photo: PhotoRecord) -> int:
        lat, lon = photo.gps if photo.gps else (None, None)
        path = to_db(photo.path)
        values = [
            to_db(photo.root), "photo", photo.size, photo.mtime_ns, photo.content_hash,
            photo.width, photo.height, photo.taken_at, photo.camera, lat, lon,
            photo.thumbnail, now_text(), path,
        ]  # fmt: skip
        cursor = self.db.execute(
            """
            UPDATE files SET root=?, kind=?, size=?, mtime_ns=?, content_hash=?, status='indexed',
                error=NULL, width=?, height=?, taken_at=?, camera=?, gps_lat=?, gps_lon=?,
                thumbnail=?, updated_at=?, title=NULL,
                photo_text = CASE WHEN kind = 'photo' AND content_hash = ?5 THEN photo_text END,
                objects = CASE WHEN kind = 'photo' AND content_hash = ?5 THEN objects END
            WHERE path=?
            """,
            values,
        )
        if cursor.rowcount:
            return self.db.execute("SELECT id FROM files WHERE path=?", [path]).fetchone()[0]
        cursor = self.db.execute(
            """
            INSERT INTO files(root, kind, size, mtime_ns, content_hash, status, width, height,
                taken_at, camera, gps_lat, gps_lon, thumbnail, updated_at, path)
            VALUES (?, ?, ?, ?, ?, 'indexed', ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            values,
        )
        return cursor.lastrowid

    def record_failure(
        self, path: str, root: str, kind: str, size: int | None, mtime_ns: int | None, reason: str
    ) -> list[int]:
        """Mark ``path`` failed with ``reason``; its old items (if any) go. Returns their ids."""
        with self.db.atomic():
            removed = self._item_ids_of_paths([path])
            self.db.execute(
                """
                INSERT INTO files(path, root, kind, size, mtime_ns, status, error, updated_at)
                VALUES (?, ?, ?, ?, ?, 'failed', ?, ?)
                ON CONFLICT(path) DO UPDATE SET root=excluded.root, kind=excluded.kind,
                    size=excluded.size, mtime_ns=excluded.mtime_ns, content_hash=NULL,
                    status='failed', error=excluded.error, thumbnail=NULL,
                    updated_at=excluded.updated_at
                """,
                [to_db(path), to_db(root), kind, size, mtime_ns, reason, now_text()],
            )
            self.db.execute(
                "DELETE FROM items WHERE file_id = (SELECT id FROM files WHERE path = ?)",
                [to_db(path)],
            )
            self.queue.discard([path])
        return removed

    def retry_failed(self) -> int:
        """Make every parked file look changed, so the next reconcile queues it again with
        fresh attempts; returns how many."""
        with self.db.atomic():
            return self.db.execute(
                "UPDATE files SET size = NULL, mtime_ns = NULL WHERE status = 'failed'"
            ).rowcount

    def touch(self, file_id: int, size: int, mtime_ns: int) -> None:
        """Record a new size/mtime for a file whose content did not change."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE files SET size=?, mtime_ns=?, updated_at=? WHERE id=?",
                [size, mtime_ns, now_text(), file_id],
            )
            self.db.execute(
                "DELETE FROM queue WHERE path = (SELECT path FROM files WHERE id = ?)", [file_id]
            )

    def remove_paths(self, paths: list[str]) -> list[int]:
        """Forget files (and their items and embeddings); return the removed item ids."""
        if not paths:
            return []
        with self.db.atomic():
            removed = self._item_ids_of_paths(paths)
            for chunk in chunks([to_db(path) for path in paths], 500):
                marks = ",".join("?" * len(chunk))
                self.db.execute(f"DELETE FROM files WHERE path IN ({marks})", chunk)
            self.queue.discard(paths)
        return removed

    def remove_under(self, folder: str) -> list[int]:
        """Forget every file below ``folder`` (deleted or moved out of sight)."""
        condition, params = under_folder("path", folder)
        paths = [
            from_db(row[0])
            for row in self.db.execute(f"SELECT path FROM files WHERE {condition}", params)
        ]
        with self.db.atomic():
            removed = self.remove_paths(paths)
            self.queue.discard_under(folder)
        return removed

    def _item_ids_of_paths(self, paths: list[str]) -> list[int]:
        ids: list[int] = []
        for chunk in chunks([to_db(path) for path in paths], 500):
            marks = ",".join("?" * len(chunk))
            ids += [
                row[0]
                for row in self.db.execute(
                    f"SELECT i.id FROM items i JOIN files f ON f.id = i.file_id "
                    f"WHERE f.path IN ({marks})",
                    chunk,
                )
            ]
        return ids

    # -- embeddings and generations ------------------------------------------------------

    def embeddings(self, model: str) -> tuple[np.ndarray, np.ndarray]:
        """All (item ids, float32 vectors) of ``model``, for rebuilding a vector index."""
        ids, blobs = [], []
        for item_id, blob in self.db.execute(
            "SELECT item_id, vector FROM embeddings WHERE model = ? ORDER BY item_id", [model]
        ):
            ids.append(item_id)
            blobs.append(blob)
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        vectors = np.frombuffer(b"".join(blobs), dtype=np.float16).reshape(len(ids), -1)
        return np.asarray(ids, dtype=np.int64), vectors.astype(np.float32)

    def embedding_count(self, model: str) -> int:
        return self.db.execute(
            "SELECT count(*) FROM embeddings WHERE model = ?", [model]
        ).fetchone()[0]

    def generation(self, model: str) -> int:
        """Changes with every change to the model's embeddings (see ``store/vector_log.py``)."""
        return self.vector_log.generation(model)

    def invalidate_vector_files(self) -> None:
        """Embeddings changed behind the log's back (doctor's repairs): rebuild every index."""
        self.vector_log.invalidate_all()

    def embeddings_of(self, item_ids: list[int], model: str) -> dict[int, np.ndarray]:
        """The float32 vectors of those of ``item_ids`` that have one from ``model``."""
        found: dict[int, np.ndarray] = {}
        for chunk in chunks(item_ids, 500):
            marks = ",".join("?" * len(chunk))
            for item_id, blob in self.db.execute(
                f"SELECT item_id, vector FROM embeddings WHERE model = ? AND item_id IN ({marks})",
                [model, *chunk],
            ):
                found[item_id] = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
        return found

    # -- what forgotten data leaves behind ------------------------------------------------

    def flagged(self, key: str) -> bool:
        """Whether a trigger recorded a drop of this kind (``DROPPED_THUMBNAILS``,
        ``DROPPED_TEXT``) that no clean-up has followed yet."""
        return self.meta(key) is not None

    def clear_flag(self, key: str) -> None:
        """The clean-up of ``key`` is done (cleared after it: a crash meanwhile redoes it)."""
        with self.db.atomic():
            self.db.execute("DELETE FROM meta WHERE key = ?", [key])

    def thumbnails_in_use(self) -> set[str]:
        """Every thumbnail a file row names (relative to the thumbnails folder)."""
        rows = self.db.execute("SELECT thumbnail FROM files WHERE thumbnail IS NOT NULL")
        return {row[0] for row in rows}

    def purge_deleted_text(self) -> None:
        """Rewrite the keyword index without the words of deleted items. FTS5 (SQLite 3.40 has
        no 'secure-delete' option) records a deletion as a new entry and keeps the old words
        in their segment until it is merged; 'optimize' merges every segment into one, and
        secure_delete zeroes the pages it frees. It rewrites the whole index: 0.7-1.3 s at
        20k passages of 200 words, 3-8 s at 100k (a 339 MB database; benchmarks/private_data.py,
        three runs on a shared 2-core machine)."""
        with self.db.atomic():
            self.db.execute("INSERT INTO item_text(item_text) VALUES ('optimize')")
            self.db.execute("DELETE FROM meta WHERE key = ?", [DROPPED_TEXT])

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
