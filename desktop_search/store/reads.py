"""What search and status read from the store: the store's ``reads`` part (hits, keyword
matches, item texts, counts, failures, name matches). Reads only: nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlite_utils

from desktop_search.store.filters import ITEM_TIME, ItemFilters, filter_condition
from desktop_search.store.pathnames import from_db, to_db
from desktop_search.store.sql import chunks, escape_like

# Keyword ranking: a word in the file name or the title says more than one in the text.
BM25_WEIGHTS = "bm25(item_text, 4.0, 2.0, 1.0)"


class SearchReads:
    """Reads for search and status on the store's connection."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def hits(self, item_ids: list[int]) -> dict[int, dict]:
        """File metadata for items, keyed by item id."""
        found: dict[int, dict] = {}
        for chunk in chunks(item_ids, 500):
            marks = ",".join("?" * len(chunk))
            cursor = self.db.execute(
                f"""
                SELECT i.id AS item_id, i.kind AS item_kind, i.locator, f.id AS file_id, f.path,
                       f.kind, f.size, f.width, f.height, f.taken_at, f.camera, f.thumbnail,
                       f.title AS file_title, i.started_at, i.ended_at, i.senders, f.mtime_ns
                FROM items i JOIN files f ON f.id = i.file_id WHERE i.id IN ({marks})
                """,
                chunk,
            )
            columns = [c[0] for c in cursor.description]
            for row in cursor:
                record = dict(zip(columns, row, strict=True))
                record["path"] = from_db(record["path"])
                found[record["item_id"]] = record
        return found

    def keyword_search(self, match: str, filters: ItemFilters, limit: int) -> list[int]:
        """Item ids whose name, title or text match the FTS5 expression, best (bm25) first."""
        condition, params = filter_condition(filters)
        rows = self.db.execute(
            f"""
            SELECT t.rowid FROM item_text t
            JOIN items i ON i.id = t.rowid JOIN files f ON f.id = i.file_id
            WHERE item_text MATCH ? AND {condition}
            ORDER BY {BM25_WEIGHTS} LIMIT ?
            """,
            [match, *params, limit],
        )
        return [row[0] for row in rows]

    def recent_items(self, filters: ItemFilters, limit: int) -> list[int]:
        """The newest items passing ``filters`` (a query of filters only: "type:pdf after:2024")."""
        condition, params = filter_condition(filters)
        rows = self.db.execute(
            f"SELECT i.id FROM items i JOIN files f ON f.id = i.file_id WHERE {condition} "
            f"ORDER BY {ITEM_TIME} DESC, i.id DESC LIMIT ?",
            [*params, limit],
        )
        return [row[0] for row in rows]

    def filter_items(self, item_ids: list[int], filters: ItemFilters) -> set[int]:
        """Those of ``item_ids`` that pass ``filters``."""
        condition, params = filter_condition(filters)
        kept: set[int] = set()
        for chunk in chunks(item_ids, 500):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT i.id FROM items i JOIN files f ON f.id = i.file_id "
                f"WHERE i.id IN ({marks}) AND {condition}",
                [*chunk, *params],
            )
            kept.update(row[0] for row in rows)
        return kept

    def counts(self) -> list[dict]:
        cursor = self.db.execute(
            "SELECT kind, status, count(*) FROM files GROUP BY kind, status ORDER BY kind, status"
        )
        return [{"kind": kind, "status": status, "count": n} for kind, status, n in cursor]

    def failures(self) -> Iterator[tuple[str, str]]:
        """(path, reason) of every file that could not be indexed."""
        rows = self.db.execute(
            "SELECT path, error FROM files WHERE status = 'failed' ORDER BY path"
        )
        for path, error in rows:
            yield from_db(path), error

    def pending_count(self, model: str | None) -> int:
        """Catalogued photos that have no embedding from ``model`` (all of them without one)."""
        return self.db.execute(
            """
            SELECT count(*) FROM files f WHERE f.status = 'indexed' AND f.kind = 'photo'
              AND NOT EXISTS (
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
        patterns = [f"%{escape_like(to_db(word))}%" for word in words]
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
        records = [dict(zip(columns, row, strict=True)) for row in cursor]
        for record in records:
            record["path"] = from_db(record["path"])
        return records

    def item_id_of_path(self, path: str) -> int | None:
        row = self.db.execute(
            "SELECT i.id FROM items i JOIN files f ON f.id = i.file_id WHERE f.path = ?",
            [to_db(path)],
        ).fetchone()
        return row[0] if row else None

    def keyword_texts(self, item_ids: list[int]) -> dict[int, str]:
        """Everything the keyword index holds of items: name, title (and senders), text."""
        found: dict[int, str] = {}
        for chunk in chunks(item_ids, 500):
            marks = ",".join("?" * len(chunk))
            for rowid, name, title, body in self.db.execute(
                f"SELECT rowid, name, title, body FROM item_text WHERE rowid IN ({marks})", chunk
            ):
                found[rowid] = " ".join(filter(None, (name, title, body)))
        return found

    def item_texts(self, item_ids: list[int]) -> dict[int, str]:
        """The indexed text of items (for snippets and previews)."""
        found: dict[int, str] = {}
        for chunk in chunks(item_ids, 500):
            marks = ",".join("?" * len(chunk))
            for rowid, body in self.db.execute(
                f"SELECT rowid, body FROM item_text WHERE rowid IN ({marks})", chunk
            ):
                found[rowid] = body or ""
        return found
