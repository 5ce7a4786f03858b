"""Query filters (``type:``, ``after:``, ``before:``, ``in:``, ``from:``, ``has:``) as SQL over
items, for the ``reads`` part.

The condition expects the items table as ``i`` and the files table as ``f``. The filters come
from the query parser (``search/query.py``'s ``Filters``); the store takes them by their shape
(``ItemFilters``), as it may import nothing of the layers above it.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Protocol

from desktop_search.store.pathnames import to_db
from desktop_search.store.sql import escape_like, under_folder

# When an item happened: its own time (message, window), else when the photo was taken or the
# document says it was made, else the file's modification time.
_MTIME = "strftime('%Y-%m-%dT%H:%M:%S', f.mtime_ns / 1000000000, 'unixepoch')"
_STARTED = f"COALESCE(i.started_at, f.taken_at, {_MTIME})"
ITEM_TIME = _STARTED
_ENDED = f"COALESCE(i.ended_at, i.started_at, f.taken_at, {_MTIME})"


class ItemFilters(Protocol):
    """Which items a read may return (``search.query.Filters``); empty fields do not filter."""

    @property
    def types(self) -> frozenset[str]: ...  # file kinds: an item's file is any of them
    @property
    def after(self) -> date | None: ...  # on or after this day
    @property
    def before(self) -> date | None: ...  # strictly before this day
    @property
    def folders(self) -> tuple[str, ...]: ...  # inside any of them
    @property
    def senders(self) -> tuple[str, ...]: ...  # from any of them
    @property
    def objects(self) -> frozenset[str]: ...  # detected object classes: all of them


def filter_condition(filters: ItemFilters) -> tuple[str, list]:
    """An SQL condition (``"1"`` for no filter) and its parameters."""
    parts: list[str] = ["f.status = 'indexed'"]
    params: list = []
    if filters.types:
        types = sorted(filters.types)
        parts.append(f"f.kind IN ({','.join('?' * len(types))})")
        params += types
    if filters.after is not None:  # on or after that day: a window that ends then counts
        parts.append(f"{_ENDED} >= ?")
        params.append(_day(filters.after))
    if filters.before is not None:  # strictly before that day
        parts.append(f"{_STARTED} < ?")
        params.append(_day(filters.before))
    if filters.folders:
        folder_parts = [_folder_condition(folder) for folder in filters.folders]
        parts.append("(" + " OR ".join(sql for sql, _ in folder_parts) + ")")
        params += [value for _, values in folder_parts for value in values]
    if filters.senders:
        parts.append("(" + " OR ".join("i.senders LIKE ? ESCAPE '\\'" for _ in filters.senders)
                     + ")")  # fmt: skip
        params += [f"%{escape_like(sender)}%" for sender in filters.senders]
    for label in sorted(filters.objects):  # every class asked for: each one's own EXISTS
        parts.append("EXISTS (SELECT 1 FROM items o WHERE o.label = ? AND o.file_id = f.id)")
        params.append(label)
    return " AND ".join(parts), params


def _day(value: date) -> str:
    return value.isoformat()


def _folder_condition(folder: str) -> tuple[str, list]:
    """A full path (``in:~/Documents``) means below it; a name (``in:Tax``) means any folder
    of that name (or path ending, ``in:Documents/Tax``) on the way to the file."""
    expanded = os.path.expanduser(folder)
    if os.path.isabs(expanded):
        return under_folder("f.path", os.path.normpath(expanded))
    name = expanded.strip("/\\")
    return "f.path LIKE ? ESCAPE '\\'", [f"%/{escape_like(to_db(name))}/%"]
