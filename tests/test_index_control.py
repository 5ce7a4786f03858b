"""Pausing, resuming and cancelling a real indexing run; a reader Library searching meanwhile."""

import os
import shutil
import sys
import threading
import time

import numpy as np
import pytest
from PIL import Image
from skimage import data

from desktop_search.app.library import Library
from desktop_search.errors import IndexCancelled
from desktop_search.index.control import IndexControl
from desktop_search.platform.autostart import autostart_enabled, autostart_file, set_autostart
from desktop_search.search.searcher import Query

NAMES = ["astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "colorwheel", "gravel"]


@pytest.fixture
def library(tmp_path, tiny_clip_dir):
    home = tmp_path / "home"
    shutil.copytree(tiny_clip_dir, home / "models" / "tiny-clip")
    (home / "config.toml").write_text(
        'active_model = "tiny-clip"\nbatch_size = 2\nread_text_in_photos = false\n'
    )
    with Library.open(home) as opened:
        yield opened


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for n in range(3):  # 24 photos: several batches of 2
        for name in NAMES:
            image = np.asarray(Image.fromarray(getattr(data, name)()).convert("RGB"))
            Image.fromarray(np.roll(image, 17 * n, axis=1)).save(folder / f"{name}{n}.jpg")
    return folder


def test_cancel_keeps_what_was_committed_and_the_next_run_finishes(library, photos):
    control = IndexControl()
    seen = []

    def progress(done, total):
        seen.append(done)
        if done == 7:
            control.cancel()

    with pytest.raises(IndexCancelled):
        library.index([photos], progress=progress, control=control)
    kept = library.store.embeddings.count("tiny-clip")
    assert 0 < kept < 24 and max(seen) <= 8
    # The saved vector index agrees with the store (it is saved on cancel too).
    reopened = Library.open(library.paths.home)
    assert len(reopened.vectors(reopened.clip())) == kept
    report = reopened.index([photos])
    assert report.encoded == 24 - kept and report.unchanged == kept
    reopened.close()


def test_pause_stops_progress_until_resumed(library, photos):
    control = IndexControl()
    seen = []

    def progress(done, total):
        seen.append(done)
        if done == 3:
            control.pause()

    worker = threading.Thread(target=library.index, args=([photos],),
                              kwargs={"progress": progress, "control": control})  # fmt: skip
    worker.start()
    deadline = time.monotonic() + 30
    while not control.paused and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    frozen = list(seen)
    time.sleep(0.3)
    assert seen == frozen and max(seen) <= 4  # nothing moved while paused
    control.resume()
    worker.join(60)
    assert not worker.is_alive() and max(seen) == 24


def test_a_reader_searches_while_the_writer_indexes(library, photos):
    reader = library.reader()
    control = IndexControl()
    errors, results = [], []

    def search_loop():
        while not control.cancelled:
            try:
                results.append(reader.search(Query(text="a cat", limit=5)))
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)
            time.sleep(0.01)

    searcher = threading.Thread(target=search_loop)
    searcher.start()
    try:
        library.index([photos])
    finally:
        control.cancel()
        searcher.join(30)
    assert errors == []
    assert len(results[-1]) == 5
    # The reader shares the writer's vector index: it sees everything just indexed.
    assert reader.vectors(reader.clip()) is library.vectors(library.clip())
    reader.close()
    assert library.search(Query(text="a cat", limit=3))  # the writer's model still works


def test_remove_root_forgets_its_files(library, photos, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    Image.fromarray(data.coffee()).save(other / "coffee.jpg")
    library.index([photos])
    library.index([other])
    assert library.remove_root(str(photos)) == 24
    assert library.roots() == [str(other)]
    hits = library.search(Query(text="anything", limit=50))
    assert [hit.path for hit in hits] == [str(other / "coffee.jpg")]


def test_autostart_entry_is_written_and_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    path = set_autostart(True)
    assert path == autostart_file() == tmp_path / "config" / "autostart" / "desktop-search.desktop"
    text = path.read_text()
    (exec_line,) = [line for line in text.splitlines() if line.startswith("Exec=")]
    program = exec_line.removeprefix("Exec=").split(" ")[0]
    assert os.path.isabs(program) and os.access(program, os.X_OK)  # no PATH lookup
    assert exec_line.endswith(" gui --hidden") and autostart_enabled()
    set_autostart(False)
    assert not path.exists() and not autostart_enabled()


def test_a_bundled_app_starts_at_login_by_its_own_executable(tmp_path, monkeypatch):
    """A PyInstaller bundle's sys.executable is the app itself: no `-m desktop_search`."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    bundled = tmp_path / "desktop search" / "desktop-search"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(bundled))
    text = set_autostart(True).read_text()
    assert f'Exec="{bundled}" gui --hidden' in text


def test_indexing_steps_aside_after_a_search_but_is_never_starved():
    import threading
    import time

    from desktop_search.search.activity import UserActivity

    activity = UserActivity(quiet=0.2, longest_wait=0.3)
    never = threading.Event()
    assert activity.wait_until_quiet(never) < 0.05  # nobody searched
    activity.searched()
    assert 0.15 < activity.wait_until_quiet(never) < 0.3  # keeps still after a search
    # Someone searching all the time: waits at most longest_wait, then works as long.
    stop = threading.Event()

    def keep_searching():
        while not stop.is_set():
            activity.searched()
            time.sleep(0.01)

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    try:
        waited = activity.wait_until_quiet(never)
        assert 0.25 < waited < 0.45
        assert activity.wait_until_quiet(never) == 0.0  # its turn to work now
    finally:
        stop.set()
        searcher.join()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_indexing_threads_run_at_background_priority():
    import os
    import threading

    from desktop_search.index.control import BACKGROUND_NICENESS, lower_thread_priority

    seen = {}

    def worker():
        lower_thread_priority()
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen["nice"] >= BACKGROUND_NICENESS
