"""Embeddings of items, per model: the store's ``embeddings`` part.

What the vector indices are built from and caught up with (``vectors/``), and where passages'
text-space vectors are saved. The parts that create items (files, texts, objects) insert the
embeddings that come with them in their own transaction; this part is for everything else.
Vectors are stored as float16 (``sql.vector_blob``) and come back as float32.
"""

from __future__ import annotations

import numpy as np
import sqlite_utils

from desktop_search.store.sql import chunks, vector_blob, vector_from_blob


class Embeddings:
    """Embedding reads and writes on the store's connection."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def of_model(self, model: str) -> tuple[np.ndarray, np.ndarray]:
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

    def of_items(self, item_ids: list[int], model: str) -> dict[int, np.ndarray]:
        """The float32 vectors of those of ``item_ids`` that have one from ``model``."""
        found: dict[int, np.ndarray] = {}
        for chunk in chunks(item_ids, 500):
            marks = ",".join("?" * len(chunk))
            for item_id, blob in self.db.execute(
                f"SELECT item_id, vector FROM embeddings WHERE model = ? AND item_id IN ({marks})",
                [model, *chunk],
            ):
                found[item_id] = vector_from_blob(blob)
        return found

    def vector_of(self, item_id: int, model: str) -> np.ndarray | None:
        row = self.db.execute(
            "SELECT vector FROM embeddings WHERE item_id = ? AND model = ?", [item_id, model]
        ).fetchone()
        return vector_from_blob(row[0]) if row else None

    def item_ids(self, model: str) -> np.ndarray:
        """The ids of the items with an embedding from ``model``, ascending (int64)."""
        rows = self.db.execute(
            "SELECT item_id FROM embeddings WHERE model = ? ORDER BY item_id", [model]
        )
        return np.asarray([row[0] for row in rows], dtype=np.int64)

    def count(self, model: str) -> int:
        return self.db.execute(
            "SELECT count(*) FROM embeddings WHERE model = ?", [model]
        ).fetchone()[0]

    def dimensions(self) -> dict[str, int]:
        """The vector length of each model that has embeddings, by model id in order. Read
        from the stored blobs (float16: 2 bytes a value): no model needs to be loaded."""
        rows = self.db.execute(
            "SELECT model, max(length(vector)) / 2 FROM embeddings GROUP BY model ORDER BY model"
        )
        return dict(rows.fetchall())

    def save(self, model: str, item_ids: list[int], vectors: np.ndarray) -> list[int]:
        """Store embeddings of existing items; returns the ids that still existed."""
        saved = []
        with self.db.atomic():
            for item_id, vector in zip(item_ids, vectors, strict=True):
                cursor = self.db.execute(
                    "INSERT OR REPLACE INTO embeddings(item_id, model, vector) "
                    "SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM items WHERE id = ?)",
                    [item_id, model, vector_blob(vector), item_id],
                )
                if cursor.rowcount:
                    saved.append(item_id)
        return saved
