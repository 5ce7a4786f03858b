"""Start the desktop app: ``run(home)`` opens the library, the main window and the tray icon."""

from __future__ import annotations

import logging
import sys

from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QApplication

from desktop_search.errors import DesktopSearchError
from desktop_search.gui.main_window import MainWindow
from desktop_search.gui.settings_dialog import SettingsDialog
from desktop_search.gui.tray import TrayController, app_icon
from desktop_search.gui.workers import WorkerPool
from desktop_search.library import Library

log = logging.getLogger(__name__)

APP_NAME = "desktop-search"


class DesktopApp:
    """The window, the tray and the settings dialog wired together over one Library."""

    def __init__(self, library: Library, pool: WorkerPool) -> None:
        self.library = library
        self.pool = pool
        self.window = MainWindow(library, pool)
        self.window.setWindowIcon(app_icon())
        self.tray = TrayController(self.window, lambda: self.window.index_control)
        self._connect()
        settings = QAction("Settings…", self.window)
        settings.setShortcut(QKeySequence("Ctrl+,"))
        settings.triggered.connect(self.open_settings)
        self.window.add_action(settings)

    def _connect(self) -> None:
        window, tray = self.window, self.tray
        window.indexing_started.connect(tray.indexing_started)
        window.indexing_progress.connect(tray.indexing_progress)
        window.indexing_paused.connect(tray.indexing_paused)
        window.indexing_finished.connect(tray.indexing_finished)
        window.problem.connect(tray.problem)
        # Paused or resumed from the tray menu: the window's buttons and status follow.
        tray.pause_toggled.connect(lambda _paused: window.paused_changed())
        tray.quit_requested.connect(window.shutdown)
        window.close_requested.connect(self._close_requested)

    def _close_requested(self, event: QCloseEvent) -> None:
        """Closing the window keeps indexing in the tray when the user wants that."""
        if self.tray.should_hide_on_close(self.library.settings):
            event.ignore()
            self.window.hide()
            self.tray.notify("desktop-search keeps indexing in the background")

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.library, self.pool, self.window)
        dialog.folder_added.connect(lambda folder: self.window.start_indexing([folder]))
        dialog.model_changed.connect(lambda _model: self.window.start_indexing([]))
        dialog.open()


def _load_tokenizer(library: Library) -> None:
    """Load the text tokenizer before any window exists: parsing it holds the GIL for ~130 ms
    (tokenizers does not release it), which on a worker would still stall a visible window."""
    try:
        clip = library.clip_or_none()
        if clip is not None:
            clip.tokenizer  # noqa: B018 - the property loads it
    except DesktopSearchError as error:
        log.warning("the CLIP model cannot be loaded: %s", error)  # the window says so too


def run(home: str | None = None, *, hidden: bool = False) -> int:
    """Build the application over the library in ``home``; returns the exit code.

    ``hidden``: start in the tray only (start at login), indexing the known folders.
    """
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setDesktopFileName(APP_NAME)
    library = Library.open(home)
    _load_tokenizer(library)
    pool = WorkerPool()
    try:
        desktop = DesktopApp(library, pool)
        # Without a tray icon a hidden window could never be reopened: show it anyway.
        app.setQuitOnLastWindowClosed(desktop.tray.tray_icon is None)
        if hidden and desktop.tray.tray_icon is not None:
            if library.roots():
                desktop.window.start_indexing([])
        else:
            desktop.window.show()
        code = app.exec()
        desktop.window.shutdown()
        return code
    finally:
        pool.wait()
        library.close()
