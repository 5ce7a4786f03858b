"""File rows: the store's ``files`` part. The folders indexed (roots), what is known of each
file, photos saved with their embedding, failures, moves and copies (bytes already indexed are
never encoded again), and forgetting files.

Paths go in and come out as in memory (a name that is not UTF-8 with its surrogates); every
statement spells them with ``to_db`` / ``from_db`` (``store/pathnames.py``). A file's items go
with it (``ON DELETE CASCADE``), and with them their embeddings and keyword rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import sqlite_utils

from desktop_search.store.objects import ObjectItems
from desktop_search.store.pathnames import from_db, name_keywords, to_db
from desktop_search.store.queue import WorkQueue
from desktop_search.store.records import FileState, PhotoRecord
from desktop_search.store.sql import chunks, item_ids_of_paths, now_text, under_folder, vector_blob
from desktop_search.store.texts import TextItems


@dataclass(frozen=True)
class FileThumbnail:
    """A file row that names a thumbnail (relative to the thumbnails folder)."""

    path: str
    root: str
    thumbnail: str


class FileRows:
    """File rows on the store's connection. Saving a file's outcome also takes it off the queue
    and writes its keyword rows (``texts``), in the same transaction."""

    def __init__(
        self, db: sqlite_utils.Database, queue: WorkQueue, texts: TextItems, objects: ObjectItems
    ) -> None:
        self.db = db
        self.queue = queue
        self.texts = texts
        self.objects = objects

    # -- roots ---------------------------------------------------------------------------

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

    # -- what is known of files ----------------------------------------------------------

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

    def paths(self) -> list[str]:
        """Every file the library knows (indexed or failed)."""
        return [from_db(row[0]) for row in self.db.execute("SELECT path FROM files")]

    def hashes_with_embedding(self, model: str | None) -> set[str]:
        """Content hashes already indexed: photos with an embedding from ``model`` (when
        given), and every document (a document with known bytes was moved, or is a copy that
        gets read; its passages are encoded apart)."""
        documents = ("SELECT content_hash FROM files WHERE status = 'indexed' "
                     "AND kind != 'photo' AND content_hash IS NOT NULL")  # fmt: skip
        if model is None:
            sql = ("SELECT DISTINCT f.content_hash FROM files f JOIN items i ON i.file_id = f.id "
                   f"WHERE f.status = 'indexed' AND f.kind = 'photo' "
                   f"UNION {documents}")  # fmt: skip
            return {row[0] for row in self.db.execute(sql)}
        sql = ("SELECT DISTINCT f.content_hash FROM files f JOIN items i ON i.file_id = f.id "
               "JOIN embeddings e ON e.item_id = i.id WHERE e.model = ? AND f.kind = 'photo' "
               f"AND i.kind = 'photo' UNION {documents}")  # fmt: skip
        return {row[0] for row in self.db.execute(sql, [model])}

    def paths_with_hash(self, content_hash: str) -> list[str]:
        rows = self.db.execute(
            "SELECT path FROM files WHERE content_hash = ? AND status = 'indexed'", [content_hash]
        )
        return [from_db(row[0]) for row in rows]

    def thumbnails_in_use(self) -> set[str]:
        """Every thumbnail a file row names (relative to the thumbnails folder)."""
        rows = self.db.execute("SELECT thumbnail FROM files WHERE thumbnail IS NOT NULL")
        return {row[0] for row in rows}

    def with_thumbnails(self) -> list[FileThumbnail]:
        """Every file row that names a thumbnail, with its root (to queue it again)."""
        rows = self.db.execute(
            "SELECT path, root, thumbnail FROM files WHERE thumbnail IS NOT NULL"
        )
        return [FileThumbnail(from_db(path), from_db(root), name) for path, root, name in rows]

    # -- photos --------------------------------------------------------------------------

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
                        [item_id, model, vector_blob(vector)],
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
        self.texts.index_text(cursor.lastrowid, name_keywords(photo.path), None, "")
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

    def copy_photo(
        self, content_hash: str, path: str, root: str, size: int, mtime_ns: int, model: str | None
    ) -> tuple[list[int], list[int]] | None:
        """Index ``path`` as a copy of an indexed photo with the same bytes: metadata,
        thumbnail, detected objects and every model's embedding are copied (the text read in it
        is read again). Returns (new item ids: the photo's first, dropped item ids), or None when
        no indexed photo has those bytes (any more)."""
        with self.db.atomic():
            source = self.db.execute(
                "SELECT f.id, i.id FROM files f JOIN items i ON i.file_id = f.id "
                "WHERE f.content_hash = ? AND f.status = 'indexed' AND f.path != ? "
                "AND f.kind = 'photo' AND i.kind = 'photo' "
                "ORDER BY EXISTS (SELECT 1 FROM embeddings e WHERE e.item_id = i.id "
                "AND e.model = ?) DESC LIMIT 1",
                [content_hash, to_db(path), model],
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
                [to_db(path), to_db(root), size, mtime_ns, now_text(), source_file],
            ).lastrowid
            item_id = self.db.execute(
                "INSERT INTO items(file_id, kind, locator) SELECT ?, kind, locator FROM items "
                "WHERE id = ?",
                [file_id, source_item],
            ).lastrowid
            self.db.execute(
                "INSERT INTO embeddings(item_id, model, vector) "
                "SELECT ?, model, vector FROM embeddings WHERE item_id = ?",
                [item_id, source_item],
            )
            self.texts.index_text(item_id, name_keywords(path), None, "")
            object_ids = self.objects.copy_objects(source_file, file_id)
            self.queue.discard([path])
        return [item_id, *object_ids], replaced

    # -- failures and changes ------------------------------------------------------------

    def record_failure(
        self, path: str, root: str, kind: str, size: int | None, mtime_ns: int | None, reason: str
    ) -> list[int]:
        """Mark ``path`` failed with ``reason``; its old items (if any) go. Returns their ids."""
        with self.db.atomic():
            removed = item_ids_of_paths(self.db, [path])
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

    def mark_changed(self, paths: Iterable[str]) -> None:
        """Forget what makes these files look unchanged (size and content hash), so they are
        read again as a whole rather than kept or copied (inside the caller's transaction)."""
        self.db.conn.executemany(
            "UPDATE files SET size = NULL, content_hash = NULL WHERE path = ?",
            [(to_db(path),) for path in paths],
        )

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

    # -- moves and renames ---------------------------------------------------------------

    def move_file(self, source: str, destination: str, root: str) -> tuple[bool, list[int]]:
        """A file was renamed or moved: its items and embeddings follow it.

        Returns (whether ``source`` was known, ids of items dropped because ``destination`` was
        indexed as another file before).
        """
        with self.db.atomic():
            known = self.db.execute(
                "SELECT 1 FROM files WHERE path = ?", [to_db(source)]
            ).fetchone()
            if not known:  # e.g. moved already along with its folder
                return False, []
            replaced = self._forget_other(destination, keep=source)
            cursor = self.db.execute(
                "UPDATE files SET path = ?, root = ?, updated_at = ? WHERE path = ?",
                [to_db(destination), to_db(root), now_text(), to_db(source)],
            )
            self.texts.rename_in_text_index(destination)
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
                [to_db(destination), len(to_db(source)) + 1, to_db(root), now_text(), *params],
            )
            self.queue.move_folder(source, destination, root)
        return cursor.rowcount, replaced

    def _forget_other(self, path: str, keep: str | None) -> list[int]:
        """Delete the row of ``path`` (unless it is ``keep``) before another file takes its name."""
        if path == keep:
            return []
        replaced = item_ids_of_paths(self.db, [path])
        self.db.execute("DELETE FROM files WHERE path = ?", [to_db(path)])
        return replaced

    # -- forgetting ----------------------------------------------------------------------

    def remove_paths(self, paths: list[str]) -> list[int]:
        """Forget files (and their items and embeddings); return the removed item ids."""
        if not paths:
            return []
        with self.db.atomic():
            removed = item_ids_of_paths(self.db, paths)
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
