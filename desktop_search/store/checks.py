"""What the doctor asks of the database: the store's ``checks`` part. Reads that cross tables
to find rows that disagree (SQLite's own checks, rows whose owner is gone, files outside every
indexed folder, keyword rows without an item and items without one), and the deletes that
repair them. The doctor (``app/doctor.py``) decides what a finding means; it holds no SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from desktop_search.store.pathnames import from_db
from desktop_search.store.sql import chunks, under_folder


@dataclass(frozen=True)
class ForeignKeyViolation:
    """A row of ``table`` whose parent row is gone (``PRAGMA foreign_key_check``)."""

    table: str
    rowid: int


@dataclass(frozen=True)
class UnindexedItem:
    """An item that has no row in the keyword index, with its file."""

    item_id: int
    kind: str
    path: str
    root: str


class Checks:
    """Consistency reads and their repairs on the store's connection; repairs run inside the
    caller's transaction."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def integrity_check(self) -> list[str]:
        """The rows of ``PRAGMA integrity_check`` (``["ok"]`` when all is well). Raises
        sqlite3.DatabaseError when the file is too damaged to be checked."""
        return [row[0] for row in self.db.conn.execute("PRAGMA integrity_check")]

    def foreign_key_violations(self) -> list[ForeignKeyViolation]:
        """Items without their file, embeddings without their item, and the like."""
        rows = self.db.execute("PRAGMA foreign_key_check").fetchall()
        return [ForeignKeyViolation(table, rowid) for table, rowid, *_ in rows]

    def delete_violations(self, violations: list[ForeignKeyViolation]) -> None:
        """Delete the rows whose parent is gone (the vector files must be rebuilt after)."""
        for violation in violations:
            quoted = '"' + violation.table.replace('"', '""') + '"'
            self.db.execute(f"DELETE FROM {quoted} WHERE rowid = ?", [violation.rowid])

    def indexed_without_items(self) -> list[str]:
        """Files marked indexed that have no item (not findable at all)."""
        rows = self.db.execute(
            "SELECT path FROM files f WHERE status = 'indexed' "
            "AND NOT EXISTS (SELECT 1 FROM items i WHERE i.file_id = f.id)"
        )
        return [from_db(row[0]) for row in rows]

    def files_outside(self, roots: list[str]) -> list[str]:
        """Known files below none of ``roots``."""
        return self._outside("files", roots)

    def queued_outside(self, roots: list[str]) -> list[str]:
        """Queued paths below none of ``roots``."""
        return self._outside("queue", roots)

    def _outside(self, table: str, roots: list[str]) -> list[str]:
        """Paths of ``table`` under none of ``roots``. A row whose root is its own path is a
        single file indexed by name (``index photo.jpg``): no folder is recorded for those."""
        conditions, params = ["root = path"], []
        for root in roots:
            condition, values = under_folder("path", root)
            conditions.append(condition)
            params += values
        rows = self.db.execute(
            f"SELECT path FROM {table} WHERE NOT ({' OR '.join(conditions)})", params
        )
        return [from_db(row[0]) for row in rows]

    def keyword_orphans(self) -> list[int]:
        """Keyword-index rows whose item is gone."""
        rows = self.db.execute(
            "SELECT rowid FROM item_text WHERE rowid NOT IN (SELECT id FROM items)"
        )
        return [row[0] for row in rows]

    def unindexed_items(self) -> list[UnindexedItem]:
        """Items missing from the keyword index."""
        rows = self.db.execute(
            "SELECT i.id, i.kind, f.path, f.root FROM items i JOIN files f ON f.id = i.file_id "
            "WHERE NOT EXISTS (SELECT 1 FROM item_text t WHERE t.rowid = i.id)"
        )
        return [UnindexedItem(item_id, kind, from_db(path), from_db(root))
                for item_id, kind, path, root in rows]  # fmt: skip

    def delete_keyword_rows(self, rowids: list[int]) -> None:
        for chunk in chunks(rowids, 500):
            self.db.execute(
                f"DELETE FROM item_text WHERE rowid IN ({','.join('?' * len(chunk))})", chunk
            )
