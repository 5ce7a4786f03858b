"""Tray logic without a system tray: TrayState, the controller's actions, icons."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from desktop_search.core.control import IndexControl
from desktop_search.core.items import IndexReport
from desktop_search.errors import IndexCancelled
from desktop_search.gui.tray import (
    ICON_COLOURS,
    TrayController,
    TrayState,
    app_icon,
    glyph_pixmap,
    make_icon,
)
from desktop_search.gui.workers import Worker, WorkerPool
from desktop_search.library import Library

SCREENSHOTS = Path(os.environ.get("GUI_SCREENSHOTS", "/tmp"))


# -- TrayState: plain Python ------------------------------------------------------------------


def test_tray_state_transitions():
    state = TrayState()
    assert (state.tooltip, state.icon_name) == ("desktop-search — idle", "idle")
    assert state.pause_label == "Pause indexing" and not state.indexing

    state.started(1200)
    assert state.tooltip == "desktop-search — indexing 0 of 1,200"
    assert state.icon_name == "indexing" and state.indexing
    state.progress(3, 1200)
    assert state.tooltip == "desktop-search — indexing 3 of 1,200"

    state.paused(True)
    assert state.tooltip == "desktop-search — indexing paused (3 of 1,200)"
    assert (state.icon_name, state.pause_label) == ("paused", "Resume indexing")
    state.progress(4, 1200)  # a file that was in flight: still paused
    assert state.icon_name == "paused"
    state.paused(False)
    assert (state.icon_name, state.pause_label) == ("indexing", "Pause indexing")

    state.finished(IndexReport(new=5, changed=1, failed=1, still_failing=1))
    assert state.tooltip == (
        "desktop-search — up to date (6 new or changed), 2 files could not be indexed"
    )
    assert state.icon_name == "idle" and not state.indexing
    state.paused(True)  # nothing runs: nothing to pause
    assert state.icon_name == "idle"

    state.started(0)
    assert state.tooltip == "desktop-search — indexing files…"
    state.finished(None)
    assert state.tooltip == "desktop-search — indexing stopped"
    state.finished(IndexReport(unchanged=10))
    assert state.tooltip == "desktop-search — up to date"

    state.problem("the disk is full\ntraceback details")
    assert state.tooltip == "desktop-search — problem: the disk is full"
    assert state.icon_name == "problem"
    state.finished(IndexReport())  # a problem stays visible after the run ends
    assert state.icon_name == "problem"
    state.started(2)  # a new run clears it
    assert state.icon_name == "indexing"
    state.problem("x")
    state.clear_problem()
    assert state.icon_name == "idle"


# -- the controller, offscreen (no system tray) -------------------------------------------------


@pytest.fixture
def window(qtbot):
    window = QWidget()
    window.setWindowTitle("main window")
    qtbot.addWidget(window)
    return window


def test_no_tray_icon_offscreen_and_nothing_crashes(qtbot, window):
    assert not QSystemTrayIcon.isSystemTrayAvailable()
    tray = TrayController(window, lambda: None)
    assert tray.tray_icon is None and not tray.available
    assert window.findChildren(QSystemTrayIcon) == []
    assert not tray.should_hide_on_close(SimpleNamespace(keep_in_tray=True))
    for slot, args in [
        (tray.indexing_started, (3,)),
        (tray.indexing_progress, (1, 3)),
        (tray.indexing_paused, (True,)),
        (tray.problem, ("cannot read the disk",)),
        (tray.indexing_finished, (IndexReport(new=3),)),
        (tray.notify, ("still running",)),
    ]:
        slot(*args)
    assert tray.tooltip() == "desktop-search — problem: cannot read the disk"
    assert not tray.pause_action.isEnabled()  # no run to pause
    tray.toggle_pause()  # harmless without a run


def test_should_hide_on_close_needs_a_tray_and_the_setting(qtbot, window):
    tray = TrayController(window, lambda: None)
    tray.tray_icon = object()  # as if the platform had a tray
    assert tray.should_hide_on_close(SimpleNamespace(keep_in_tray=True))
    assert not tray.should_hide_on_close(SimpleNamespace(keep_in_tray=False))
    tray.quitting = True  # Quit from the tray really closes
    assert not tray.should_hide_on_close(SimpleNamespace(keep_in_tray=True))
    tray.tray_icon = None


def test_pause_resume_toggles_the_index_control_and_the_label(qtbot, window):
    current: dict[str, IndexControl | None] = {"control": None}
    tray = TrayController(window, lambda: current["control"])
    assert tray.pause_action.text() == "Pause indexing"
    assert not tray.pause_action.isEnabled()

    control = current["control"] = IndexControl()
    tray.indexing_started(10)
    tray.indexing_progress(2, 10)
    assert tray.pause_action.isEnabled()
    with qtbot.waitSignal(tray.pause_toggled) as toggled:
        tray.pause_action.trigger()
    assert toggled.args == [True]
    assert control.paused
    assert tray.pause_action.text() == "Resume indexing"
    assert tray.tooltip() == "desktop-search — indexing paused (2 of 10)"
    assert tray.state.icon_name == "paused"

    with qtbot.waitSignal(tray.pause_toggled) as toggled:
        tray.pause_action.trigger()
    assert toggled.args == [False]
    assert not control.paused
    assert tray.pause_action.text() == "Pause indexing"

    control.pause()  # paused from the window: the tray follows at its next update
    tray.indexing_paused(True)
    assert tray.pause_action.text() == "Resume indexing"
    control.resume()
    tray.indexing_progress(3, 10)
    assert tray.pause_action.text() == "Pause indexing"

    tray.indexing_finished(IndexReport(new=10))
    current["control"] = None
    tray.indexing_progress(0, 0)
    assert not tray.pause_action.isEnabled()
    assert tray.tooltip() == "desktop-search — up to date (10 new or changed)"


def test_open_shows_and_quit_cancels_indexing_first(qtbot, window):
    control = IndexControl()
    control.pause()
    order = []
    tray = TrayController(window, lambda: control, quit_app=lambda: order.append("quit"))
    tray.quit_requested.connect(lambda: order.append(("requested", control.cancelled)))
    assert not window.isVisible()
    tray.open_action.trigger()
    assert window.isVisible()
    window.showMinimized()
    tray.open_action.trigger()
    assert not window.isMinimized()

    tray.quit_action.trigger()
    assert control.cancelled and not control.paused  # a paused run wakes up to stop
    assert order == [("requested", True), "quit"]
    assert tray.quitting


def test_the_tray_pauses_a_real_indexing_run(qtbot, window, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for number in range(3):
        pixels = rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"p{number}.jpg")
    library = Library.open(tmp_path / "home")
    pool = WorkerPool()
    control = IndexControl()
    tray = TrayController(window, lambda: control)
    tray.indexing_started(3)
    tray.toggle_pause()  # paused before the first file
    assert control.paused

    results, errors = [], []
    worker = Worker(library.index, [folder], control=control)
    worker.signals.result.connect(results.append)
    worker.signals.error.connect(errors.append)
    worker.signals.progress.connect(tray.indexing_progress)
    worker.signals.result.connect(tray.indexing_finished)
    try:
        pool.pool.start(worker)
        qtbot.wait(300)
        assert results == [] and errors == []  # held at the checkpoint
        tray.toggle_pause()
        qtbot.waitUntil(lambda: bool(results or errors), timeout=20_000)
        assert errors == []
        assert results[0].new == 3
        assert tray.tooltip() == "desktop-search — up to date (3 new or changed)"

        # Quit while paused: the run is cancelled instead of hanging.
        (folder / "p9.jpg").write_bytes((folder / "p0.jpg").read_bytes() + b"\0")
        quitting = IndexControl()
        quitting.pause()
        tray2 = TrayController(window, lambda: quitting, quit_app=lambda: None)
        worker = Worker(library.index, [folder], control=quitting)
        worker.signals.error.connect(errors.append)
        pool.pool.start(worker)
        tray2.quit()
        qtbot.waitUntil(lambda: bool(errors), timeout=20_000)
        assert isinstance(errors[0], IndexCancelled)
    finally:
        control.cancel()
        assert pool.wait()
        library.close()


def test_icons_are_drawn_per_state(qtbot):
    colours = {}
    for name in ICON_COLOURS:
        icon = make_icon(name)
        assert not icon.isNull()
        assert {size.width() for size in icon.availableSizes()} >= {16, 32, 64}
        image = glyph_pixmap(name, 64).toImage()
        ring = image.pixelColor(int(64 * 0.42), int(64 * 0.12))  # on the lens' rim
        assert ring.alpha() > 0
        colours[name] = ring.name()
    assert len(set(colours.values())) == len(ICON_COLOURS)
    assert not app_icon().isNull()
    assert QApplication.instance() is not None
    # One strip of all icons to look at.
    pixmap = QPixmap(64 * len(ICON_COLOURS), 64)
    pixmap.fill(Qt.GlobalColor.white)
    painter = QPainter(pixmap)
    for index, name in enumerate(ICON_COLOURS):
        painter.drawPixmap(index * 64, 0, glyph_pixmap(name, 64))
    painter.end()
    pixmap.save(str(SCREENSHOTS / "tray_icons.png"))
