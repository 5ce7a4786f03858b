"""The SQLite metadata store: the source of truth for files, items and embeddings.

Vector index files are caches derived from this database. Every change to the embeddings of a
model bumps that model's *generation* in the same transaction, so a saved index can tell whether it
is still current (see ``core/vectors.py``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sqlite_utils
from sqlite_utils.migrations import Migrations

from desktop_search.core.items import FileState, PhotoRecord
from desktop_search.core.queue import WorkQueue, create_queue_table
from desktop_search.core.sqlpaths import escape_like, under_folder
from desktop_search.errors import StoreError

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


SCHEMA_MIGRATIONS = [m001_initial.__name__, m002_queue.__name__]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    """One connection to the library database. Use one Store per thread."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.queue = WorkQueue(db)

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open (creating and migrating as needed) the database at ``path``."""
        try:
            connection = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
            db = sqlite_utils.Database(connection)
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable across application crashes in WAL mode; only an OS crash can
            # lose the last transactions, never corrupt the file.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
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

    def add_roots(self, roots: Iterable[str]) -> None:
        with self.db.atomic():
            for root in roots:
                self.db.execute(
                    "INSERT OR IGNORE INTO roots(path, added_at) VALUES (?, ?)", [root, _now()]
                )

    def remove_root(self, root: str) -> None:
        with self.db.atomic():
            self.db.execute("DELETE FROM roots WHERE path = ?", [root])

    def roots(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT path FROM roots ORDER BY path")]

    # -- files ---------------------------------------------------------------------------

    def file_states(self, under: str, model: str | None) -> dict[str, FileState]:
        """Every known file below folder ``under``, keyed by path."""
        condition, params = under_folder("f.path", under)
        return self._states(condition, params, model)

    def file_states_of(self, paths: list[str], model: str | None) -> dict[str, FileState]:
        """The known ones among ``paths``, keyed by path."""
        states: dict[str, FileState] = {}
        for chunk in _chunks(paths, 500):
            states |= self._states(f"f.path IN ({','.join('?' * len(chunk))})", chunk, model)
        return states

    def _states(self, condition: str, params: list, model: str | None) -> dict[str, FileState]:
        rows = self.db.execute(
            f"""
            SELECT f.id, f.path, f.size, f.mtime_ns, f.content_hash, f.status,
                   EXISTS (SELECT 1 FROM items i JOIN embeddings e ON e.item_id = i.id
                           WHERE i.file_id = f.id AND e.model = ?), f.thumbnail
            FROM files f
            WHERE {condition}
            """,
            [model, *params],
        )
        return {row[1]: FileState(*row[:6], bool(row[6]), row[7]) for row in rows}

    def save_photos(
        self, photos: list[PhotoRecord], vectors: np.ndarray | None, model: str | None
    ) -> tuple[list[int], list[int]]:
        """Insert or update photos, with their embeddings from ``model`` when given.

        A photo whose bytes did not change keeps its item (and other models' embeddings); one
        whose bytes changed gets a new item. Without vectors the photos are only catalogued
        (metadata and thumbnail) and wait for a model. One transaction for the whole batch.
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
            if replaced:
                self._bump_all_generations()
            if vectors is not None:
                self._bump_generation(model)
            self.queue.discard(photo.path for photo in photos)
        return item_ids, replaced

    def _item_for(self, photo: PhotoRecord) -> tuple[int, list[int]]:
        """The item of ``photo`` after upserting its file row; (item id, dropped item ids)."""
        before = self.db.execute(
            "SELECT f.content_hash, i.id FROM files f JOIN items i ON i.file_id = f.id "
            "WHERE f.path = ?",
            [photo.path],
        ).fetchall()
        file_id = self._upsert_file(photo)
        if len(before) == 1 and before[0][0] == photo.content_hash:
            return before[0][1], []
        self.db.execute("DELETE FROM items WHERE file_id = ?", [file_id])
        cursor = self.db.execute("INSERT INTO items(file_id, kind) VALUES (?, 'photo')", [file_id])
        return cursor.lastrowid, [row[1] for row in before]

    def _upsert_file(self, photo: PhotoRecord) -> int:
        lat, lon = photo.gps if photo.gps else (None, None)
        values = [
            photo.root, "photo", photo.size, photo.mtime_ns, photo.content_hash,
            photo.width, photo.height, photo.taken_at, photo.camera, lat, lon,
            photo.thumbnail, _now(), photo.path,
        ]  # fmt: skip
        cursor = self.db.execute(
            """
            UPDATE files SET root=?, kind=?, size=?, mtime_ns=?, content_hash=?, status='indexed',
                error=NULL, width=?, height=?, taken_at=?, camera=?, gps_lat=?, gps_lon=?,
                thumbnail=?, updated_at=?
            WHERE path=?
            """,
            values,
        )
        if cursor.rowcount:
            return self.db.execute("SELECT id FROM files WHERE path=?", [photo.path]).fetchone()[0]
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
                [path, root, kind, size, mtime_ns, reason, _now()],
            )
            self.db.execute(
                "DELETE FROM items WHERE file_id = (SELECT id FROM files WHERE path = ?)", [path]
            )
            if removed:
                self._bump_all_generations()
            self.queue.discard([path])
        return removed

    def touch(self, file_id: int, size: int, mtime_ns: int) -> None:
        """Record a new size/mtime for a file whose content did not change."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE files SET size=?, mtime_ns=?, updated_at=? WHERE id=?",
                [size, mtime_ns, _now(), file_id],
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
            for chunk in _chunks(paths, 500):
                marks = ",".join("?" * len(chunk))
                self.db.execute(f"DELETE FROM files WHERE path IN ({marks})", chunk)
            if removed:
                self._bump_all_generations()
            self.queue.discard(paths)
        return removed

    def remove_under(self, folder: str) -> list[int]:
        """Forget every file below ``folder`` (deleted or moved out of sight)."""
        condition, params = under_folder("path", folder)
        paths = [
            row[0] for row in self.db.execute(f"SELECT path FROM files WHERE {condition}", params)
        ]
        with self.db.atomic():
            removed = self.remove_paths(paths)
            self.queue.discard_under(folder)
        return removed

    # -- moves and copies: no re-encoding for bytes already indexed ----------------------

    def move_file(self, source: str, destination: str, root: str) -> tuple[bool, list[int]]:
        """A file was renamed or moved: its items and embeddings follow it.

        Returns (whether ``source`` was known, ids of items dropped because ``destination`` was
        indexed as another file before).
        """
        with self.db.atomic():
            known = self.db.execute("SELECT 1 FROM files WHERE path = ?", [source]).fetchone()
            if not known:  # e.g. moved already along with its folder
                return False, []
            replaced = self._forget_other(destination, keep=source)
            cursor = self.db.execute(
                "UPDATE files SET path = ?, root = ?, updated_at = ? WHERE path = ?",
                [destination, root, _now(), source],
            )
            self.queue.move(source, destination, root)
        return bool(cursor.rowcount), replaced

    def move_folder(self, source: str, destination: str, root: str) -> tuple[int, list[int]]:
        """A folder was renamed or moved: every file below follows. Returns (moved, dropped)."""
        source, destination = source.rstrip("/\\"), destination.rstrip("/\\")
        condition, params = under_folder("path", source)
        with self.db.atomic():
            replaced = self.remove_under(destination) if destination != source else []
            cursor = self.db.execute(
                f"UPDATE files SET path = ? || substr(path, ?), root = ?, updated_at = ? "
                f"WHERE {condition}",
                [destination, len(source) + 1, root, _now(), *params],
            )
            self.queue.move_folder(source, destination, root)
        return cursor.rowcount, replaced

    def hashes_with_embedding(self, model: str | None) -> set[str]:
        """Content hashes already indexed (with an embedding from ``model``, when given)."""
        if model is None:
            sql = ("SELECT DISTINCT f.content_hash FROM files f JOIN items i ON i.file_id = f.id "
                   "WHERE f.status = 'indexed'")  # fmt: skip
            return {row[0] for row in self.db.execute(sql)}
        sql = ("SELECT DISTINCT f.content_hash FROM files f JOIN items i ON i.file_id = f.id "
               "JOIN embeddings e ON e.item_id = i.id WHERE e.model = ?")  # fmt: skip
        return {row[0] for row in self.db.execute(sql, [model])}

    def copy_photo(
        self, content_hash: str, path: str, root: str, size: int, mtime_ns: int, model: str | None
    ) -> tuple[int, list[int]] | None:
        """Index ``path`` as a copy of an indexed file with the same bytes: metadata,
        thumbnail and every model's embedding are copied. Returns (new item id, dropped item
        ids), or None when no indexed file has those bytes (any more)."""
        with self.db.atomic():
            source = self.db.execute(
                "SELECT f.id, i.id FROM files f JOIN items i ON i.file_id = f.id "
                "WHERE f.content_hash = ? AND f.status = 'indexed' AND f.path != ? "
                "ORDER BY EXISTS (SELECT 1 FROM embeddings e WHERE e.item_id = i.id "
                "AND e.model = ?) DESC LIMIT 1",
                [content_hash, path, model],
            ).fetchone()
            if source is None:
                return None
            source_file, source_item = source
            replaced = self._forget_other(path, keep=None)
            file_id = self.db.execute(
                """
                INSERT INTO files(path, root, kind, size, mtime_ns, content_hash, status, width,
                    height, taken_at, camera, gps_lat, gps_lon, thumbnail, updated_at)
                SELECT ?, ?, kind, ?, ?, content_hash, 'indexed', width, height, taken_at, camera,
                    gps_lat, gps_lon, thumbnail, ? FROM files WHERE id = ?
                """,
                [path, root, size, mtime_ns, _now(), source_file],
            ).lastrowid
            item_id = self.db.execute(
                "INSERT INTO items(file_id, kind, locator) SELECT ?, kind, locator FROM items "
                "WHERE id = ?",
                [file_id, source_item],
            ).lastrowid
            models = self.db.execute(
                "INSERT INTO embeddings(item_id, model, vector) "
                "SELECT ?, model, vector FROM embeddings WHERE item_id = ? RETURNING model",
                [item_id, source_item],
            ).fetchall()
            for (model,) in models:
                self._bump_generation(model)
            if replaced:
                self._bump_all_generations()
            self.queue.discard([path])
        return item_id, replaced

    def vector_of(self, item_id: int, model: str) -> np.ndarray | None:
        row = self.db.execute(
            "SELECT vector FROM embeddings WHERE item_id = ? AND model = ?", [item_id, model]
        ).fetchone()
        return np.frombuffer(row[0], dtype=np.float16).astype(np.float32) if row else None

    def _forget_other(self, path: str, keep: str | None) -> list[int]:
        """Delete the row of ``path`` (unless it is ``keep``) before another file takes its name."""
        if path == keep:
            return []
        replaced = self._item_ids_of_paths([path])
        self.db.execute("DELETE FROM files WHERE path = ?", [path])
        if replaced:
            self._bump_all_generations()
        return replaced

    def _item_ids_of_paths(self, paths: list[str]) -> list[int]:
        ids: list[int] = []
        for chunk in _chunks(paths, 500):
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
        row = self.db.execute(
            "SELECT value FROM meta WHERE key = ?", [f"generation:{model}"]
        ).fetchone()
        return int(row[0]) if row else 0

    def _bump_generation(self, model: str) -> None:
        self.db.execute(
            """
            INSERT INTO meta(key, value) VALUES (?, '1')
            ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1
            """,
            [f"generation:{model}"],
        )

    def _bump_all_generations(self) -> None:
        # Removing items changes every model's index that held them.
        models = [row[0] for row in self.db.execute("SELECT DISTINCT model FROM embeddings")]
        models += [
            row[0][len("generation:") :]
            for row in self.db.execute("SELECT key FROM meta WHERE key LIKE 'generation:%'")
        ]
        for model in set(models):
            self._bump_generation(model)

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

    # -- reading for search and status ---------------------------------------------------

    def hits(self, item_ids: list[int]) -> dict[int, dict]:
        """File metadata for items, keyed by item id."""
        found: dict[int, dict] = {}
        for chunk in _chunks(item_ids, 500):
            marks = ",".join("?" * len(chunk))
            cursor = self.db.execute(
                f"""
                SELECT i.id AS item_id, i.kind AS item_kind, i.locator, f.id AS file_id, f.path,
                       f.kind, f.size, f.width, f.height, f.taken_at, f.camera, f.thumbnail
                FROM items i JOIN files f ON f.id = i.file_id WHERE i.id IN ({marks})
                """,
                chunk,
            )
            columns = [c[0] for c in cursor.description]
            for row in cursor:
                record = dict(zip(columns, row, strict=True))
                found[record["item_id"]] = record
        return found

    def counts(self) -> list[dict]:
        cursor = self.db.execute(
            "SELECT kind, status, count(*) FROM files GROUP BY kind, status ORDER BY kind, status"
        )
        return [{"kind": kind, "status": status, "count": n} for kind, status, n in cursor]

    def failures(self) -> Iterator[tuple[str, str]]:
        yield from self.db.execute(
            "SELECT path, error FROM files WHERE status = 'failed' ORDER BY path"
        )

    def pending_count(self, model: str | None) -> int:
        """Catalogued photos that have no embedding from ``model`` (all of them without one)."""
        return self.db.execute(
            """
            SELECT count(*) FROM files f WHERE f.status = 'indexed' AND NOT EXISTS (
                SELECT 1 FROM items i JOIN embeddings e ON e.item_id = i.id
                WHERE i.file_id = f.id AND e.model = ?)
            """,
            [model],
        ).fetchone()[0]

    def match_paths(self, words: list[str], limit: int) -> list[dict]:
        """Indexed files whose path contains every word (case-insensitive), best names first.

        The fallback search while no model is installed: names and folders are all there is.
        """
        if not words:
            return []
        where = " AND ".join("f.path LIKE ? ESCAPE '\\'" for _ in words)
        patterns = [f"%{escape_like(word)}%" for word in words]
        cursor = self.db.execute(
            f"""
            SELECT i.id AS item_id, f.id AS file_id, f.path, f.kind, f.size, f.width, f.height,
                   f.taken_at, f.camera, f.thumbnail
            FROM files f JOIN items i ON i.file_id = f.id
            WHERE f.status = 'indexed' AND {where}
            ORDER BY f.path LIMIT ?
            """,
            [*patterns, limit * 5],
        )
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor]

    def item_id_of_path(self, path: str) -> int | None:
        row = self.db.execute(
            "SELECT i.id FROM items i JOIN files f ON f.id = i.file_id WHERE f.path = ?", [path]
        ).fetchone()
        return row[0] if row else None


def _chunks(values: list, size: int) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
