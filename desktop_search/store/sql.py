"""Small SQL helpers shared by the store's parts and the queue.

Paths cross into and out of SQL through ``store/pathnames.py``'s ``to_db`` / ``from_db`` (a name
that is not UTF-8 has no other spelling SQLite can hold); ``under_folder`` takes a path as it is
in memory and spells it the database's way itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

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
