"""Documents, passages, text read in photos and the keyword index: the store's ``texts`` part.

Every item has a row in the FTS5 table ``item_text`` (rowid = item id): the file's name, a
title (subject, chat name, PDF title) and the item's text. Deleting an item deletes its row by
trigger (``schema.m004_documents``), so no code path (cascades from removed files included) can
leave a stale one. The other parts that add items (files, objects) write their keyword rows
through ``index_text``.
"""

from __future__ import annotations

import json

import numpy as np
import sqlite_utils

from desktop_search.extract.document import (
    ATTACHMENT,
    CHUNK,
    MESSAGE,
    PHOTO_TEXT,
    PICTURE,
    WINDOW,
)
from desktop_search.store.pathnames import from_db, name_keywords, to_db
from desktop_search.store.queue import WorkQueue
from desktop_search.store.records import DocumentRecord
from desktop_search.store.schema import DROPPED_TEXT
from desktop_search.store.sql import item_ids_of_paths, now_text, vector_blob

# Item kinds whose text gets an embedding in the ``text`` space.
TEXT_ITEM_KINDS = (CHUNK, MESSAGE, ATTACHMENT, WINDOW, PHOTO_TEXT)


class TextItems:
    """Writes and reads of text items on the store's connection; a method that takes no
    transaction of its own runs inside the caller's."""

    def __init__(self, db: sqlite_utils.Database, queue: WorkQueue) -> None:
        self.db = db
        self.queue = queue

    def save_document(
        self, record: DocumentRecord, picture_vectors: np.ndarray | None, clip_model: str | None
    ) -> tuple[list[int], list[int]]:
        """Insert or replace a document and all its items in one transaction.

        A changed document is extracted again as a whole, so its old items all go. Text items
        get their ``text``-space embeddings later (``texts_to_embed``); pictures get theirs
        from ``picture_vectors`` when a CLIP model is there. Returns (new item ids, dropped).
        """
        document, name = record.document, name_keywords(record.path)
        with self.db.atomic():
            dropped = item_ids_of_paths(self.db, [record.path])
            file_id = self._upsert_document_file(record)
            self.db.execute("DELETE FROM items WHERE file_id = ?", [file_id])
            item_ids = [
                self._insert_item(file_id, name, item.kind, item.locator, item.title, item.text,
                                  item.started_at, item.ended_at, item.senders)
                for item in document.items
            ]  # fmt: skip
            for index, picture in enumerate(document.images):
                item_id = self._insert_item(
                    file_id, picture.locator.get("attachment") or name, PICTURE, picture.locator,
                    picture.title, "", picture.started_at, None, picture.senders,
                )  # fmt: skip
                item_ids.append(item_id)
                if picture_vectors is not None:
                    self.db.execute(
                        "INSERT INTO embeddings(item_id, model, vector) VALUES (?, ?, ?)",
                        [item_id, clip_model, vector_blob(picture_vectors[index])],
                    )
            if not item_ids:  # nothing readable inside: still findable by its name
                item_ids.append(self._insert_item(file_id, name, CHUNK, {}, document.title, "",
                                                  None, None, ()))  # fmt: skip
            self.queue.discard([record.path])
        return item_ids, dropped

    def _upsert_document_file(self, record: DocumentRecord) -> int:
        document = record.document
        path = to_db(record.path)
        values = [
            to_db(record.root), document.kind, record.size, record.mtime_ns, record.content_hash,
            document.created_at, document.title, record.thumbnail, now_text(), path,
        ]  # fmt: skip
        self.db.execute(
            """
            INSERT INTO files(root, kind, size, mtime_ns, content_hash, status, taken_at, title,
                thumbnail, updated_at, path)
            VALUES (?, ?, ?, ?, ?, 'indexed', ?, ?, ?, ?, ?)
            ON CONFLICT(path) DO UPDATE SET root=excluded.root, kind=excluded.kind,
                size=excluded.size, mtime_ns=excluded.mtime_ns,
                content_hash=excluded.content_hash, status='indexed', error=NULL,
                taken_at=excluded.taken_at, title=excluded.title, thumbnail=excluded.thumbnail,
                width=NULL, height=NULL, camera=NULL, gps_lat=NULL, gps_lon=NULL,
                photo_text=NULL, objects=NULL, updated_at=excluded.updated_at
            """,
            values,
        )
        return self.db.execute("SELECT id FROM files WHERE path = ?", [path]).fetchone()[0]

    def _insert_item(
        self, file_id: int, name: str, kind: str, locator: dict, title: str | None, body: str,
        started_at: str | None, ended_at: str | None, senders: tuple[str, ...],
    ) -> int:  # fmt: skip
        item_id = self.db.execute(
            "INSERT INTO items(file_id, kind, locator, started_at, ended_at, senders) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [file_id, kind, json.dumps(locator) if locator else None, started_at, ended_at,
             "\n".join(senders) or None],
        ).lastrowid  # fmt: skip
        # Senders are keywords too ("Pickering", "bob@example.com"), with the title.
        self.index_text(item_id, name, "\n".join(filter(None, (title, *senders))), body)
        return item_id

    def index_text(self, item_id: int, name: str, title: str | None, body: str) -> None:
        """Add (or replace) the keyword-index row of an item (inside the caller's
        transaction)."""
        self.db.execute("DELETE FROM item_text WHERE rowid = ?", [item_id])
        self.db.execute(
            "INSERT INTO item_text(rowid, name, title, body) VALUES (?, ?, ?, ?)",
            [item_id, name, title, body],
        )

    def rename_in_text_index(self, path: str) -> None:
        """A file was renamed: the name column of its items follows (inside the caller's
        transaction)."""
        self.db.execute(
            "UPDATE item_text SET name = ? WHERE rowid IN (SELECT i.id FROM items i "
            "JOIN files f ON f.id = i.file_id WHERE f.path = ?)",
            [name_keywords(path), to_db(path)],
        )

    # -- text-space embeddings -----------------------------------------------------------

    def texts_to_embed(self, model: str, limit: int) -> list[tuple[int, str]]:
        """Up to ``limit`` (item id, text) without an embedding from text model ``model``."""
        marks = ",".join("?" * len(TEXT_ITEM_KINDS))
        rows = self.db.execute(
            f"""
            SELECT i.id, t.body FROM items i JOIN item_text t ON t.rowid = i.id
            WHERE i.kind IN ({marks}) AND t.body != ''
              AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.item_id = i.id AND e.model = ?)
              AND NOT EXISTS (SELECT 1 FROM embed_failures x WHERE x.item_id = i.id
                              AND x.model = ?)
            ORDER BY i.id LIMIT ?
            """,
            [*TEXT_ITEM_KINDS, model, model, limit],
        )
        return rows.fetchall()

    def texts_to_embed_count(self, model: str) -> int:
        marks = ",".join("?" * len(TEXT_ITEM_KINDS))
        return self.db.execute(
            f"""
            SELECT count(*) FROM items i JOIN item_text t ON t.rowid = i.id
            WHERE i.kind IN ({marks}) AND t.body != ''
              AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.item_id = i.id AND e.model = ?)
              AND NOT EXISTS (SELECT 1 FROM embed_failures x WHERE x.item_id = i.id
                              AND x.model = ?)
            """,
            [*TEXT_ITEM_KINDS, model, model],
        ).fetchone()[0]

    def record_embed_failure(self, model: str, item_id: int, reason: str) -> None:
        """A passage the text model could not encode: kept for keywords, not tried again by
        this model (a poison passage must not block every later one)."""
        with self.db.atomic():
            self.db.execute(
                "INSERT OR REPLACE INTO embed_failures(item_id, model, reason) VALUES (?, ?, ?)",
                [item_id, model, reason],
            )

    # -- text in photos ------------------------------------------------------------------

    def skip_small_photos(self, min_side: int) -> int:
        """Mark photos too small to hold readable text as read (none found): icons, thumbnails.
        Returns how many."""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE files SET photo_text = 'none' WHERE kind = 'photo' AND status = 'indexed' "
                "AND photo_text IS NULL AND max(coalesce(width, 0), coalesce(height, 0)) < ?",
                [min_side],
            )
        return cursor.rowcount

    def photos_to_read(self, limit: int) -> list[tuple[int, str, str, str | None]]:
        """Indexed photos whose text was not looked for yet: (file id, path, content hash,
        thumbnail: relative to the thumbnails folder, None when it has none)."""
        rows = self.db.execute(
            "SELECT id, path, content_hash, thumbnail FROM files WHERE kind = 'photo' "
            "AND status = 'indexed' AND photo_text IS NULL ORDER BY id LIMIT ?",
            [limit],
        )
        return [(file_id, from_db(path), digest, thumb) for file_id, path, digest, thumb in rows]

    def photos_to_read_count(self) -> int:
        return self.db.execute(
            "SELECT count(*) FROM files WHERE kind = 'photo' AND status = 'indexed' "
            "AND photo_text IS NULL"
        ).fetchone()[0]

    def save_photo_text(self, file_id: int, content_hash: str, text: str) -> list[int]:
        """Record the text read in a photo (``""``: none). Skipped when the file changed since
        (another hash). Returns the ids of text items dropped (an earlier reading)."""
        with self.db.atomic():
            row = self.db.execute(
                "SELECT path, title FROM files WHERE id = ? AND content_hash = ?",
                [file_id, content_hash],
            ).fetchone()
            if row is None:
                return []
            dropped = [
                r[0]
                for r in self.db.execute(
                    "SELECT id FROM items WHERE file_id = ? AND kind = ?", [file_id, PHOTO_TEXT]
                )
            ]
            self.db.execute(
                "DELETE FROM items WHERE file_id = ? AND kind = ?", [file_id, PHOTO_TEXT]
            )
            if text:
                self._insert_item(file_id, name_keywords(from_db(row[0])), PHOTO_TEXT, {}, row[1],
                                  text, None, None, ())  # fmt: skip
            self.db.execute(
                "UPDATE files SET photo_text = ? WHERE id = ?",
                ["found" if text else "none", file_id],
            )
        return dropped

    # -- what forgotten data leaves behind -----------------------------------------------

    def purge_deleted_text(self) -> None:
        """Rewrite the keyword index without the words of deleted items. FTS5 (SQLite 3.40 has
        no 'secure-delete' option) records a deletion as a new entry and keeps the old words
        in their segment until it is merged; 'optimize' merges every segment into one, and
        secure_delete zeroes the pages it frees. It rewrites the whole index: 0.7-1.3 s at
        20k passages of 200 words, 3-8 s at 100k (a 339 MB database; benchmarks/private_data.py,
        three runs on a shared 2-core machine). Clears the ``DROPPED_TEXT`` flag in the same
        transaction."""
        with self.db.atomic():
            self.db.execute("INSERT INTO item_text(item_text) VALUES ('optimize')")
            self.db.execute("DELETE FROM meta WHERE key = ?", [DROPPED_TEXT])
