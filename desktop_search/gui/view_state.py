"""What the main window's central area and status line say, decided from plain values.

No widgets here: the window gathers the facts (library status, search, results) and shows
what these functions return.
"""

from __future__ import annotations

from desktop_search.gui.first_run import NOTHING_INDEXED
from desktop_search.gui.results import DATE

# What the central area shows.
LOADING, FIRST_RUN, IDLE, RESULTS, NO_MATCH, SEARCHING, ERROR = (
    "loading", "first_run", "idle", "results", "no_match", "searching", "error",
)  # fmt: skip


def indexed_count(status: dict) -> int:
    return sum(row["count"] for row in status.get("files", []) if row["status"] == "indexed")


def query_words(search) -> str:  # noqa: ANN001 - SearchController
    """The query as the messages quote it: the text and/or the example image's name."""
    text = search.text.strip()
    what = f"“{text}”" if text else ""
    if search.image is not None:
        what = f"{what} + {search.image.name}" if what else search.image.name
    return what


def central_state(
    status: dict | None,
    indexing: bool,
    error: str,
    search,
    rows: int,
    total: int,  # noqa: ANN001
) -> tuple[str, str]:
    """(state, message) of the central area; ``search`` is the ``SearchController``."""
    if status is None:
        return LOADING, "Opening the library…"
    if not status.get("roots") and not indexing:
        return FIRST_RUN, NOTHING_INDEXED
    if error:
        return ERROR, error
    if search.empty:
        count = indexed_count(status)
        if indexing and not count:
            return IDLE, "Indexing your files… you can search as soon as the first ones are in."
        return (
            IDLE,
            f"Type to search {library_phrase(status)}, or drop an image here to find "
            "similar photos.",
        )
    if rows:
        return RESULTS, ""
    if search.busy:
        return SEARCHING, f"Searching for {query_words(search)}…"
    message = f"No match for {query_words(search)}"
    if total:
        message += f"\n{total} weaker match(es) hidden by the cut-off"
    return NO_MATCH, message


def activity_text(state: str, note: str | None, shown: int, total: int, sort: str) -> str:
    """The status line: a note on who indexes (when not this app) and what the search found."""
    parts = [note] if note else []
    if state == RESULTS or (state == NO_MATCH and total):
        found = f"{shown} result{'s' if shown != 1 else ''}"
        if shown != total:
            found += f" ({total - shown} hidden by the cut-off)"
        if sort == DATE:
            found += ", newest first"
        parts.append(found)
    elif state == SEARCHING:
        parts.append("Searching…")
    elif state == ERROR:
        parts.append("Search failed")
    return " · ".join(parts)


def library_phrase(status: dict) -> str:
    """``1,204 photos``, or ``1,204 photos and 310 documents`` once there are documents."""
    photos = documents = 0
    for row in status.get("files") or []:
        if row["status"] == "indexed":
            if row["kind"] == "photo":
                photos += row["count"]
            else:
                documents += row["count"]
    if not documents:
        return f"{photos:,} photos"
    if not photos:
        return f"{documents:,} documents"
    return f"{photos:,} photos and {documents:,} documents"


def counts_text(status: dict) -> str:
    counts = f"{library_phrase(status)} indexed"
    pending = status.get("pending") or 0
    if pending:
        counts += f", {pending:,} waiting for a model"
    return counts


def problems_text(status: dict) -> str:
    failures = len(status.get("failures") or [])
    return f"Problems ({failures})" if failures else "No problems"
