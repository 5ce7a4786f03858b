"""Which embeddings changed since a vector index file was saved: a log kept by triggers.

Every insert, replace or delete of an embedding (including deletes cascading from removed files
and items) appends (model, item id) to ``vector_log`` in the same transaction, by SQLite
triggers, so no code path can forget it. A model's *generation* is the position of its last
entry. A saved index file records the generation it holds; a reader whose file is older applies
just the logged changes instead of rebuilding everything (a CLI search while the app indexes
100k photos). The writer trims the log up to the file it saved; a file older than the trimmed
part, or any doubt, means a rebuild from the embeddings table.
"""

from __future__ import annotations

import sqlite_utils

REBUILD_ALL = 2**62  # a floor no saved file reaches: every index file must be rebuilt


class VectorLog:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def generation(self, model: str) -> int:
        """Position of the model's last change (0: never changed)."""
        row = self.db.execute("SELECT max(seq) FROM vector_log WHERE model = ?", [model]).fetchone()
        return row[0] or 0

    def changed_since(self, model: str, generation: int) -> list[int] | None:
        """Item ids whose embedding from ``model`` changed after ``generation``; None when the
        log no longer reaches back that far (the file must be rebuilt)."""
        if generation < self._kept_from(model):
            return None
        rows = self.db.execute(
            "SELECT DISTINCT item_id FROM vector_log WHERE model = ? AND seq > ?",
            [model, generation],
        )
        return [row[0] for row in rows]

    def trim(self, model: str, saved_generation: int) -> None:
        """The index file of ``model`` now holds ``saved_generation``: older entries can go."""
        with self.db.atomic():
            self.db.execute(
                "DELETE FROM vector_log WHERE model = ? AND seq < ?", [model, saved_generation]
            )
            self._set_floor(model, saved_generation)

    def invalidate_all(self) -> None:
        """Changes happened that the log did not see (a salvaged database): rebuild every file."""
        models = {row[0] for row in self.db.execute("SELECT DISTINCT model FROM embeddings")}
        models |= {
            row[0][len("vector_log_floor:") :]
            for row in self.db.execute("SELECT key FROM meta WHERE key LIKE 'vector_log_floor:%'")
        }
        for model in models:
            self._set_floor(model, REBUILD_ALL)

    def _kept_from(self, model: str) -> int:
        """Files of at least this generation can be caught up from the log."""
        row = self.db.execute(
            "SELECT value FROM meta WHERE key = ?", [f"vector_log_floor:{model}"]
        ).fetchone()
        return int(row[0]) if row else 0

    def _set_floor(self, model: str, generation: int) -> None:
        self.db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [f"vector_log_floor:{model}", str(generation)],
        )
