"""Objects detected in photos: the store's ``objects`` part (``object`` items with a box and
a class label).

A photo's ``files.objects`` records which detector and CLIP model its object items come from
(NULL: not looked for yet), so a photo indexed before the detector was installed, or under
another CLIP model, is looked at again; it is cleared whenever the photo's bytes change, like
the items themselves.
"""

from __future__ import annotations

import json

import numpy as np
import sqlite_utils

from desktop_search.store.pathnames import from_db, name_keywords, to_db
from desktop_search.store.records import FoundObject
from desktop_search.store.sql import vector_blob
from desktop_search.store.texts import TextItems

OBJECT = "object"  # item kind


class ObjectItems:
    """Object items on the store's connection; their keyword rows go through ``texts``."""

    def __init__(self, db: sqlite_utils.Database, texts: TextItems) -> None:
        self.db = db
        self.texts = texts

    def save_objects(
        self, path: str, objects: list[FoundObject], vectors: np.ndarray | None,
        model: str | None, key: str,
    ) -> tuple[list[int], list[int]]:  # fmt: skip
        """Replace the object items of a photo (call inside the transaction saving the photo).

        ``vectors`` holds one row per object with ``encoded`` set, in order. Returns (ids of the
        new items that got a vector, in the order of ``vectors``; ids of the dropped items).
        """
        row = self.db.execute("SELECT id FROM files WHERE path = ?", [to_db(path)]).fetchone()
        file_id = row[0]
        dropped = [row[0] for row in self.db.execute(
            "SELECT id FROM items WHERE file_id = ? AND kind = ?", [file_id, OBJECT])]  # fmt: skip
        self.db.execute("DELETE FROM items WHERE file_id = ? AND kind = ?", [file_id, OBJECT])
        encoded_ids: list[int] = []
        for found in objects:
            item_id = self._insert_object(file_id, path, json.dumps(found.to_json()), found.label)
            if found.encoded and vectors is not None:
                vector = vectors[len(encoded_ids)]
                self.db.execute(
                    "INSERT INTO embeddings(item_id, model, vector) VALUES (?, ?, ?)",
                    [item_id, model, vector_blob(vector)],
                )
                encoded_ids.append(item_id)
        self.db.execute("UPDATE files SET objects = ? WHERE id = ?", [key, file_id])
        return encoded_ids, dropped

    def copy_objects(self, source_file: int, file_id: int) -> list[int]:
        """Give a copy of a photo the object items (and embeddings) of its source (inside the
        caller's transaction)."""
        row = self.db.execute("SELECT path FROM files WHERE id = ?", [file_id]).fetchone()
        path = from_db(row[0])
        copies = []
        for item_id, locator, label in self.db.execute(
            "SELECT id, locator, label FROM items WHERE file_id = ? AND kind = ?",
            [source_file, OBJECT],
        ).fetchall():
            copy = self._insert_object(file_id, path, locator, label)
            self.db.execute(
                "INSERT INTO embeddings(item_id, model, vector) "
                "SELECT ?, model, vector FROM embeddings WHERE item_id = ?",
                [copy, item_id],
            )
            copies.append(copy)
        self.db.execute(
            "UPDATE files SET objects = (SELECT objects FROM files WHERE id = ?) WHERE id = ?",
            [source_file, file_id],
        )
        return copies

    def _insert_object(self, file_id: int, path: str, locator: str, label: str) -> int:
        """One object item, with its class as the keyword-index text."""
        item_id = self.db.execute(
            "INSERT INTO items(file_id, kind, locator, label) VALUES (?, ?, ?, ?)",
            [file_id, OBJECT, locator, label],
        ).lastrowid
        self.texts.index_text(item_id, name_keywords(path), None, label)
        return item_id

    def object_classes(self) -> list[tuple[str, int]]:
        """(label, number of photos holding one), most common first."""
        rows = self.db.execute(
            "SELECT i.label, count(DISTINCT i.file_id) AS photos FROM items i "
            "JOIN files f ON f.id = i.file_id "
            "WHERE i.label IS NOT NULL AND f.status = 'indexed' "
            "GROUP BY i.label ORDER BY photos DESC, i.label"
        )
        return [(label, count) for label, count in rows]

    def object_counts(self) -> dict:
        """For ``status``: objects, photos holding any, objects per class."""
        total, photos = self.db.execute(
            "SELECT count(*), count(DISTINCT file_id) FROM items WHERE label IS NOT NULL"
        ).fetchone()
        classes = dict(self.db.execute(
            "SELECT label, count(*) FROM items WHERE label IS NOT NULL "
            "GROUP BY label ORDER BY count(*) DESC, label"
        ).fetchall())  # fmt: skip
        return {"total": total, "photos": photos, "classes": classes}

    def photos_without_objects(self, key: str) -> int:
        """Indexed photos whose objects were not looked for with ``key`` yet."""
        return self.db.execute(
            "SELECT count(*) FROM files WHERE kind = 'photo' AND status = 'indexed' "
            "AND objects IS NOT ?",
            [key],
        ).fetchone()[0]
