"""The main window's indexing part: it shows what the live index does and passes requests on.

``IndexingPanel`` is an object the window owns. It takes the live index (``LiveBridge``), the
search (run again once a batch of changes is in), the status poller and the widgets it drives
(the indexing bar, the first-run panel, the Add folder and Update actions), and tells the window
what to show through its signals: ``activity_changed(Activity)``, ``problem(str)`` (a user-facing
line), ``message(str)`` (for the status line) and ``view_changed()`` (the central area may
change: folders were asked for).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QWidget

from desktop_search.app.live import LiveStatus
from desktop_search.app.status import LibraryStatus
from desktop_search.gui.first_run import FirstRunPanel
from desktop_search.gui.indexing_bar import IndexingBar
from desktop_search.gui.live_bridge import LiveBridge
from desktop_search.gui.live_text import (
    BUSY_STATES,
    FAILED,
    READER,
    READER_NOTE,
    STOPPED,
    Activity,
    describe,
    failed_text,
)
from desktop_search.gui.search_controller import SearchController
from desktop_search.gui.status_poller import StatusPoller

log = logging.getLogger(__name__)


class IndexingPanel(QObject):
    """``live`` (the app's ``LiveBridge``), what it shows and the requests the window passes on."""

    activity_changed = Signal(object)  # Activity
    problem = Signal(str)
    message = Signal(str)
    view_changed = Signal()

    def __init__(
        self,
        live: LiveBridge,
        search: SearchController,
        status_poller: StatusPoller,
        library_status: Callable[[], LibraryStatus | None],
        *,
        bar: IndexingBar,
        first_run: FirstRunPanel,
        actions: Iterable[QAction],
        dialog_parent: QWidget,
    ) -> None:
        super().__init__(dialog_parent)
        self.live = live
        self._search = search
        self._poller = status_poller
        self._library_status = library_status  # the window's latest library.status()
        self._bar, self._first_run = bar, first_run
        self._actions = list(actions)
        self._dialog_parent = dialog_parent
        self.awaiting_roots = False  # folders asked for before the status lists any
        self._last_report = None
        self._live_busy = False
        self._told_error: str | None = None
        self._closed = False
        bar.pause_clicked.connect(self.toggle_pause)
        live.status_changed.connect(self._live_status)
        live.mode_changed.connect(self._live_mode)

    def start_live(self) -> None:
        if not self._closed and self.live.mode == STOPPED:
            self.live.start()

    def close(self) -> None:
        """Show and pass on nothing more (the window shuts down)."""
        self._closed = True

    @property
    def activity(self) -> Activity:
        """What the indexing bar (and the tray) show now."""
        live = self.live
        return describe(live.mode, live.status, self._library_status(), paused=live.paused,
                        error=live.error)  # fmt: skip

    def status_loaded(self, status: LibraryStatus) -> None:
        """A new library status: folders listed, another process gone, counts to show."""
        if self._closed:
            return
        if status.roots:
            self.awaiting_roots = False
        self.live.take_over_if_free(status.indexer)

    def choose_folder_to_index(self) -> None:
        parent = self._dialog_parent
        folder = QFileDialog.getExistingDirectory(parent, "Folder to index", str(Path.home()))
        if folder:
            self.index_folders([Path(folder)])

    def index_folders(self, folders: list[Path]) -> bool:
        """Have the live index take in ``folders`` (empty: look at every indexed folder again).
        False when it does not run here (another process indexes)."""
        if self._closed:
            return False
        folders = [Path(folder) for folder in folders]
        if not self.live.rescan(folders):
            why = READER_NOTE if self.live.mode == READER else self.activity.line
            self.message.emit(f"Not indexing here. {why}")
            return False
        self.awaiting_roots |= bool(folders)
        self.view_changed.emit()
        return True

    def forget_folder(self, root: str) -> bool:
        """Stop indexing ``root`` through the live index; False when it does not run here."""
        return not self._closed and self.live.forget(root)

    def model_changed(self, _model_id: str = "") -> None:
        """Another CLIP model is active (chosen or fetched in Settings, or downloaded from the
        first-run offer): the live index encodes what it has not seen yet (it builds its
        indexer from the library's active model at each step)."""
        if self._closed:
            return
        self._first_run.model_active()
        self.index_folders([])

    def pause_indexing(self) -> None:
        if self.live.pause():
            self.refresh_activity()

    def resume_indexing(self) -> None:
        if self.live.resume():
            self.refresh_activity()

    def toggle_pause(self) -> None:
        if self.live.paused:
            self.resume_indexing()
        else:
            self.pause_indexing()

    def _live_status(self, status: LiveStatus) -> None:
        if self._closed:
            return
        report, was_busy = status.last_report, self._live_busy
        self._live_busy = status.state in BUSY_STATES
        if report is not None and report is not self._last_report:
            self._last_report = report  # a batch of changes is in: counts and results follow
            self._poller.refresh()
            if not self._search.empty:
                self._search.refresh()
            if report.failed:
                self.problem.emit(failed_text(report.failed))
        elif was_busy and not self._live_busy:
            self._poller.refresh()  # a rescan without changes may still have added a folder
        error = status.error if status.state == "error" else None
        if error and error != self._told_error:
            self.problem.emit(error)
        self._told_error = error
        self.refresh_activity()

    def _live_mode(self, mode: str) -> None:
        if mode == FAILED and not self._closed:
            self.problem.emit(f"Not watching folders: {self.live.error}")
        self.refresh_activity()

    def refresh_activity(self) -> None:
        """Show what the live index (or the process that indexes instead) is doing."""
        if self._closed:
            return
        activity = self.activity
        self._bar.show_activity(activity)
        running = self.live.running
        for item in self._actions:
            item.setEnabled(running)
            item.setToolTip("" if running else READER_NOTE)
        first_run = self._first_run
        first_run.start_button.setEnabled(running and first_run.folders.count() > 0)
        # Counts follow a long run now and then; a reader shows the other process' progress.
        if activity.busy or self.live.mode == READER:
            self._poller.start_polling()
        else:
            self._poller.stop_polling()
        self.activity_changed.emit(activity)
