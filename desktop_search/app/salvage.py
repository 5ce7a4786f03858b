"""Rebuild a damaged SQLite database from whatever can still be read of it.

Used by ``desktop-search doctor``: the damaged file is kept next to the new one, and the new one
replaces it atomically only once it opens as a library.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from datetime import datetime
from pathlib import Path

from desktop_search.store.store import Store

_FTS5_SHADOWS = ("data", "idx", "content", "docsize", "config")


def rebuild_database(database: Path) -> tuple[Path, list[str]]:
    """Copy the damaged file aside, then replace it atomically by a copy of its readable rows.

    Returns (the damaged copy, the tables that could not be read completely).
    """
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = database.with_name(f"{database.name}.corrupt-{stamp}")
    fd, name = tempfile.mkstemp(dir=database.parent, prefix=f"{database.name}.", suffix=".tmp")
    os.close(fd)
    rebuilt = Path(name)
    try:
        _copy_aside(database, aside)
        damaged = _copy_readable(database, rebuilt)
        Store.open(rebuilt).close()  # it must open as a library before it replaces the damaged one
    except BaseException:
        _remove_database(rebuilt)
        _remove_database(aside)  # the damaged file stays in place: no need for a copy
        raise
    # The damaged file's write-ahead log must go: SQLite would replay it onto the new file.
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    os.replace(rebuilt, database)
    return aside, damaged


def _copy_aside(database: Path, aside: Path) -> None:
    shutil.copy2(database, aside)
    wal = Path(f"{database}-wal")
    if wal.exists():  # committed transactions not yet in the main file
        shutil.copy2(wal, Path(f"{aside}-wal"))


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _copy_readable(source_path: Path, target_path: Path) -> list[str]:
    """Copy schema and every readable row into a new database; return the damaged tables.

    Like ``iterdump()``, but table by table: iterdump stops at the first unreadable row of the
    whole database, losing every table after it.
    """
    source, target = sqlite3.connect(source_path), sqlite3.connect(target_path)
    try:
        schema = source.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
        ).fetchall()
        # A full-text (virtual) table makes its own shadow tables; its rows are copied through
        # it, with their rowids (the item ids), and the shadow tables are left to it.
        virtual = {name for _, name, sql in schema if sql.upper().startswith("CREATE VIRTUAL")}
        shadows = {f"{name}_{part}" for name in virtual for part in _FTS5_SHADOWS}
        schema = [entry for entry in schema if entry[1] not in shadows]
        # SQLite makes its own tables (sqlite_sequence comes with the first AUTOINCREMENT table).
        tables = [name for kind, name, _ in schema if kind == "table"]
        # Tables and indices first: INSERT OR IGNORE then drops rows that damage duplicated.
        for kind, name, sql in schema:
            if kind in ("table", "index") and not name.startswith("sqlite_"):
                target.execute(sql)
        copied = [name for name in tables if not name.startswith("sqlite_")]
        damaged = [table for table in copied if not _salvage_table(source, target, table)]
        if "sqlite_sequence" in tables:
            # Last, replacing what the inserts above counted: the source's counters may be higher
            # (item ids are never reused) and the table has no key to ignore duplicates by.
            target.execute("DELETE FROM sqlite_sequence")
            if not _salvage_table(source, target, "sqlite_sequence"):
                damaged.append("sqlite_sequence")
        for kind, _, sql in schema:
            if kind in ("trigger", "view"):
                target.execute(sql)
        target.commit()
    finally:
        source.close()
        target.close()
    return damaged


def _salvage_table(source: sqlite3.Connection, target: sqlite3.Connection, table: str) -> bool:
    """Copy what can be read of ``table``; False when part of it was unreadable."""
    if _copy_rows(source, target, table):
        return True
    # Read backwards as well: the rows after a damaged page are reachable from the other end.
    _copy_rows(source, target, table, "ORDER BY rowid DESC")
    return False


def _copy_rows(
    source: sqlite3.Connection, target: sqlite3.Connection, table: str, order: str = ""
) -> bool:
    """Copy rows until the source cannot read further; False if it stopped early."""
    quoted = '"' + table.replace('"', '""') + '"'
    try:
        # With the rowid: a full-text table's rows are known by it (and for tables whose key
        # is the rowid, it is the key column anyway).
        cursor = source.execute(f"SELECT rowid, * FROM {quoted} {order}")
    except sqlite3.DatabaseError:
        return False
    columns = ", ".join(["rowid", *(f'"{d[0]}"' for d in cursor.description[1:])])
    marks = ", ".join("?" * len(cursor.description))
    insert = f"INSERT OR IGNORE INTO {quoted} ({columns}) VALUES ({marks})"
    while True:
        try:
            row = cursor.fetchone()
        except sqlite3.DatabaseError:  # errors writing the target propagate: only reads stop
            return False
        if row is None:
            return True
        target.execute(insert, row)
