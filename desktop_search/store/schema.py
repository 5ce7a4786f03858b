"""The library database's tables and their migrations, one schema step per function.

Every table is created here, so one file shows the whole schema; the parts that read and write
a table (``files.py``, ``texts.py``, ``queue.py``, ...) hold no DDL. A step is never changed once
released: a library written by an older version is brought up to date by the steps it lacks.
"""

from __future__ import annotations

from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from desktop_search.errors import StoreError
from desktop_search.store.pathnames import ESCAPE, from_db, name_keywords
from desktop_search.store.vector_log import VectorLog

migrations = Migrations("desktop_search")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE files (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            root TEXT NOT NULL,
            kind TEXT NOT NULL,
            size INTEGER,
            mtime_ns INTEGER,
            content_hash TEXT,
            status TEXT NOT NULL,            -- indexed | failed
            error TEXT,                      -- why a failed file could not be indexed
            width INTEGER,
            height INTEGER,
            taken_at TEXT,                   -- ISO 8601, from EXIF
            camera TEXT,
            gps_lat REAL,
            gps_lon REAL,
            thumbnail TEXT,                  -- relative to the thumbnails folder
            updated_at TEXT NOT NULL
        );
        CREATE INDEX files_status ON files(status);
        CREATE INDEX files_content_hash ON files(content_hash);
        CREATE TABLE items (
            -- AUTOINCREMENT: an item id is never reused, so a stale vector index can never
            -- point at a different item than the one it was built for.
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,              -- photo (later: object, page, chunk, messages)
            locator TEXT                     -- JSON: where in the file (page, box, time range)
        );
        CREATE INDEX items_file ON items(file_id);
        CREATE TABLE embeddings (
            item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            vector BLOB NOT NULL,            -- float16, L2-normalised
            PRIMARY KEY (item_id, model)
        );
        CREATE INDEX embeddings_model ON embeddings(model);
        CREATE TABLE roots (path TEXT PRIMARY KEY, added_at TEXT NOT NULL);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """
    )


@migrations()
def m002_queue(db: sqlite_utils.Database) -> None:
    """The work queue (``store/queue.py``): files waiting to be (re)indexed."""
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


@migrations()
def m003_vector_log(db: sqlite_utils.Database) -> None:
    """Which embeddings changed since a vector index file was saved (``store/vector_log.py``)."""
    db.executescript(
        """
        CREATE TABLE vector_log (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            model TEXT NOT NULL,
            item_id INTEGER NOT NULL
        );
        CREATE INDEX vector_log_model ON vector_log(model, seq);
        CREATE TRIGGER embeddings_logged_insert AFTER INSERT ON embeddings BEGIN
            INSERT INTO vector_log(model, item_id) VALUES (new.model, new.item_id);
        END;
        CREATE TRIGGER embeddings_logged_update AFTER UPDATE ON embeddings BEGIN
            INSERT INTO vector_log(model, item_id) VALUES (new.model, new.item_id);
        END;
        CREATE TRIGGER embeddings_logged_delete AFTER DELETE ON embeddings BEGIN
            INSERT INTO vector_log(model, item_id) VALUES (old.model, old.item_id);
        END;
        -- Files saved under the old generation counters can't be caught up: rebuild them once.
        DELETE FROM meta WHERE key LIKE 'generation:%';
        """
    )
    VectorLog(db).invalidate_all()


@migrations()
def m004_documents(db: sqlite_utils.Database) -> None:
    """Documents, passages and the keyword index (``store/texts.py``). Every item has a row in
    the FTS5 table ``item_text`` (rowid = item id); deleting an item deletes its row by trigger,
    so no code path (cascades from removed files included) can leave a stale one."""
    db.executescript(
        """
        ALTER TABLE files ADD COLUMN title TEXT;
        -- Photos: NULL until the text-in-photos pass looked at it, then 'found' or 'none'.
        ALTER TABLE files ADD COLUMN photo_text TEXT;
        ALTER TABLE items ADD COLUMN started_at TEXT;   -- ISO 8601: message time, window start
        ALTER TABLE items ADD COLUMN ended_at TEXT;
        ALTER TABLE items ADD COLUMN senders TEXT;      -- one per line
        CREATE INDEX files_photo_text ON files(kind, photo_text);
        CREATE VIRTUAL TABLE item_text USING fts5(
            name, title, body, tokenize = 'unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER item_text_forget AFTER DELETE ON items BEGIN
            DELETE FROM item_text WHERE rowid = old.id;
        END;
        """
    )
    rows = db.execute("SELECT i.id, f.path FROM items i JOIN files f ON f.id = i.file_id")
    db.conn.executemany(
        "INSERT INTO item_text(rowid, name, title, body) VALUES (?, ?, NULL, '')",
        [(item_id, name_keywords(from_db(path))) for item_id, path in rows.fetchall()],
    )


@migrations()
def m005_objects(db: sqlite_utils.Database) -> None:
    """Objects detected in photos (``store/objects.py``)."""
    db.executescript(
        """
        -- Photos: '<detector>+<clip model>' once objects were looked for, else NULL.
        ALTER TABLE files ADD COLUMN objects TEXT;
        ALTER TABLE items ADD COLUMN label TEXT;        -- object items: the detected class
        CREATE INDEX items_label ON items(label, file_id) WHERE label IS NOT NULL;
        """
    )


@migrations()
def m006_queue_claims(db: sqlite_utils.Database) -> None:
    """Attempts in progress, counted before the work starts (read in a window, read alone);
    passages a text model could not encode (so that one is not tried first for ever)."""
    db.executescript(
        """
        ALTER TABLE queue ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE queue ADD COLUMN solo INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE embed_failures (
            item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            reason TEXT,
            PRIMARY KEY (item_id, model)
        );
        """
    )


# What earlier versions stored for a name that is not UTF-8: its \x spelling (not the real
# path, which SQLite could not hold), parked with this reason.
_OLD_REASON_NOT_UTF8 = "file name is not valid UTF-8 (rename the file to index it)"
_PATH_COLUMNS = {"files": ("path", "root"), "queue": ("path", "root"), "roots": ("path",)}


@migrations()
def m007_exact_path_names(db: sqlite_utils.Database) -> None:
    """Paths are stored through ``pathnames.to_db``: a literal U+FFFF is its escape character,
    doubled now. Files parked under their \\x spelling are dropped: the next scan finds them
    under their real name and indexes them (until then the doctor would call them gone)."""
    for table, columns in _PATH_COLUMNS.items():
        for column in columns:
            rows = db.execute(
                f"SELECT rowid, {column} FROM {table} WHERE instr({column}, ?)", [ESCAPE]
            ).fetchall()
            # Most escapes first: a value doubled then never meets one not yet doubled (it has
            # more escapes than any of those), so a unique column never sees a duplicate.
            rows.sort(key=lambda row: row[1].count(ESCAPE), reverse=True)
            for rowid, value in rows:
                db.execute(
                    f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                    [value.replace(ESCAPE, ESCAPE + ESCAPE), rowid],
                )
    db.execute("DELETE FROM files WHERE status = 'failed' AND error = ?", [_OLD_REASON_NOT_UTF8])


DROPPED_THUMBNAILS = "dropped:thumbnails"
DROPPED_TEXT = "dropped:text"


@migrations()
def m008_forgotten_data(db: sqlite_utils.Database) -> None:
    """Flags, set by triggers in the transaction that drops the data, that files left behind
    what must not outlive them: a thumbnail no row may use any more (a file forgotten, failed or
    changed), keyword-index entries of deleted items (FTS5 keeps a deleted row's words in its
    segments until they are merged). The writer cleans up after committing and clears the flag
    (``Store.clear_flag``, ``TextItems.purge_deleted_text``). A library that had data before
    gets both set: earlier versions never deleted either."""
    db.executescript(
        f"""
        CREATE TRIGGER files_thumbnail_dropped AFTER DELETE ON files
        WHEN old.thumbnail IS NOT NULL BEGIN
            INSERT OR IGNORE INTO meta(key, value) VALUES ('{DROPPED_THUMBNAILS}', '1');
        END;
        CREATE TRIGGER files_thumbnail_replaced AFTER UPDATE OF thumbnail ON files
        WHEN old.thumbnail IS NOT NULL AND old.thumbnail IS NOT new.thumbnail BEGIN
            INSERT OR IGNORE INTO meta(key, value) VALUES ('{DROPPED_THUMBNAILS}', '1');
        END;
        CREATE TRIGGER items_text_dropped AFTER DELETE ON items BEGIN
            INSERT OR IGNORE INTO meta(key, value) VALUES ('{DROPPED_TEXT}', '1');
        END;
        INSERT OR IGNORE INTO meta(key, value)
            SELECT '{DROPPED_THUMBNAILS}', '1' WHERE EXISTS (SELECT 1 FROM files);
        INSERT OR IGNORE INTO meta(key, value)
            SELECT '{DROPPED_TEXT}', '1' WHERE EXISTS (SELECT 1 FROM files);
        """
    )


SCHEMA_MIGRATIONS = [
    m001_initial.__name__, m002_queue.__name__, m003_vector_log.__name__, m004_documents.__name__,
    m005_objects.__name__, m006_queue_claims.__name__, m007_exact_path_names.__name__,
    m008_forgotten_data.__name__,
]  # fmt: skip


def check_version(db: sqlite_utils.Database, path: Path) -> None:
    """StoreError when a newer desktop-search applied steps this one does not know: its rows
    may mean what this version cannot read."""
    applied = {m.name for m in migrations.applied(db)}
    unknown = applied - set(SCHEMA_MIGRATIONS)
    if unknown:
        raise StoreError(
            f"the library database {path} was written by a newer desktop-search "
            f"(schema steps {', '.join(sorted(unknown))})",
            hint="upgrade desktop-search",
        )


def migrate(db: sqlite_utils.Database, path: Path) -> None:
    """Bring the database at ``path`` up to this version's schema (creating it when new)."""
    check_version(db, path)
    migrations.apply(db)
