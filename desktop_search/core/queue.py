"""The persistent work queue: files waiting to be (re)indexed, kept in the library database.

A path is queued when a scan or the watcher finds it new or changed, and leaves the queue in the
same transaction that records its outcome (indexed, parked as failed, or forgotten): a crash at
any moment leaves either the old state with the path still queued, or the new state without it.
Transient failures are retried with a growing delay a bounded number of times, then the file is
parked (``status = 'failed'`` with its reason) until it changes again.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from desktop_search.core.sqlpaths import under_folder

MAX_ATTEMPTS = 3
RETRY_DELAYS = (2.0, 15.0, 60.0)  # seconds before the 2nd, 3rd, ... attempt


def create_queue_table(db: sqlite_utils.Database) -> None:
    """Schema step (called from the store's migrations)."""
    db.executescript(
        """
        CREATE TABLE queue (
            path TEXT PRIMARY KEY,
            root TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,   -- failed attempts so far
            not_before REAL NOT NULL DEFAULT 0,    -- unix time: retry no earlier than this
            last_error TEXT,
            queued_at REAL NOT NULL
        );
        CREATE INDEX queue_not_before ON queue(not_before);
        """
    )


@dataclass(frozen=True)
class QueuedFile:
    path: str
    root: str
    attempts: int


class WorkQueue:
    """Queue operations on the store's connection; callers own the transactions."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.retry_delays = RETRY_DELAYS

    def add(self, entries: Iterable[tuple[str, str]], *, fresh: bool = False) -> int:
        """Queue (path, root) pairs; returns how many were given.

        A path already queued keeps its retry count unless ``fresh`` (the watcher saw it change
        again: a new version deserves new attempts).
        """
        now = time.time()
        rows = [(path, root, now) for path, root in entries]
        conflict = (
            "DO UPDATE SET root=excluded.root, attempts=0, not_before=0, last_error=NULL"
            if fresh
            else "DO UPDATE SET root=excluded.root"
        )
        with self.db.atomic():
            self.db.conn.executemany(
                f"INSERT INTO queue(path, root, queued_at) VALUES (?, ?, ?) "
                f"ON CONFLICT(path) {conflict}",
                rows,
            )
        return len(rows)

    def ready(self, limit: int, now: float | None = None) -> list[QueuedFile]:
        """The oldest entries whose retry delay is over, in the order they were queued."""
        now = time.time() if now is None else now
        cursor = self.db.execute(
            "SELECT path, root, attempts FROM queue WHERE not_before <= ? ORDER BY rowid LIMIT ?",
            [now, limit],
        )
        return [QueuedFile(*row) for row in cursor]

    def ready_after(self, rowid: int, limit: int) -> list[tuple[int, QueuedFile]]:
        """Ready entries queued after position ``rowid`` (a cursor that survives inserts)."""
        cursor = self.db.execute(
            "SELECT rowid, path, root, attempts FROM queue WHERE rowid > ? AND not_before <= ? "
            "ORDER BY rowid LIMIT ?",
            [rowid, time.time(), limit],
        )
        return [(row[0], QueuedFile(*row[1:])) for row in cursor]

    def discard(self, paths: Iterable[str]) -> None:
        """Remove entries (inside the caller's transaction, with the outcome it records)."""
        self.db.conn.executemany("DELETE FROM queue WHERE path = ?", [(p,) for p in paths])

    def discard_under(self, folder: str) -> None:
        condition, params = under_folder("path", folder)
        self.db.execute(f"DELETE FROM queue WHERE {condition}", params)

    def retry_later(self, path: str, reason: str) -> bool:
        """Count a failed attempt; False when the attempts are used up (the caller parks it)."""
        row = self.db.execute("SELECT attempts FROM queue WHERE path = ?", [path]).fetchone()
        attempts = (row[0] if row else 0) + 1
        if attempts >= MAX_ATTEMPTS:
            return False
        delay = self.retry_delays[min(attempts, len(self.retry_delays)) - 1]
        with self.db.atomic():
            self.db.execute(
                "UPDATE queue SET attempts = ?, not_before = ?, last_error = ? WHERE path = ?",
                [attempts, time.time() + delay, reason, path],
            )
        return True

    def move(self, source: str, destination: str, root: str) -> None:
        """A queued file was renamed: keep its place under the new name."""
        self.db.execute(
            "UPDATE OR REPLACE queue SET path = ?, root = ? WHERE path = ?",
            [destination, root, source],
        )

    def move_folder(self, source: str, destination: str, root: str) -> None:
        condition, params = under_folder("path", source)
        self.db.execute(
            f"UPDATE OR REPLACE queue SET path = ? || substr(path, ?), root = ? WHERE {condition}",
            [destination, len(source.rstrip("/\\")) + 1, root, *params],
        )

    def __len__(self) -> int:
        return self.db.execute("SELECT count(*) FROM queue").fetchone()[0]

    def waiting(self, now: float | None = None) -> tuple[int, int]:
        """(ready now, waiting for a retry)."""
        now = time.time() if now is None else now
        ready, retrying = self.db.execute(
            "SELECT count(*) FILTER (WHERE not_before <= ?), count(*) FILTER (WHERE not_before > ?)"
            " FROM queue",
            [now, now],
        ).fetchone()
        return ready, retrying

    def next_retry_at(self) -> float | None:
        row = self.db.execute("SELECT min(not_before) FROM queue").fetchone()
        return row[0] if row and row[0] else None
