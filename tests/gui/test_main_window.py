"""The main window with a real library (tiny CLIP model, skimage photos), offscreen."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from desktop_search.gui import main_window as mw
from desktop_search.gui.results import DATE, DateRole
from desktop_search.gui.search_controller import SearchController
from desktop_search.search.hits import Hit
from tests.gui.conftest import PHOTOS, TAKEN, screenshot

TIMEOUT = 15_000


def wait_done(qtbot, window, state=mw.RESULTS):
    """Until the search settled (nothing debouncing or running) in ``state``."""
    try:
        qtbot.waitUntil(lambda: not window.search.busy and window.state == state, timeout=TIMEOUT)
    except Exception:
        state = window.search_state
        print("STATE", window.state, state.busy, window.message_text(), state.error)
        raise


def shown_paths(window) -> list[str]:
    return [hit.path for hit in window.model.hits()]


def drop_file(window, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = window.rect().center()
    enter = QDragEnterEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(pos), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(window, drop)
    assert drop.isAccepted()


def test_typing_a_query_shows_results_after_one_debounced_search(qtbot, window, photo_folder):
    assert window.state == mw.IDLE
    assert f"Type to search {len(PHOTOS)} photos" in window.message_text()
    started = []
    window.search.started.connect(lambda: started.append(1))
    qtbot.keyClicks(window.search_box, "a cat on a sofa")
    assert started == []  # debounced: nothing runs while typing
    wait_done(qtbot, window)
    assert started == [1]
    assert sorted(shown_paths(window)) == sorted(str(photo_folder / f"{n}.jpg") for n in PHOTOS)
    scores = [hit.score for hit in window.model.hits()]
    assert scores == sorted(scores, reverse=True)
    tooltip = window.model.data(window.model.index(0), Qt.ToolTipRole)
    assert "score" in tooltip and "photo" in tooltip
    assert f"{len(PHOTOS)} results" in window.status_label.text()
    # Thumbnails arrive from a worker: a placeholder first, then the cached pixmap.
    qtbot.waitUntil(
        lambda: all(window.thumbnails.is_loaded(h.thumbnail) for h in window.model.hits()),
        timeout=TIMEOUT,
    )
    assert window.model.data(window.model.index(0), Qt.DecorationRole) is not None
    window.view.setCurrentIndex(window.model.index(0))
    screenshot(window, "results.png")


def test_enter_searches_at_once(qtbot, window):
    window.search_box.setText("rocket")
    assert window.search._timer.isActive()
    with qtbot.waitSignal(window.search.started, timeout=100):
        qtbot.keyClick(window.search_box, Qt.Key_Return)
    assert not window.search._timer.isActive()
    wait_done(qtbot, window)


def test_the_cut_off_slider_hides_weak_matches(qtbot, window, photo_folder):
    drop_file(window, photo_folder / "camera.jpg")
    wait_done(qtbot, window)
    scores = sorted((hit.score for hit in window.model.hits()), reverse=True)
    assert len(scores) == len(PHOTOS)
    # A slider step between the best and the worst score hides some, keeps others.
    middle = scores[len(scores) // 2]
    cutoff = math.ceil(middle * 100) / 100
    if cutoff > scores[0]:
        cutoff = math.floor(scores[0] * 100) / 100
    window.search_panel.set_cutoff(cutoff)
    kept = [s for s in scores if s >= cutoff]
    assert 0 < window.model.rowCount() == len(kept) < len(scores)
    assert all(hit.score >= cutoff for hit in window.model.hits())
    assert "hidden by the cut-off" in window.status_label.text()
    window.cutoff_slider.setValue(window.cutoff_slider.maximum())
    if scores[0] < 1.0:
        assert window.model.rowCount() == 0
        assert window.state == mw.NO_MATCH
        assert "No match for camera.jpg" in window.message_text()
        assert "hidden by the cut-off" in window.message_text()
    window.cutoff_slider.setValue(0)
    assert window.model.rowCount() == len(PHOTOS)


def test_cut_off_at_max_on_a_text_query_says_no_match(qtbot, window):
    window.search_box.setText("zebra")
    qtbot.keyClick(window.search_box, Qt.Key_Return)
    wait_done(qtbot, window)
    window.cutoff_slider.setValue(100)
    assert window.state == mw.NO_MATCH
    assert window.message_text().startswith("No match for “zebra”")


def test_sort_by_date_orders_by_when_photos_were_taken(qtbot, window, photo_folder):
    window.search_box.setText("photo")
    qtbot.keyClick(window.search_box, Qt.Key_Return)
    wait_done(qtbot, window)
    window.sort_box.setCurrentIndex(window.sort_box.findData(DATE))
    assert window.model.sort == DATE
    dates = [window.model.data(window.model.index(r), DateRole) for r in range(len(PHOTOS))]
    assert dates == sorted(dates, reverse=True)
    dated = [Path(p).stem for p in shown_paths(window) if Path(p).stem in TAKEN]
    assert dated == sorted(TAKEN, key=TAKEN.get, reverse=True)  # chelsea, coffee, rocket
    taken = {Path(h.path).stem: h.taken_at for h in window.model.hits() if h.taken_at}
    assert taken["chelsea"].startswith("2021-07-14")
    assert "newest first" in window.status_label.text()


def test_dropping_an_image_runs_an_image_search_that_finds_it_first(qtbot, window, photo_folder):
    photo = photo_folder / "coins.jpg"
    drop_file(window, photo)
    assert window.query_bar.path == photo
    assert window.search.image == photo
    wait_done(qtbot, window)
    assert shown_paths(window)[0] == str(photo)
    assert window.model.hits()[0].score == pytest.approx(1.0, abs=0.02)
    bar = window.query_bar
    qtbot.waitUntil(lambda: not bar.thumbnail().isNull(), timeout=TIMEOUT)
    qtbot.waitUntil(
        lambda: all(window.thumbnails.is_loaded(h.thumbnail) for h in window.model.hits()),
        timeout=TIMEOUT,
    )
    screenshot(window, "image-query.png")


def test_a_drop_of_something_else_is_refused(window, tmp_path):
    text_file = tmp_path / "notes.txt"
    text_file.write_text("hello")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(text_file))])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_text_and_image_combine(qtbot, window, photo_folder):
    photo = photo_folder / "chelsea.jpg"
    window.search_panel.set_query_image(photo)
    window.search_box.setText("cat")
    qtbot.keyClick(window.search_box, Qt.Key_Return)
    wait_done(qtbot, window)
    assert (window.search.text, window.search.image) == ("cat", photo)
    library = window.library.reader()
    try:
        from desktop_search.search.searcher import Query

        expected = library.search(Query(text="cat", image=photo, limit=200))
    finally:
        library.close()
    assert shown_paths(window) == [hit.path for hit in expected]


def test_selecting_a_result_shows_it_in_the_preview_and_find_similar_searches(
    qtbot, window, photo_folder
):
    window.search_box.setText("astronaut")
    qtbot.keyClick(window.search_box, Qt.Key_Return)
    wait_done(qtbot, window)
    qtbot.keyClick(window.search_box, Qt.Key_Down)  # into the grid, first result selected
    assert window.view.hasFocus()
    first = window.model.hit(0)
    assert window.preview.hit is first
    qtbot.keyClick(window.view, Qt.Key_Right)
    second = window.model.hit(1)
    assert window.search_panel.selected_path() == Path(second.path)
    assert window.preview.hit is second
    qtbot.waitUntil(lambda: not window.preview.is_loading(), timeout=TIMEOUT)
    screenshot(window, "preview.png")
    window.preview.find_similar.emit(Path(second.path))
    assert window.search.image == Path(second.path)
    wait_done(qtbot, window)
    assert shown_paths(window)[0] == second.path


def test_the_view_models_follow_a_search_and_the_selection(qtbot, window):
    """The window's widgets and the view models agree: busy while the search runs, its outcome
    in the state, the selected hit in the search state and the preview's."""
    state, events = window.search_state, []
    state.events.busy.connect(lambda busy: events.append(("busy", busy)))
    state.events.results.connect(lambda outcome: events.append(("results", outcome.query.text)))
    window.search_box.setText("rocket")
    qtbot.keyClick(window.search_box, Qt.Key_Return)
    wait_done(qtbot, window)
    assert events == [("busy", True), ("results", "rocket"), ("busy", False)]
    assert [hit.path for hit in state.results.hits] == shown_paths(window)
    assert state.query.text == "rocket" and state.error == "" and state.selected is None
    qtbot.keyClick(window.search_box, Qt.Key_Down)
    first = window.model.hit(0)
    assert state.selected is first and window.preview_state.hit is first
    qtbot.waitUntil(lambda: window.preview_state.loaded, timeout=TIMEOUT)
    assert not window.preview_state.busy and window.preview_state.error == ""


