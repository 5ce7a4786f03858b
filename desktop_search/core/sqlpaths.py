"""SQL conditions on path columns, shared by the store and the queue."""

from __future__ import annotations


def under_folder(column: str, folder: str) -> tuple[str, list]:
    """``column`` is ``folder`` or lies below it (no LIKE: paths may contain % and _)."""
    prefix = folder.rstrip("/\\")
    separator = "\\" if "\\" in prefix and "/" not in prefix else "/"
    condition = f"({column} = ? OR substr({column}, 1, ?) = ?)"
    return condition, [prefix, len(prefix) + 1, prefix + separator]


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
