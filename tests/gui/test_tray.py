"""Tray logic without a system tray: TrayState, the controller's actions, icons."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from desktop_search.app.live import LiveStatus
from desktop_search.app.status import Failure, LibraryStatus
from desktop_search.gui.icons import app_icon, tray_icon
from desktop_search.gui.live_text import LIVE, describe
from desktop_search.gui.tray import TrayController, TrayState
from desktop_search.platform.resource_files import APP_ICON_SIZES, TRAY_ICON_SIZES, TRAY_STATES

SCREENSHOTS = Path(os.environ.get("GUI_SCREENSHOTS", "/tmp"))
FOLDERS = ["/a", "/b", "/c"]


def activity(state: str, paused: bool = False, failures: int = 0, **values):
    status = LiveStatus(state=state, **values)
    library = LibraryStatus("/library", roots=FOLDERS, failures=[Failure("/x", "r")] * failures)
    return describe(LIVE, status, library, paused=paused)


class FakeLive:
    """The part of LiveBridge the tray steers."""

    def __init__(self, running: bool = True) -> None:
        self.running = running
        self.paused = False
        self.calls: list[str] = []

    def pause(self) -> bool:
        self.calls.append("pause")
        self.paused = True
        return True

    def resume(self) -> bool:
        self.calls.append("resume")
        self.paused = False
        return True


# -- TrayState: plain Python ------------------------------------------------------------------


def test_tray_state_follows_the_activity():
    state = TrayState()
    assert (state.tooltip, state.icon_name) == ("desktop-search — idle", "idle")
    assert state.pause_label == "Pause indexing"

    state.show(activity("indexing", done=120, total=500, rate=12.3, eta_seconds=30))
    assert state.tooltip == (
        "desktop-search — Indexing 120 of 500 · 12.3 files/s · about 30 s left"
    )
    assert state.icon_name == "indexing"
    state.show(activity("paused", paused=True, queued=42))
    assert state.tooltip == "desktop-search — Paused · 42 waiting"
    assert (state.icon_name, state.pause_label) == ("paused", "Resume indexing")
    state.show(activity("idle", failures=2))
    assert state.tooltip == (
        "desktop-search — Watching 3 folders · up to date · 2 files could not be indexed"
    )
    assert state.icon_name == "idle"


def test_a_problem_shows_until_the_next_spell_of_work():
    state = TrayState()
    state.show(activity("idle"))
    state.problem("2 files could not be indexed\ntraceback details")
    assert state.icon_name == "problem"
    assert state.tooltip == (
        "desktop-search — problem: 2 files could not be indexed\nWatching 3 folders · up to date"
    )
    state.show(activity("idle", failures=2))  # still idle: the problem stays visible
    assert state.icon_name == "problem"
    state.show(activity("indexing", done=1, total=2))  # work starts again: told, cleared
    assert state.icon_name == "indexing"
    state.problem("x")
    state.clear_problem()
    assert state.icon_name == "indexing"
    state.show(activity("error", error="indexing failed: disk full"))
    assert state.icon_name == "problem"
    assert state.tooltip == "desktop-search — Indexing problem: indexing failed: disk full"


# -- the controller, offscreen (no system tray) -------------------------------------------------


@pytest.fixture
def window(qtbot):
    window = QWidget()
    window.setWindowTitle("main window")
    qtbot.addWidget(window)
    return window


def test_no_tray_icon_offscreen_and_nothing_crashes(qtbot, window):
    assert not QSystemTrayIcon.isSystemTrayAvailable()
    live = FakeLive(running=False)
    tray = TrayController(window, live)
    assert tray.tray_icon is None and not tray.available
    assert window.findChildren(QSystemTrayIcon) == []
    assert not tray.should_hide_on_close(SimpleNamespace(keep_in_tray=True))
    tray.show_activity(activity("indexing", done=1, total=3))
    tray.problem("cannot read the disk")
    tray.notify("still running")
    assert tray.tooltip().startswith("desktop-search — problem: cannot read the disk")
    assert not tray.pause_action.isEnabled()  # no live index here to pause
    tray.toggle_pause()  # harmless
    assert live.calls == []


def test_should_hide_on_close_needs_a_tray_and_the_setting(qtbot, window):
    tray = TrayController(window, FakeLive())
    tray.tray_icon = object()  # as if the platform had a tray
    assert tray.should_hide_on_close(SimpleNamespace(keep_in_tray=True))
    assert not tray.should_hide_on_close(SimpleNamespace(keep_in_tray=False))
    tray.quitting = True  # Quit from the tray really closes
    assert not tray.should_hide_on_close(SimpleNamespace(keep_in_tray=True))
    tray.tray_icon = None


def test_pause_resume_steers_the_live_index_and_the_label(qtbot, window):
    live = FakeLive()
    tray = TrayController(window, live)
    assert tray.pause_action.text() == "Pause indexing" and tray.pause_action.isEnabled()
    with qtbot.waitSignal(tray.pause_toggled) as toggled:
        tray.pause_action.trigger()
    assert toggled.args == [True] and live.calls == ["pause"]
    assert tray.pause_action.text() == "Resume indexing"
    with qtbot.waitSignal(tray.pause_toggled) as toggled:
        tray.pause_action.trigger()
    assert toggled.args == [False] and live.calls == ["pause", "resume"]
    assert tray.pause_action.text() == "Pause indexing"

    live.pause()  # paused from the window: the tray follows at its next update
    tray.show_activity(activity("paused", paused=True))
    assert tray.pause_action.text() == "Resume indexing"
    live.running = False  # another process indexes now: nothing to pause here
    tray.show_activity(activity("idle"))
    assert not tray.pause_action.isEnabled()


def test_open_shows_and_quit_asks_the_window_to_shut_down_first(qtbot, window):
    order = []
    tray = TrayController(window, FakeLive(), quit_app=lambda: order.append("quit"))
    tray.quit_requested.connect(lambda: order.append("requested"))
    assert not window.isVisible()
    tray.open_action.trigger()
    assert window.isVisible()
    window.showMinimized()
    tray.open_action.trigger()
    assert not window.isMinimized()

    tray.quit_action.trigger()
    assert order == ["requested", "quit"]
    assert tray.quitting


def test_icons_come_from_the_resources_one_per_state(qtbot, window):
    """The tray shows the PNGs of resources/icons/tray/ for its state; the window the app's."""
    images = {}
    for state in TRAY_STATES:
        icon = tray_icon(state)
        assert not icon.isNull()
        assert {size.width() for size in icon.availableSizes()} == set(TRAY_ICON_SIZES)
        images[state] = icon.pixmap(22, 22).toImage()
    assert len({bytes(image.constBits()) for image in images.values()}) == len(TRAY_STATES)
    assert {size.width() for size in app_icon().availableSizes()} == set(APP_ICON_SIZES)

    tray = TrayController(window, FakeLive())
    assert tray.icon().cacheKey() == tray.icon("idle").cacheKey()
    tray.show_activity(activity("indexing", done=1, total=3))
    assert tray.icon().pixmap(22, 22).toImage() == images["indexing"]
    tray.problem("cannot read the disk")
    assert tray.icon().pixmap(22, 22).toImage() == images["problem"]
    assert QApplication.instance() is not None
    # One strip of the tray's icons at 22 px on a light and a dark panel, to look at.
    pixmap = QPixmap(32 * len(TRAY_STATES), 64)
    pixmap.fill(Qt.GlobalColor.white)
    painter = QPainter(pixmap)
    painter.fillRect(0, 32, pixmap.width(), 32, Qt.GlobalColor.black)
    for index, state in enumerate(TRAY_STATES):
        for top in (5, 37):
            painter.drawPixmap(index * 32 + 5, top, tray_icon(state).pixmap(22, 22))
    painter.end()
    pixmap.save(str(SCREENSHOTS / "tray_icons.png"))
