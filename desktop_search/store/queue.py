"""The persistent work queue: files waiting to be (re)indexed, kept in the library database.

A path is queued when a scan or the watcher finds it new or changed, and leaves the queue in the
same transaction that records its outcome (indexed, parked as failed, or forgotten): a crash at
any moment leaves either the old state with the path still queued, or the new state without it.
Transient failures are retried with a growing delay a bounded number of times, then the file is
parked (``status = 'failed'`` with its reason) until it changes again.

Poison files: an attempt is *claimed* before any work on a file starts (committed), and given
back when the attempt ends in any recorded way. A file whose claim was never given back was being
handled when the process died (a segfault in a native decoder, an OOM kill, kill -9, a power
cut). Files are read a window at a time (``claims``), so such a death only makes the window
*suspects*; the next run handles suspects one at a time after everything else (``solo``
claims), those that died alone least often first, each read by a child process first (a file
that kills the child is parked at once): the rest of the library never waits for a file that
may kill the reader. A file is parked once MAX_CLAIMS attempts in
which it was the only file being read died: a file that kills the reader does so every time,
an innocent one only if the process is killed from outside at that very moment, twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from desktop_search.store.pathnames import from_db, to_db
from desktop_search.store.sql import under_folder

MAX_ATTEMPTS = 3
RETRY_DELAYS = (2.0, 15.0, 60.0)  # seconds before the 2nd, 3rd, ... attempt
# Files are decoded in reader processes (index/readers.py): one that kills its reader fails at
# once. This is the backstop for a file this process itself still dies on (in a model, say, or
# reading it in-process): parked after that many deaths while it was the only file being read
# (an outside kill landing there three times is not bad luck any more).
MAX_CLAIMS = 3


@dataclass(frozen=True)
class QueuedFile:
    path: str
    root: str
    attempts: int
    claims: int = 0  # attempts in a window that never ended
    solo: int = 0  # attempts alone that never ended: the process died on this file

    @classmethod
    def from_row(cls, path: str, root: str, *counts: int) -> QueuedFile:
        """An entry from a row (its paths in the database's spelling)."""
        return cls(from_db(path), from_db(root), *counts)


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
        rows = [(to_db(path), to_db(root), now) for path, root in entries]
        conflict = (
            "DO UPDATE SET root=excluded.root, attempts=0, not_before=0, last_error=NULL, "
            "claims=0, solo=0"
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
        return [QueuedFile.from_row(*row) for row in cursor]

    def ready_after(self, rowid: int, limit: int) -> list[tuple[int, QueuedFile]]:
        """Ready entries queued after position ``rowid`` (a cursor that survives inserts);
        suspects are not among them (they are tried alone, after the others)."""
        cursor = self.db.execute(
            "SELECT rowid, path, root, attempts FROM queue WHERE rowid > ? AND not_before <= ? "
            "AND claims = 0 AND solo = 0 ORDER BY rowid LIMIT ?",
            [rowid, time.time(), limit],
        )
        return [(row[0], QueuedFile.from_row(*row[1:])) for row in cursor]

    def claim(self, paths: list[str], *, alone: bool = False) -> None:
        """Count an attempt on each of ``paths`` before work on them starts (committed now).
        ``alone``: a suspect tried on its own; its window claims are settled by this one."""
        update = "solo = solo + 1, claims = 0" if alone else "claims = claims + 1"
        with self.db.atomic():
            self.db.conn.executemany(
                f"UPDATE queue SET {update} WHERE path = ?", [(to_db(p),) for p in paths]
            )

    def release(self, paths: Iterable[str], *, alone: bool = False) -> None:
        """Give back the claims of attempts that ended without an outcome (cancelled, or the
        file stays queued for a retry): they did not die with the process."""
        column = "solo" if alone else "claims"
        with self.db.atomic():
            self.db.conn.executemany(
                f"UPDATE queue SET {column} = max({column} - 1, 0) WHERE path = ?",
                [(to_db(p),) for p in paths],
            )

    def suspects(self) -> list[QueuedFile]:
        """Files whose last attempt never ended (the process died while handling them), those
        that died alone least often first."""
        cursor = self.db.execute(
            "SELECT path, root, attempts, claims, solo FROM queue WHERE claims > 0 OR solo > 0 "
            "ORDER BY solo, rowid"
        )
        return [QueuedFile.from_row(*row) for row in cursor]

    def discard(self, paths: Iterable[str]) -> None:
        """Remove entries (inside the caller's transaction, with the outcome it records)."""
        self.db.conn.executemany("DELETE FROM queue WHERE path = ?", [(to_db(p),) for p in paths])

    def discard_under(self, folder: str) -> None:
        condition, params = under_folder("path", folder)
        self.db.execute(f"DELETE FROM queue WHERE {condition}", params)

    def retry_later(self, path: str, reason: str) -> bool:
        """Count a failed attempt; False when the attempts are used up (the caller parks it)."""
        row = self.db.execute("SELECT attempts FROM queue WHERE path = ?", [to_db(path)]).fetchone()
        attempts = (row[0] if row else 0) + 1
        if attempts >= MAX_ATTEMPTS:
            return False
        delay = self.retry_delays[min(attempts, len(self.retry_delays)) - 1]
        with self.db.atomic():
            self.db.execute(
                "UPDATE queue SET attempts = ?, not_before = ?, last_error = ? WHERE path = ?",
                [attempts, time.time() + delay, reason, to_db(path)],
            )
        return True

    def move(self, source: str, destination: str, root: str) -> None:
        """A queued file was renamed: keep its place under the new name."""
        self.db.execute(
            "UPDATE OR REPLACE queue SET path = ?, root = ? WHERE path = ?",
            [to_db(destination), to_db(root), to_db(source)],
        )

    def move_folder(self, source: str, destination: str, root: str) -> None:
        condition, params = under_folder("path", source)
        self.db.execute(
            f"UPDATE OR REPLACE queue SET path = ? || substr(path, ?), root = ? WHERE {condition}",
            [to_db(destination), len(to_db(source.rstrip("/\\"))) + 1, to_db(root), *params],
        )

    def __len__(self) -> int:
        return self.db.execute("SELECT count(*) FROM queue").fetchone()[0]

    def paths(self) -> list[str]:
        """Every queued path, in the order they were queued."""
        return [from_db(row[0]) for row in self.db.execute("SELECT path FROM queue ORDER BY rowid")]

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
