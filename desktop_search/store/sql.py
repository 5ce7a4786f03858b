"""Small SQL helpers shared by the store's parts (``store/files.py``, ``texts.py``, ...).

Paths cross into and out of SQL through ``store/pathnames.py``'s ``to_db`` / ``from_db`` (a name
that is not UTF-8 has no other spelling SQLite can hold); ``under_folder`` takes a path as it is
in memory and spells it the database's way itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import sqlite_utils

from desktop_search.store.pathnames import to_db


def under_folder(column: str, folder: str) -> tuple[str, list]:
    """``column`` is ``folder`` or lies below it (no LIKE: paths may contain % and _).
    ``folder`` is a path as in memory; the condition compares database spellings (``to_db``
    keeps prefixes, and lengths are counted in its characters, like SQLite's substr)."""
    prefix = to_db(folder.rstrip("/\\"))
    separator = "\\" if "\\" in prefix and "/" not in prefix else "/"
    condition = f"({column} = ? OR substr({column}, 1, ?) = ?)"
    return condition, [prefix, len(prefix) + 1, prefix + separator]


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def chunks(values: list, size: int = 500) -> Iterator[list]:
    """Slices of ``values`` small enough for one statement's parameters."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def vector_blob(vector: np.ndarray) -> bytes:
    """An embedding as the ``embeddings.vector`` column holds it: float16 (half the size; its
    cosine with the float32 original is ~0.9999)."""
    return vector.astype(np.float16).tobytes()


def vector_from_blob(blob: bytes) -> np.ndarray:
    """``vector_blob`` read back, as float32 for the vector index."""
    return np.frombuffer(blob, dtype=np.float16).astype(np.float32)


def item_ids_of_paths(db: sqlite_utils.Database, paths: list[str]) -> list[int]:
    """The ids of every item of the files at ``paths`` (paths as in memory)."""
    ids: list[int] = []
    for chunk in chunks([to_db(path) for path in paths], 500):
        marks = ",".join("?" * len(chunk))
        ids += [
            row[0]
            for row in db.execute(
                f"SELECT i.id FROM items i JOIN files f ON f.id = i.file_id "
                f"WHERE f.path IN ({marks})",
                chunk,
            )
        ]
    return ids
