"""Start the desktop app: ``run(home)`` opens the library, the main window and the tray icon."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from collections.abc import Iterator

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QApplication

from desktop_search.app.library import Library
from desktop_search.app.menu_entry import MenuEntryOffer
from desktop_search.app.settings_service import SettingsChange
from desktop_search.errors import DesktopSearchError
from desktop_search.extract import vips_decode
from desktop_search.gui.icons import app_icon
from desktop_search.gui.main_window import MainWindow
from desktop_search.gui.menu_offer import MenuOfferBox
from desktop_search.gui.settings_dialog import SettingsDialog
from desktop_search.gui.tray import TrayController
from desktop_search.gui.workers import WorkerPool

log = logging.getLogger(__name__)

APP_NAME = "desktop-search"


class DesktopApp:
    """The window, the tray and the settings dialog wired together over one Library."""

    def __init__(
        self, library: Library, pool: WorkerPool, *, menu_entry: MenuEntryOffer | None = None
    ) -> None:
        self.library = library
        self.pool = pool
        self.window = MainWindow(library, pool)
        self.window.setWindowIcon(app_icon())
        self.tray = TrayController(self.window, self.window.live)
        # The first run offers to add the app to the applications menu (``menu_entry``: this
        # session's menu folders unless a test gives others).
        self.menu_offer = self._offer_menu_entry(menu_entry or MenuEntryOffer(
            library.settings_service))  # fmt: skip
        self._connect()
        settings = QAction("Settings…", self.window)
        settings.setShortcut(QKeySequence("Ctrl+,"))
        settings.triggered.connect(self.open_settings)
        self.window.add_action(settings)

    def _connect(self) -> None:
        window, tray = self.window, self.tray
        window.activity_changed.connect(tray.show_activity)
        window.problem.connect(tray.problem)
        # Paused or resumed from the tray menu: the window's button and status follow.
        tray.pause_toggled.connect(lambda _paused: window.refresh_activity())
        tray.quit_requested.connect(window.shutdown)
        window.close_requested.connect(self._close_requested)
        tray.show_activity(window.activity)

    def _offer_menu_entry(self, offer: MenuEntryOffer) -> MenuOfferBox | None:
        """On the first-run panel while no entry exists and it was not declined."""
        if not offer.wanted():
            return None
        box = MenuOfferBox(offer, self.pool, self.window.first_run)
        self.window.first_run.show_menu_offer(box)
        return box

    def _close_requested(self, event: QCloseEvent) -> None:
        """Closing the window keeps the live index running in the tray when the user wants."""
        if self.tray.should_hide_on_close(self.library.settings):
            event.ignore()
            self.window.hide()
            self.tray.notify("desktop-search keeps indexing in the background")

    def open_settings(self) -> None:
        # While the live index runs it holds the writer lock: folders are removed through it.
        dialog = SettingsDialog(
            self.library, self.pool, self.window, forget_folder=self.window.forget_folder
        )
        dialog.folder_added.connect(lambda folder: self.window.index_folders([folder]))
        dialog.model_changed.connect(self.window.model_changed)

        def saved(change: SettingsChange) -> None:
            # Other exclude patterns: look again (newly excluded photos go, others come).
            if change.rescan:
                self.window.index_folders([])

        dialog.settings_saved.connect(saved)
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

    ``hidden``: start in the tray only (start at login); the live index keeps the known
    folders current either way.
    """
    vips_decode.keep_out()  # its own GLib next to Qt's (extract/vips_decode.py)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    # The desktop entry's name: a Wayland compositor finds the entry, and its icon, by it.
    app.setDesktopFileName(APP_NAME)
    app.setWindowIcon(app_icon())  # every window (dialogs too) and the X11 task switcher
    library = Library.open(home)
    _load_tokenizer(library)
    pool = WorkerPool()
    try:
        desktop = DesktopApp(library, pool)
        # Without a tray icon a hidden window could never be reopened: show it anyway.
        app.setQuitOnLastWindowClosed(desktop.tray.tray_icon is None)
        if not hidden or desktop.tray.tray_icon is None:
            desktop.window.show()
        with _quitting_on_signals(app):
            code = app.exec()
        desktop.window.shutdown()
        return code
    finally:
        pool.wait()
        library.close()


@contextlib.contextmanager
def _quitting_on_signals(app: QApplication) -> Iterator[None]:
    """SIGTERM (the session logging out, `kill`) and SIGINT (Ctrl+C in a terminal) quit as the
    tray's Quit does: the window shuts down, the live index stops, the library closes; the exit
    code is 0. Python runs a signal handler only between bytecodes, and Qt's event loop keeps
    the main thread in C++: a timer hands it back to Python every 200 ms."""
    handled = (signal.SIGTERM, signal.SIGINT)
    before = {number: signal.getsignal(number) for number in handled}
    for number in handled:
        signal.signal(number, lambda *_: app.quit())
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(200)
    try:
        yield
    finally:
        wake.stop()
        for number, handler in before.items():
            signal.signal(number, handler)
