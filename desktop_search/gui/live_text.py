"""What the indexing bar, the status line and the tray say about the live index.

Pure functions over ``LiveStatus`` (or the heartbeat another process publishes in the library),
so every wording is tested without widgets. ``describe`` gathers them into an ``Activity``: the
one value the window's bar and the tray both show.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from desktop_search.app.live import RESCAN_INTERVAL, LiveStatus
from desktop_search.app.status import IndexerHeartbeat, LibraryStatus
from desktop_search.index.progress import eta_text
from desktop_search.store.pathnames import readable_path

# How the app relates to the live index (``LiveBridge.mode``).
STARTING, LIVE, READER, FAILED, STOPPED = "starting", "live", "reader", "failed", "stopped"

# What the tray's icon shows.
IDLE, INDEXING, PAUSED, PROBLEM = "idle", "indexing", "paused", "problem"

READER_NOTE = "Another desktop-search process keeps the library current"
OTHER_PROCESS = "Other process"
BUSY_STATES = frozenset({"starting", "scanning", "indexing", "passages", "photo text"})


@dataclass(frozen=True)
class Activity:
    """What the bar and the tray show: ``line`` (one line), ``details`` (a tooltip), the icon
    (``mode``), and the progress and pause button when they apply."""

    mode: str = IDLE
    line: str = ""
    details: str = ""
    done: int = 0
    total: int = 0  # 0: no progress to show (a busy bar while ``busy``)
    busy: bool = False
    pausable: bool = False
    paused: bool = False


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def rate_text(rate: float | None) -> str:
    return "" if not rate else f"{rate:.1f} files/s"


def failed_text(failed: int) -> str:
    return f"{plural(failed, 'file')} could not be indexed"


def interval_text(seconds: float = RESCAN_INTERVAL) -> str:
    return f"{round(seconds / 60)} min" if seconds >= 60 else f"{round(seconds)} s"


def unwatched_lines(unwatched: dict[str, str]) -> list[str]:
    """One line per folder that is rescanned now and then instead of watched, with why."""
    every = interval_text()
    return [
        f"{readable_path(root)} rescanned every {every}: {reason}"
        for root, reason in unwatched.items()
    ]


def unwatched_summary(unwatched: dict[str, str]) -> str:
    if not unwatched:
        return ""
    if len(unwatched) == 1:
        ((root, reason),) = unwatched.items()
        root = readable_path(root)
        name = os.path.basename(root.rstrip(os.sep)) or root
        return f"{name} rescanned every {interval_text()}: {reason}"
    return f"{plural(len(unwatched), 'folder')} rescanned every {interval_text()}"


def progress_line(status: LiveStatus) -> str:
    """``Indexing 120 of 500 · 12.3 files/s · about 30 s left``."""
    if status.total <= 0:
        return "Indexing…"
    parts = [f"Indexing {min(status.done, status.total):,} of {status.total:,}"]
    parts += [text for text in (rate_text(status.rate), eta_text(status.eta_seconds)) if text]
    return " · ".join(parts)


def state_line(status: LiveStatus, folders: int) -> str:
    """The first part of the line: what the live index does now."""
    state = status.state
    if state == "indexing":
        return progress_line(status)
    if state == "passages":
        return "Preparing documents and messages for search by meaning…"
    if state == "photo text":
        return "Reading text in photos…"
    if state == "paused":
        return f"Paused · {status.queued:,} waiting" if status.queued else "Paused"
    if state == "starting":
        return "Starting to watch your folders…"
    if state == "scanning":
        return f"Looking for changes in {plural(folders, 'folder')}…"
    if state == "error":
        return f"Indexing problem: {status.error or 'unknown error'}"
    if state == "stopped":
        return "Not watching folders"
    if not folders:
        return "No folders to watch yet"
    if status.queued:
        return f"Watching {plural(folders, 'folder')} · {status.queued:,} waiting"
    return f"Watching {plural(folders, 'folder')} · up to date"


def live_line(status: LiveStatus, folders: int, failed: int = 0) -> str:
    """The whole line: the state, then files to retry, failures and unwatched folders."""
    parts = [state_line(status, folders)]
    if status.retrying:
        parts.append(f"{plural(status.retrying, 'file')} to retry")
    if failed:
        parts.append(failed_text(failed))
    if status.unwatched:
        parts.append(unwatched_summary(status.unwatched))
    return " · ".join(parts)


def from_heartbeat(info: IndexerHeartbeat) -> LiveStatus:
    """The heartbeat another process publishes (``library.status().indexer``) as a status."""
    return LiveStatus(
        state=info.state or "indexing", done=info.done, total=info.total, rate=info.rate,
        eta_seconds=info.eta_seconds, queued=info.queued or 0, retrying=info.retrying or 0,
        unwatched=dict(info.unwatched or {}),
    )  # fmt: skip


def tray_mode(state: str) -> str:
    if state in BUSY_STATES:
        return INDEXING
    return {"paused": PAUSED, "error": PROBLEM}.get(state, IDLE)


def describe(
    mode: str,
    status: LiveStatus | None,
    library_status: LibraryStatus | None,
    *,
    paused: bool = False,
    error: str = "",
) -> Activity:
    """The activity to show, from the bridge's ``mode``, the live index's last status and the
    library's status (folders, failures and, in a reader, the other process' heartbeat)."""
    folders = len(library_status.roots) if library_status else 0
    failed = len(library_status.failures) if library_status else 0
    if mode == READER:
        return _other_process(library_status.indexer if library_status else None, folders, failed)
    if mode == FAILED:
        return Activity(mode=PROBLEM, line=f"Not watching folders: {error or 'unknown error'}")
    if mode == STOPPED:
        return Activity(line=state_line(LiveStatus(state="stopped"), folders))
    status = status or LiveStatus()
    if paused != (status.state == "paused"):
        # Paused or resumed just now: say so before the worker's next status catches up.
        resumed = "indexing" if status.queued else "idle"
        status = replace(status, state="paused" if paused else resumed, total=0)
    return Activity(
        mode=tray_mode(status.state), line=live_line(status, folders, failed),
        details="\n".join(unwatched_lines(status.unwatched)), done=status.done,
        total=status.total if status.state == "indexing" else 0,
        busy=status.state in BUSY_STATES, paused=paused,
        pausable=bool(folders) or paused or status.state in BUSY_STATES,  # not with nothing to do
    )  # fmt: skip


def _other_process(info: IndexerHeartbeat | None, folders: int, failed: int) -> Activity:
    """Another process holds the writer lock: its heartbeat, when it publishes one."""
    if not info:
        return Activity(line=f"{OTHER_PROCESS}: indexing", details=READER_NOTE)
    status = from_heartbeat(info)
    details = "\n".join([f"{READER_NOTE} (process {info.pid})",
                         *unwatched_lines(status.unwatched)])  # fmt: skip
    return Activity(
        mode=tray_mode(status.state), line=f"{OTHER_PROCESS}: {live_line(status, folders, failed)}",
        details=details, done=status.done,
        total=status.total if status.state == "indexing" else 0,
        busy=status.state in BUSY_STATES,
    )  # fmt: skip
