"""What the bar, the status line and the tray say for each LiveStatus (pure functions)."""

from __future__ import annotations

import os

from desktop_search.app.live import LiveStatus
from desktop_search.app.status import Failure, IndexerHeartbeat, LibraryStatus
from desktop_search.gui.live_text import (
    FAILED,
    LIVE,
    READER,
    STARTING,
    STOPPED,
    describe,
    eta_text,
    live_line,
    rate_text,
    unwatched_lines,
)
from desktop_search.index.report import IndexReport

NAS = os.path.join(os.sep, "mnt", "nas", "Photos")
NFS = "network drive (nfs): changes made elsewhere are not announced"


def library_status(
    folders: int = 3, failures: int = 0, indexer: dict | None = None
) -> LibraryStatus:
    """``indexer``: the heartbeat as another process publishes it."""
    return LibraryStatus(
        home="/library",
        roots=[f"/photos/{n}" for n in range(folders)],
        failures=[Failure(f"/bad{n}.jpg", "truncated") for n in range(failures)],
        indexer=IndexerHeartbeat.from_json(indexer) if indexer else None,
    )


def test_rate_and_time_left():
    assert rate_text(None) == "" and rate_text(12.34) == "12.3 files/s"
    assert eta_text(None) == ""
    assert eta_text(0.2) == "about 1 s left"
    assert eta_text(30.4) == "about 30 s left"
    assert eta_text(89) == "about 89 s left"
    assert eta_text(240) == "about 4 min left"
    assert eta_text(2 * 3600 + 300) == "about 2 h 5 min left"


def test_indexing_shows_progress_rate_and_time_left():
    status = LiveStatus(
        state="indexing", done=120, total=500, rate=12.3, eta_seconds=30, queued=380
    )
    assert live_line(status, 3) == "Indexing 120 of 500 · 12.3 files/s · about 30 s left"
    activity = describe(LIVE, status, library_status())
    assert activity.line == "Indexing 120 of 500 · 12.3 files/s · about 30 s left"
    assert (activity.mode, activity.done, activity.total) == ("indexing", 120, 500)
    assert activity.busy and activity.pausable and not activity.paused
    # Before the rate is measured: only the count.
    early = LiveStatus(state="indexing", done=0, total=1500)
    assert live_line(early, 3) == "Indexing 0 of 1,500"


def test_idle_paused_scanning_and_failures():
    idle = LiveStatus(state="idle")
    assert live_line(idle, 3) == "Watching 3 folders · up to date"
    assert live_line(idle, 1) == "Watching 1 folder · up to date"
    assert live_line(idle, 0) == "No folders to watch yet"
    assert live_line(LiveStatus(state="paused", queued=42), 3) == "Paused · 42 waiting"
    assert live_line(LiveStatus(state="paused"), 3) == "Paused"
    assert live_line(LiveStatus(state="scanning"), 2) == "Looking for changes in 2 folders…"
    assert live_line(LiveStatus(state="starting"), 2) == "Starting to watch your folders…"
    assert live_line(idle, 3, failed=2) == (
        "Watching 3 folders · up to date · 2 files could not be indexed"
    )
    assert live_line(LiveStatus(state="idle", retrying=1), 3, failed=1) == (
        "Watching 3 folders · up to date · 1 file to retry · 1 file could not be indexed"
    )
    error = LiveStatus(state="error", error="indexing failed: disk full")
    assert live_line(error, 3) == "Indexing problem: indexing failed: disk full"
    assert describe(LIVE, error, library_status()).mode == "problem"
    # The failures come from the library's status (the problems view lists them).
    activity = describe(LIVE, idle, library_status(folders=2, failures=2))
    assert activity.line == "Watching 2 folders · up to date · 2 files could not be indexed"
    assert (activity.mode, activity.busy, activity.total) == ("idle", False, 0)


def test_folders_that_cannot_be_watched_say_why():
    status = LiveStatus(state="idle", unwatched={NAS: NFS})
    assert live_line(status, 2) == (
        f"Watching 2 folders · up to date · Photos rescanned every 15 min: {NFS}"
    )
    assert unwatched_lines(status.unwatched) == [f"{NAS} rescanned every 15 min: {NFS}"]
    two = LiveStatus(state="idle", unwatched={NAS: NFS, "/mnt/other": "cannot watch it: EACCES"})
    activity = describe(LIVE, two, library_status())
    assert activity.line.endswith("· 2 folders rescanned every 15 min")
    assert activity.details.splitlines() == unwatched_lines(two.unwatched)


def test_pausing_shows_at_once_before_the_worker_reports():
    indexing = LiveStatus(state="indexing", done=5, total=50, queued=45)
    paused = describe(LIVE, indexing, library_status(), paused=True)
    assert (paused.line, paused.mode, paused.paused) == ("Paused · 45 waiting", "paused", True)
    assert not paused.busy
    resumed = describe(LIVE, LiveStatus(state="paused", queued=45), library_status())
    assert resumed.mode == "indexing" and not resumed.paused
    resumed_idle = describe(LIVE, LiveStatus(state="paused"), library_status())
    assert resumed_idle.line == "Watching 3 folders · up to date"


def test_modes_without_a_live_index_here():
    starting = describe(STARTING, None, None)
    assert starting.line == "Starting to watch your folders…" and starting.busy
    assert describe(STOPPED, None, library_status()).line == "Not watching folders"
    failed = describe(FAILED, None, None, error="cannot watch: no inotify")
    assert (failed.mode, failed.line) == (
        "problem",
        "Not watching folders: cannot watch: no inotify",
    )
    assert not failed.pausable


def test_another_process_indexing_shows_its_heartbeat():
    heartbeat = {
        "pid": 4242, "state": "indexing", "updated": 0, "done": 120, "total": 500, "rate": 12.3,
        "eta_seconds": 30, "queued": 380, "retrying": 0, "unwatched": {NAS: NFS},
    }  # fmt: skip
    activity = describe(READER, None, library_status(indexer=heartbeat))
    assert activity.line == (
        "Other process: Indexing 120 of 500 · 12.3 files/s · about 30 s left · "
        f"Photos rescanned every 15 min: {NFS}"
    )
    assert "keeps the library current (process 4242)" in activity.details
    assert activity.total == 500 and not activity.pausable
    idle = describe(READER, None, library_status(indexer={"pid": 1, "state": "idle", "queued": 0}))
    assert idle.line == "Other process: Watching 3 folders · up to date"
    silent = describe(READER, None, library_status())  # holds the lock, publishes nothing
    assert silent.line == "Other process: indexing" and not silent.pausable


def test_a_report_is_not_needed_for_the_line():
    status = LiveStatus(state="idle", last_report=IndexReport(new=3, failed=1))
    assert live_line(status, 1) == "Watching 1 folder · up to date"
