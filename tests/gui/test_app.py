"""The app's wiring: window, tray controller and settings dialog over one Library."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtGui import QCloseEvent

from desktop_search.gui.app import DesktopApp
from desktop_search.gui.settings_dialog import SettingsDialog
from desktop_search.gui.workers import WorkerPool
from desktop_search.library import Library
from tests.gui.conftest import _pools, screenshot


@pytest.fixture
def desktop(qtbot, library_home):
    library = Library.open(library_home)
    pool = WorkerPool()
    _pools.append(pool)
    app = DesktopApp(library, pool)
    qtbot.addWidget(app.window)
    app.window.show()
    yield app
    app.window.shutdown()
    library.close()


def test_the_window_offers_settings(qtbot, desktop):
    (action,) = [a for a in desktop.window.actions() if a.text() == "Settings…"]
    assert action.shortcut().toString() == "Ctrl+,"
    assert action in desktop.window.toolbar.actions()
    action.trigger()
    qtbot.waitUntil(lambda: desktop.window.findChild(SettingsDialog) is not None)
    dialog = desktop.window.findChild(SettingsDialog)
    qtbot.waitUntil(lambda: not dialog.busy)
    assert dialog.folders() == desktop.library.roots()
    dialog.resize(760, 520)
    screenshot(dialog, "settings.png")
    dialog.reject()


def test_the_tray_follows_indexing_and_pausing_from_the_tray_reaches_the_window(
    qtbot, desktop, tmp_path, photo_folder
):
    folder = tmp_path / "more"
    shutil.copytree(photo_folder, folder)
    desktop.window.start_indexing([folder])
    assert desktop.tray.state.indexing
    desktop.tray.toggle_pause()  # the tray's Pause action
    assert desktop.window.index_control.paused
    assert desktop.window.pause_button.text() == "Resume"
    desktop.tray.toggle_pause()
    qtbot.waitUntil(lambda: not desktop.window.indexing, timeout=60_000)
    assert not desktop.tray.state.indexing


def test_without_a_tray_closing_the_window_shuts_down(qtbot, desktop):
    # Offscreen there is no system tray: keep_in_tray cannot apply, the window really closes.
    assert desktop.tray.tray_icon is None and desktop.library.settings.keep_in_tray
    event = QCloseEvent()
    desktop._close_requested(event)
    assert event.isAccepted()