def test_keyboard_enter_opens_space_toggles_preview_escape_clears(qtbot, window):
    window.search_box.setText("coffee")
    qtbot.keyClick(window.search_box, Qt.Key_Return)
    wait_done(qtbot, window)
    qtbot.keyClick(window.search_box, Qt.Key_Down)
    qtbot.keyClick(window.view, Qt.Key_Right)
    selected = window.search_panel.selected_path()
    qtbot.keyClick(window.view, Qt.Key_Return)
    assert window.opened_paths == [selected]

    assert window.preview.isVisible()
    qtbot.keyClick(window.view, Qt.Key_Space)
    assert not window.preview.isVisible()
    qtbot.keyClick(window.view, Qt.Key_Space)
    assert window.preview.isVisible() and window.preview.hit.path == str(selected)

    # A printable key typed in the grid goes to the search box.
    qtbot.keyClick(window.view, Qt.Key_X)
    assert window.search_box.hasFocus() and window.search_box.text() == "coffeex"

    window.search_panel.set_query_image(Path(window.model.hit(0).path))
    qtbot.keyClick(window.search_box, Qt.Key_Escape)
    assert window.search_box.text() == "" and window.search.empty
    assert window.query_bar.path is None
    assert window.model.rowCount() == 0 and window.state == mw.IDLE
    qtbot.wait(400)  # a search that was in flight is dropped, not shown
    assert window.model.rowCount() == 0 and window.state == mw.IDLE


