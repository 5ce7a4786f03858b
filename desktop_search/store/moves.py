"""Moves, renames and copies in the store: bytes already indexed are never encoded again.

A mixin of ``Store`` (same connection and transactions), kept apart to keep each file short.
"""

from __future__ import annotations

import numpy as np

from desktop_search.store.pathnames import from_db, name_keywords, to_db
from desktop_search.store.sql import now_text, under_folder


class FileMoves:
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
            self.rename_in_text_index(destination)
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
            self.index_text(item_id, name_keywords(path), None, "")
            object_ids = self.copy_objects(source_file, file_id)
            self.queue.discard([path])
        return [item_id, *object_ids], replaced

    def paths_with_hash(self, content_hash: str) -> list[str]:
        rows = self.db.execute(
            "SELECT path FROM files WHERE content_hash = ? AND status = 'indexed'", [content_hash]
        )
        return [from_db(row[0]) for row in rows]

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
        self.db.execute("DELETE FROM files WHERE path = ?", [to_db(path)])
        return replaced
