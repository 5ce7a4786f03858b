"""The window keeps the index current live: real watchdog on temporary folders, tiny CLIP model.

Every window here runs a ``LiveIndex``; ``make_window`` shuts it down, and the autouse fixture
fails a test that leaves its thread (or watchdog's) running.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from skimage import data

from desktop_search.app.library import Library
from desktop_search.gui import main_window as mw
from desktop_search.gui.live_text import LIVE, READER, READER_NOTE, STOPPED
from tests.gui.conftest import PHOTOS, save_photo

TIMEOUT = 10_000


@pytest.fixture
def watched(tmp_path, library_home) -> Path:
    """A second indexed folder of the library in ``library_home``, free to change."""
    folder = tmp_path / "watched"
    folder.mkdir()
    for number, name in enumerate(("astronaut", "rocket")):
        save_photo(getattr(data, name)(), folder / f"{name}.jpg", size=(300 + number, 200))
    with Library.open(library_home) as library:
        library.index([folder])
    return folder


def wait_idle(qtbot, window) -> None:
    """Until this window's live index runs and has nothing left to do."""
    live = window.live
    qtbot.waitUntil(
        lambda: live.mode == LIVE and live.status is not None and live.status.state == "idle",
        timeout=TIMEOUT,
    )


def new_photo(path: Path, name: str = "chelsea", width: int = 333) -> Path:
    """A photo with bytes no other file has (a copy would be recognised as one)."""
    save_photo(getattr(data, name)(), path, size=(width, 240))
    return path


def shown_paths(window) -> list[str]:
    return [hit.path for hit in window.model.hits()]


def search(qtbot, window, text: str) -> None:
    window.search_box.setText(text)
    qtbot.keyClick(window.search_box, Qt.Key_Return)
    qtbot.waitUntil(lambda: not window.search.busy and window.state == mw.RESULTS, timeout=TIMEOUT)


def test_a_photo_copied_in_becomes_a_result_and_stays_findable_when_renamed(
    qtbot, make_window, library_home, watched, tmp_path
):
    window = make_window(library_home)
    wait_idle(qtbot, window)
    search(qtbot, window, "a cat")
    assert len(shown_paths(window)) == len(PHOTOS) + 2
    window.view.setCurrentIndex(window.model.index(0))
    selected = window.search_panel.selected_path()

    photo = new_photo(tmp_path / "chelsea.jpg")
    shutil.copy(photo, watched / "new-cat.jpg")  # copied in from elsewhere
    qtbot.waitUntil(lambda: str(watched / "new-cat.jpg") in shown_paths(window), timeout=TIMEOUT)
    assert window.search_panel.selected_path() == selected  # the refresh kept the selection
    qtbot.waitUntil(lambda: f"{len(PHOTOS) + 3} photos" in window.count_label.text())

    (watched / "new-cat.jpg").rename(watched / "cat-on-sofa.jpg")
    qtbot.waitUntil(
        lambda: str(watched / "cat-on-sofa.jpg") in shown_paths(window), timeout=TIMEOUT
    )
    assert str(watched / "new-cat.jpg") not in shown_paths(window)
    assert len(shown_paths(window)) == len(PHOTOS) + 3
    assert window.progress_label.text() == "Watching 2 folders · up to date"


def test_a_file_that_cannot_be_indexed_is_reported(qtbot, make_window, library_home, watched):
    window = make_window(library_home)
    wait_idle(qtbot, window)
    with qtbot.waitSignal(window.problem, timeout=TIMEOUT) as problem:
        (watched / "broken.jpg").write_bytes(b"\xff\xd8 not really a JPEG")
    assert problem.args == ["1 file could not be indexed"]
    qtbot.waitUntil(
        lambda: window.progress_label.text().endswith("· 1 file could not be indexed"),
        timeout=TIMEOUT,
    )
    assert window.problems_button.text() == "Problems (1)"


def test_another_process_indexing_leaves_search_working_and_says_so(
    qtbot, make_window, library_home
):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LIBRARY, str(library_home)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        window = make_window(library_home)
        qtbot.waitUntil(lambda: window.live.mode == READER, timeout=TIMEOUT)
        qtbot.waitUntil(lambda: window.status is not None, timeout=TIMEOUT)
        assert window.progress_label.text() == (
            "Other process: Indexing 120 of 500 · 12.3 files/s · about 30 s left"
        )
        assert READER_NOTE in window.status_label.text()
        assert not window.pause_button.isVisible()
        assert not window.add_folder_action.isEnabled()
        assert not window.index_folders([])

        search(qtbot, window, "a rocket")
        assert len(shown_paths(window)) == len(PHOTOS)
        assert window.status_label.text() == f"{READER_NOTE} · {len(PHOTOS)} results"
    finally:
        holder.kill()
        holder.wait()
    # The other process is gone: this window takes over keeping the library current.
    qtbot.waitUntil(lambda: window.live.mode == LIVE, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert READER_NOTE not in window.status_label.text()
    assert window.add_folder_action.isEnabled()


# Holds the writer lock and publishes a heartbeat, as `desktop-search watch` would.
HOLD_THE_LIBRARY = """
import json, os, sys, time
import filelock
from desktop_search.app.library import Library

home = sys.argv[1]
lock = filelock.FileLock(os.path.join(home, "writer.lock"))
lock.acquire()
library = Library.open(home)
beat = {"pid": os.getpid(), "state": "indexing", "done": 120, "total": 500, "rate": 12.3,
        "eta_seconds": 30, "queued": 380, "retrying": 0, "unwatched": {}}
told = False
while True:
    library.store.set_meta("indexer", json.dumps({**beat, "updated": time.time()}))
    if not told:
        print("locked", flush=True)
        told = True
    time.sleep(1)
"""


def test_a_new_model_is_used_by_the_live_index(qtbot, make_window, library_home, tiny_clip_dir):
    target = library_home / "models" / "tiny-clip-b"
    shutil.copytree(tiny_clip_dir, target)
    meta = json.loads((target / "model.json").read_text())
    (target / "model.json").write_text(json.dumps({**meta, "id": "tiny-clip-b"}))
    window = make_window(library_home)
    wait_idle(qtbot, window)

    window.library.use_model("tiny-clip-b")  # what the settings' Model tab does
    window.model_changed("tiny-clip-b")
    qtbot.waitUntil(
        lambda: window.status.model == "tiny-clip-b"
        and window.status.embeddings == len(PHOTOS) and window.status.pending == 0,
        timeout=TIMEOUT,
    )  # fmt: skip
    search(qtbot, window, "a cat")
    assert len(shown_paths(window)) == len(PHOTOS)


def test_shutdown_stops_the_live_index_and_frees_the_library(
    qtbot, make_window, library_home, tmp_path
):
    folder = tmp_path / "big"
    folder.mkdir()
    for number in range(20):
        new_photo(folder / f"p{number}.jpg", "astronaut", width=900 + number)
    window = make_window(library_home)
    wait_idle(qtbot, window)
    assert window.index_folders([folder])
    qtbot.waitUntil(lambda: window.live.status.done > 0, timeout=TIMEOUT)
    window.close()
    assert window.live.mode == STOPPED and not window.live.running
    with Library.open(library_home) as library, library.writer():
        pass  # the writer lock is free again
    assert not any(thread.name == "live-index" for thread in threading.enumerate())
