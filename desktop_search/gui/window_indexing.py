"""The main window's indexing part: it shows what the live index does and passes requests on.

A mixin of ``MainWindow`` (kept apart so the window's module stays readable). It uses these of
the window: ``status`` (the latest ``library.status()``), ``search``, ``indexing_bar``,
``add_folder_action``, ``update_action``, ``first_run``, ``_status_poller``, the signals
``problem`` and ``activity_changed``, and ``refresh_status()``, ``_update_view()``,
``_update_status_line()``, ``_show_message()``, ``_shut_down``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from desktop_search.app.live import LiveStatus
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


class IndexingMixin:
    """``live`` (the app's ``LiveBridge``), what it shows and the requests the window passes on."""

    def _init_indexing(self, live: LiveBridge) -> None:
        """Call before building the widgets; ``_start_live()`` once they are all there."""
        self.live = live
        self._awaiting_roots = False  # folders asked for before the status lists any
        self._last_report = None
        self._live_busy = False
        self._told_error: str | None = None
        live.status_changed.connect(self._live_status)
        live.mode_changed.connect(self._live_mode)

    def _start_live(self) -> None:
        if not self._shut_down and self.live.mode == STOPPED:
            self.live.start()

    @property
    def activity(self) -> Activity:
        """What the indexing bar (and the tray) show now."""
        live = self.live
        return describe(live.mode, live.status, self.status, paused=live.paused, error=live.error)

    def choose_folder_to_index(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder to index", str(Path.home()))
        if folder:
            self.index_folders([Path(folder)])

    def index_folders(self, folders: list[Path]) -> bool:
        """Have the live index take in ``folders`` (empty: look at every indexed folder again).
        False when it does not run here (another process indexes)."""
        if self._shut_down:
            return False
        folders = [Path(folder) for folder in folders]
        if not self.live.rescan(folders):
            why = READER_NOTE if self.live.mode == READER else self.activity.line
            self._show_message(f"Not indexing here. {why}")
            return False
        self._awaiting_roots |= bool(folders)
        self._update_view()
        return True

    def forget_folder(self, root: str) -> bool:
        """Stop indexing ``root`` through the live index; False when it does not run here."""
        return not self._shut_down and self.live.forget(root)

    def model_changed(self, _model_id: str = "") -> None:
        """Another CLIP model is active (chosen or fetched in Settings, or downloaded from the
        first-run offer): the live index encodes what it has not seen yet (it builds its
        indexer from the library's active model at each step)."""
        if self._shut_down:
            return
        self.first_run.model_active()
        self.index_folders([])

    def pause_indexing(self) -> None:
        if self.live.pause():
            self.refresh_activity()

    def resume_indexing(self) -> None:
        if self.live.resume():
            self.refresh_activity()

    def _toggle_pause(self) -> None:
        if self.live.paused:
            self.resume_indexing()
        else:
            self.pause_indexing()

    def _live_status(self, status: LiveStatus) -> None:
        if self._shut_down:
            return
        report, was_busy = status.last_report, self._live_busy
        self._live_busy = status.state in BUSY_STATES
        if report is not None and report is not self._last_report:
            self._last_report = report  # a batch of changes is in: counts and results follow
            self.refresh_status()
            if not self.search.empty:
                self.search.refresh()
            if report.failed:
                self.problem.emit(failed_text(report.failed))
        elif was_busy and not self._live_busy:
            self.refresh_status()  # a rescan without changes may still have added a folder
        error = status.error if status.state == "error" else None
        if error and error != self._told_error:
            self.problem.emit(error)
        self._told_error = error
        self.refresh_activity()

    def _live_mode(self, mode: str) -> None:
        if mode == FAILED and not self._shut_down:
            self.problem.emit(f"Not watching folders: {self.live.error}")
        self.refresh_activity()

    def refresh_activity(self) -> None:
        """Show what the live index (or the process that indexes instead) is doing."""
        if self._shut_down:
            return
        activity = self.activity
        self.indexing_bar.show_activity(activity)
        running = self.live.running
        for item in (self.add_folder_action, self.update_action):
            item.setEnabled(running)
            item.setToolTip("" if running else READER_NOTE)
        self.first_run.start_button.setEnabled(running and self.first_run.folders.count() > 0)
        # Counts follow a long run now and then; a reader shows the other process' progress.
        if activity.busy or self.live.mode == READER:
            self._status_poller.start_polling()
        else:
            self._status_poller.stop_polling()
        self._update_status_line()
        self.activity_changed.emit(activity)
