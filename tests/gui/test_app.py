"""The app's wiring: window, tray controller and settings dialog over one Library."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtGui import QCloseEvent

from desktop_search.app.library import Library
from desktop_search.gui.app import DesktopApp
from desktop_search.gui.settings_dialog import SettingsDialog
from desktop_search.gui.workers import WorkerPool
from tests.gui.conftest import _pools, screenshot

TIMEOUT = 10_000


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


def test_pausing_from_the_tray_holds_new_photos_back_until_resumed(
    qtbot, desktop, tmp_path, photo_folder
):
    window, tray = desktop.window, desktop.tray
    folder = tmp_path / "more"
    folder.mkdir()
    qtbot.waitUntil(lambda: window.live.running, timeout=TIMEOUT)
    assert window.index_folders([folder])
    qtbot.waitUntil(lambda: tray.tooltip() == "desktop-search — Watching 2 folders · up to date",
                    timeout=TIMEOUT)  # fmt: skip
    assert tray.pause_action.isEnabled() and tray.state.icon_name == "idle"

    tray.pause_action.trigger()
    assert window.live.paused
    assert window.pause_button.text() == "Resume"  # the window follows the tray
    assert window.progress_label.text() == "Paused"
    assert (tray.pause_action.text(), tray.state.icon_name) == ("Resume indexing", "paused")
    photo = folder / "new.jpg"
    shutil.copy(photo_folder / "chelsea.jpg", photo)
    qtbot.wait(2500)  # settled long ago: a running live index would have taken it in
    assert not is_indexed(desktop.library, photo)

    tray.pause_action.trigger()
    assert not window.live.paused and window.pause_button.text() == "Pause"
    qtbot.waitUntil(lambda: is_indexed(desktop.library, photo), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: tray.state.icon_name == "idle", timeout=TIMEOUT)
    assert tray.pause_action.text() == "Pause indexing"


def is_indexed(library: Library, path) -> bool:
    with library.reader() as reader:
        return reader.store.reads.item_id_of_path(str(path)) is not None


def test_removing_a_folder_in_settings_goes_through_the_live_index(
    qtbot, desktop, tmp_path, photo_folder
):
    window = desktop.window
    folder = tmp_path / "more"
    shutil.copytree(photo_folder, folder)
    qtbot.waitUntil(lambda: window.live.running, timeout=TIMEOUT)
    window.index_folders([folder])
    qtbot.waitUntil(lambda: window.status is not None and str(folder) in window.status.roots,
                    timeout=TIMEOUT)  # fmt: skip
    dialog = SettingsDialog(desktop.library, desktop.pool, window, confirm=lambda *args: True,
                            forget_folder=window.forget_folder)  # fmt: skip
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: str(folder) in dialog.folders(), timeout=TIMEOUT)
    dialog.folder_list.setCurrentRow(dialog.folders().index(str(folder)))
    with qtbot.waitSignal(dialog.folders_changed):
        dialog.remove_folder_button.click()
    assert str(folder) not in dialog.folders()  # gone from the list at once
    qtbot.waitUntil(lambda: window.status.roots == [str(photo_folder)], timeout=TIMEOUT)
    dialog.reload_folders()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=TIMEOUT)
    assert dialog.folders() == [str(photo_folder)]
    assert not is_indexed(desktop.library, folder / "chelsea.jpg")
    dialog.reject()


def test_without_a_tray_closing_the_window_shuts_down(qtbot, desktop):
    # Offscreen there is no system tray: keep_in_tray cannot apply, the window really closes.
    assert desktop.tray.tray_icon is None and desktop.library.settings.keep_in_tray
    event = QCloseEvent()
    desktop._close_requested(event)
    assert event.isAccepted()
