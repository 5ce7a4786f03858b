"""How the preview pane writes a photo's facts: dates, sizes, dimensions, scores.

Pure functions (no Qt), so they are tested directly and other views can reuse them.
"""

from __future__ import annotations

from datetime import datetime

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_taken(iso: str | None) -> str:
    """``2023-05-14T15:32:10+02:00`` -> ``14 May 2023, 15:32`` (wall-clock time as recorded)."""
    if not iso:
        return "—"
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    day = f"{dt.day} {_MONTHS[dt.month - 1]} {dt.year}"
    if len(iso) <= 10:  # a date without a time
        return day
    return f"{day}, {dt:%H:%M}"


def format_size(size: int | None) -> str:
    """Bytes -> ``2.4 MB`` (decimal units, as the desktop file managers show them)."""
    if size is None:
        return "—"
    if size < 1000:
        return f"{size} bytes" if size != 1 else "1 byte"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 999.5 or unit == "TB":
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


def format_dimensions(width: int | None, height: int | None) -> str:
    """``4000 × 3000 (12.0 MP)``."""
    if not width or not height:
        return "—"
    megapixels = width * height / 1e6
    if megapixels < 0.1:
        return f"{width} × {height}"
    return f"{width} × {height} ({megapixels:.1f} MP)"


def format_score(score: float | None) -> str:
    return "—" if score is None else f"{score:.3f}"