def test_ctrl_f_focuses_the_search_box(qtbot, window):
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key_F, Qt.ControlModifier)
    assert window.search_box.hasFocus()


def test_first_run_offers_folders_and_indexes_with_progress(
    qtbot, make_window, tmp_path, photo_folder
):
    """A fresh home without a model: the first-run panel; photos are catalogued, found by name."""
    window = make_window(tmp_path / "fresh")
    qtbot.waitUntil(lambda: window.status is not None and window.live.running, timeout=TIMEOUT)
    assert window.state == mw.FIRST_RUN
    assert window.message_text() == "Nothing indexed yet — add a folder"
    assert window.first_run.model_note.isVisible()  # no CLIP model: say what that means
    qtbot.waitUntil(lambda: window.progress_label.text() == "No folders to watch yet")
    assert not window.pause_button.isVisible()  # nothing to pause yet
    screenshot(window, "empty.png")

    window.first_run.clear_folders()
    assert not window.first_run.start_button.isEnabled()
    window.first_run.add_folder(photo_folder)
    activities = []
    window.activity_changed.connect(activities.append)
    qtbot.mouseClick(window.first_run.start_button, Qt.LeftButton)
    assert window.state == mw.IDLE  # no first-run panel while the folder is taken in
    qtbot.waitUntil(
        lambda: window.progress_label.text() == "Watching 1 folder · up to date"
        and f"{len(PHOTOS)} photos indexed" in window.count_label.text(),
        timeout=TIMEOUT,
    )  # fmt: skip
    assert (activities[-1].mode, activities[-1].busy) == ("idle", False)
    assert any(a.total == len(PHOTOS) for a in activities)  # the bar showed the progress
    assert not window.progress_bar.isVisible()
    assert window.pause_button.isVisible() and window.pause_button.text() == "Pause"

    # Without a model, text matches file names...
    window.search_box.setText("chelsea")
    qtbot.keyClick(window.search_box, Qt.Key_Return)
    wait_done(qtbot, window)
    assert [Path(p).name for p in shown_paths(window)] == ["chelsea.jpg"]
    # ...and a nonsense query says so.
    window.search_box.setText("qwxzzy")
    qtbot.keyClick(window.search_box, Qt.Key_Return)
    wait_done(qtbot, window, mw.NO_MATCH)
    assert window.message_text() == "No match for “qwxzzy”"


