"""The GUI thread never freezes: typing searches while the live index takes in a folder.

A 5 ms heartbeat timer on the GUI thread records the longest gap between its ticks while ~40
photos (some 3000x2000) are indexed on the live index's thread and queries are typed one key at a
time. Every search, thumbnail, status query and the model loading run on workers, and the live
index's statuses arrive as queued signals; a gap over 50 ms means something blocked the GUI thread.

One or two gaps of 50-150 ms do happen on a 2-core machine, with the old one-shot indexing run as
well as with the live index (measured): sampled, the GUI thread then sits in Qt's event loop,
waiting for the GIL while the indexing threads run. Those are tolerated; a real block is not.
"""

from __future__ import annotations

import gc
import statistics
import time

import pytest
from PySide6.QtCore import QTimer
from skimage import data

from tests.gui.conftest import save_photo

MAX_GAP_MS = 50
SPIKES_ALLOWED = 2  # gaps over MAX_GAP_MS (GIL hand-offs, see above), each under MAX_SPIKE_MS
MAX_SPIKE_MS = 150
QUERIES = ["a cat on a sofa", "rocket launch", "coffee cup", "coins", "astronaut portrait"]


@pytest.fixture(scope="module")
def big_folder(tmp_path_factory):
    """40 photos: copies of skimage photos at their size, and 10 at 3000x2000."""
    folder = tmp_path_factory.mktemp("responsiveness_photos")
    names = ["astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "colorwheel"]
    for i in range(40):
        name = names[i % len(names)]
        size = (3000 + i, 2000) if i % 4 == 0 else None
        save_photo(getattr(data, name)(), folder / f"{i:02d}-{name}.jpg", size=size)
    return folder


class Heartbeat:
    def __init__(self, interval_ms: int = 5) -> None:
        self.gaps: list[float] = []
        self._last: float | None = None
        self.timer = QTimer(interval=interval_ms)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000)
        self._last = now


def test_typing_while_indexing_never_blocks_the_gui_thread(
    qtbot, make_window, library_home, big_folder
):
    # Startup, measured apart: building the widgets is GUI-thread work by nature, and loading
    # the model's tokenizer on a worker still holds the GIL for a moment (see warm_up).
    startup = Heartbeat()
    startup.start()
    window = make_window(library_home)
    qtbot.waitUntil(lambda: window.status is not None and window.search.warmed_up, timeout=30_000)
    qtbot.wait(100)
    startup.stop()
    print(f"\nstartup (window shown, model warmed): longest gap {max(startup.gaps):.1f} ms")

    results = []
    window.search_state.events.results.connect(
        lambda outcome: outcome is not None and results.append(outcome.query.text)
    )
    reports = []

    def collect(status) -> None:  # each batch's report, once (statuses repeat the last one)
        report = status.last_report
        if report is not None and not any(report is seen for seen in reports):
            reports.append(report)

    window.live.status_changed.connect(collect)
    qtbot.waitUntil(lambda: window.live.running, timeout=30_000)
    # What earlier tests left behind makes a full collection on the GUI thread take 100+ ms late
    # in the suite: that is the suite's garbage, not the app's. Keep it out of the measurement.
    gc.collect()
    gc.freeze()
    try:
        heartbeat = Heartbeat()
        heartbeat.start()
        started = time.perf_counter()
        assert window.index_folders([big_folder])
        typed = 0
        while not reports or window.live.status.state != "idle" or typed < 2:
            query = QUERIES[typed % len(QUERIES)]
            window.search_panel.focus_search()
            for key in query:
                qtbot.keyClicks(window.search_box, key)
                qtbot.wait(40)
            qtbot.wait(400)  # past the debounce: a search runs
            typed += 1
            assert time.perf_counter() - started < 300, "indexing did not finish"
            if typed > 100:
                break
        qtbot.waitUntil(lambda: not window.search.busy, timeout=15_000)
        qtbot.wait(200)  # thumbnails of the last results
        heartbeat.stop()
    finally:
        gc.unfreeze()
    seconds = time.perf_counter() - started
    # Photos saved from the same picture at its own size have the same bytes: copies.
    assert sum(report.new + report.copied for report in reports) == 40
    assert sum(report.failed for report in reports) == 0
    assert results, "no search finished while indexing"
    gaps = sorted(heartbeat.gaps)
    longest = gaps[-1]
    print(
        f"GUI heartbeat over {seconds:.1f} s ({len(gaps)} ticks, {typed} queries typed, "
        f"{len(results)} results shown): longest gap {longest:.1f} ms, "
        f"p99 {gaps[int(len(gaps) * 0.99)]:.1f} ms, median {statistics.median(gaps):.1f} ms; "
        f"worst five {[round(g, 1) for g in gaps[-5:]]}"
    )
    spikes = [gap for gap in gaps if gap >= MAX_GAP_MS]
    assert len(spikes) <= SPIKES_ALLOWED and longest < MAX_SPIKE_MS, spikes
