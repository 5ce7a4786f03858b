"""What the main window's central area and status line say, decided from plain values.

No widgets here: the window gathers the facts (library status, search, results) and shows
what these functions return.
"""

from __future__ import annotations

from desktop_search.app.status import LibraryStatus
from desktop_search.gui.first_run import NOTHING_INDEXED
from desktop_search.gui.results import DATE
from desktop_search.viewmodels.search import SearchState

# What the central area shows.
LOADING, FIRST_RUN, IDLE, RESULTS, NO_MATCH, SEARCHING, ERROR = (
    "loading", "first_run", "idle", "results", "no_match", "searching", "error",
)  # fmt: skip


def indexed_count(status: LibraryStatus) -> int:
    return status.indexed()


def central_state(
    status: LibraryStatus | None,
    indexing: bool,
    search: SearchState,
    rows: int,
    total: int,
) -> tuple[str, str]:
    """(state, message) of the central area: ``indexing`` while folders were asked for that the
    status does not list yet; ``rows`` shown of ``total`` results (the rest under the cut-off)."""
    if status is None:
        return LOADING, "Opening the library…"
    if not status.roots and not indexing:
        return FIRST_RUN, NOTHING_INDEXED
    if search.error:
        return ERROR, search.error
    if search.query.empty:
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
        return SEARCHING, f"Searching for {search.query.quoted()}…"
    message = f"No match for {search.query.quoted()}"
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


def library_phrase(status: LibraryStatus) -> str:
    """``1,204 photos``, or ``1,204 photos and 310 documents`` once there are documents."""
    photos = status.indexed("photo")
    documents = status.indexed() - photos
    if not documents:
        return f"{photos:,} photos"
    if not photos:
        return f"{documents:,} documents"
    return f"{photos:,} photos and {documents:,} documents"


def counts_text(status: LibraryStatus) -> str:
    counts = f"{library_phrase(status)} indexed"
    pending = status.pending
    if pending:
        counts += f", {pending:,} waiting for a model"
    return counts


def problems_text(status: LibraryStatus) -> str:
    failures = len(status.failures)
    return f"Problems ({failures})" if failures else "No problems"