def test_progress_text_while_indexing(qtbot, window, tmp_path, photo_folder):
    more = tmp_path / "more"
    more.mkdir()
    for name in PHOTOS[:3]:
        (more / f"copy-{name}.jpg").write_bytes((photo_folder / f"{name}.jpg").read_bytes())
    texts = []
    window.live.status_changed.connect(lambda *_: texts.append(window.progress_label.text()))
    qtbot.waitUntil(lambda: window.live.running, timeout=TIMEOUT)
    assert window.index_folders([more])
    qtbot.waitUntil(
        lambda: f"{len(PHOTOS) + 3} photos indexed" in window.count_label.text(), timeout=TIMEOUT
    )
    assert any(text.startswith("Indexing 3 of 3") for text in texts), texts
    qtbot.waitUntil(lambda: window.progress_label.text() == "Watching 2 folders · up to date")

    window.pause_button.click()
    assert window.live.paused
    assert window.progress_label.text() == "Paused"
    assert window.pause_button.text() == "Resume"
    window.pause_button.click()
    assert not window.live.paused and window.pause_button.text() == "Pause"
    qtbot.waitUntil(lambda: window.progress_label.text() == "Watching 2 folders · up to date")


def test_close_requested_can_keep_the_app_running(qtbot, window):
    window.close_requested.connect(lambda event: event.ignore())
    assert not window.close()
    assert not window._shut_down


def test_the_problems_action_opens_the_problems_view(qtbot, window):
    window.problems_action.trigger()
    view = window._problems_view
    assert view is not None and view.isVisible()
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    view.close()


class _SlowLibrary:
    """A stand-in reader: each search waits until the test lets it finish."""

    def __init__(self) -> None:
        self.gates: dict[str, threading.Event] = {}
        self.searched: list[str] = []

    def reader(self):
        return self

    def close(self) -> None:
        pass

    def search(self, query):
        self.searched.append(query.text)
        self.gates.setdefault(query.text, threading.Event()).wait(10)
        return [Hit(path=f"/{query.text}.jpg", score=1.0, kind="photo", file_id=1, item_id=1)]


def test_a_stale_search_result_is_dropped(qtbot):
    from desktop_search.gui.workers import WorkerPool
    from tests.gui.conftest import _pools

    pool = WorkerPool()
    _pools.append(pool)
    library = _SlowLibrary()
    controller = SearchController(library, pool)
    shown = []
    controller.state.events.results.connect(lambda outcome: shown.append(outcome.query.text))
    controller.set_text("old")
    controller.search_now()
    qtbot.waitUntil(lambda: library.searched == ["old"])
    controller.set_text("older")
    controller.set_text("new")
    controller.search_now()  # waits for the one in flight: at most one search at a time
    assert library.searched == ["old"]
    library.gates.setdefault("new", threading.Event()).set()
    library.gates["old"].set()
    qtbot.waitUntil(lambda: not controller.busy, timeout=TIMEOUT)
    assert library.searched == ["old", "new"]  # "older" never ran
    assert shown == ["new"]  # "old" finished after "new" was asked for: dropped
    controller.close()
    pool.wait()


def test_app_run_opens_the_window_and_returns_on_quit(library_home):
    """In a subprocess: once QApplication.exec() returned, no event loop runs again in-process."""
    script = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from desktop_search.gui.app import run
from desktop_search.gui.main_window import MainWindow

app = QApplication(sys.argv[:1])
seen = []
def look():
    seen.extend(w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
    app.quit()
QTimer.singleShot(1500, look)
code = run(sys.argv[1])
print(code, len(seen), seen[0].windowTitle(), QApplication.applicationName())
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(library_home)],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "1", "desktop-search", "desktop-search"]


def test_the_cli_has_a_gui_command():
    from click.testing import CliRunner

    from desktop_search.cli.root import cli

    result = CliRunner().invoke(cli, ["gui", "--help"])
    assert result.exit_code == 0 and "desktop app" in result.output
