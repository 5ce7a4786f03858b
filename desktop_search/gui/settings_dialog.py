"""The settings dialog: indexed folders, exclude patterns, the CLIP model, threads, startup.

Everything that touches the disk or the models (the folder list, removing a folder, listing,
switching and fetching models) runs on the worker pool; the dialog only edits values. OK and Apply
write the edited values into ``library.settings`` and persist them with ``save_settings()``
(and the login entry with ``autostart.set_autostart``); Cancel discards them. Switching the
model, adding/removing folders and fetching a model are actions that take effect at once.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_search import autostart
from desktop_search.errors import DesktopSearchError
from desktop_search.gui.workers import Worker, WorkerPool

log = logging.getLogger(__name__)

UNPINNED_REASON = "checksums not pinned yet — use 'desktop-search models import'"
ERROR_STYLE = "color: #b91c1c;"
ID_ROLE = Qt.ItemDataRole.UserRole

FolderChooser = Callable[[QWidget], "str | Path | None"]
Confirm = Callable[[QWidget, str, str], bool]


def choose_folder(parent: QWidget) -> str:
    return QFileDialog.getExistingDirectory(parent, "Add a folder to index", str(Path.home()))


def confirm(parent: QWidget, title: str, text: str) -> bool:
    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
    answer = QMessageBox.question(parent, title, text, buttons, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def one_line(error: BaseException | str) -> str:
    """The first line of an error (DesktopSearchError's str is one line already), kept short."""
    text = str(error).strip()
    if not text and isinstance(error, BaseException):
        text = type(error).__name__
    line = text.splitlines()[0] if text else "unknown error"
    return line if len(line) <= 240 else line[:239] + "…"


def human_size(size: int | None) -> str:
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def parse_patterns(text: str) -> list[str]:
    """One glob per line; blank lines dropped, duplicates kept once, order kept."""
    patterns: list[str] = []
    for line in text.splitlines():
        pattern = line.strip()
        if pattern and pattern not in patterns:
            patterns.append(pattern)
    return patterns


class SettingsDialog(QDialog):
    """``SettingsDialog(library, pool, parent=None)``; ``choose_folder`` and ``confirm`` are
    injectable (tests). Signals: ``folders_changed()`` after a folder was added or removed,
    ``folder_added(Path)`` for a newly chosen folder (the window starts indexing it),
    ``model_changed(str)`` when another CLIP model became active, ``settings_saved()``."""

    folders_changed = Signal()
    folder_added = Signal(object)  # pathlib.Path
    model_changed = Signal(str)
    settings_saved = Signal()

    def __init__(
        self,
        library: Any,
        pool: WorkerPool,
        parent: QWidget | None = None,
        *,
        choose_folder: FolderChooser = choose_folder,
        confirm: Confirm = confirm,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.pool = pool
        self._choose_folder = choose_folder
        self._confirm = confirm
        self._workers: set[Worker] = set()
        self._pending_folders: list[Path] = []  # added here, not indexed (not a root) yet
        self._roots: list[str] = []
        self._updating_models = False
        self._fetching: str | None = None
        self._available: dict[str, Any] = {}
        self._installed: set[str] = set()

        self.setWindowTitle("desktop-search settings")
        self.setMinimumSize(760, 460)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._folders_tab(), "Folders")
        self.tabs.addTab(self._exclude_tab(), "Exclude")
        self.tabs.addTab(self._model_tab(), "Model")
        self.tabs.addTab(self._performance_tab(), "Performance")
        self.tabs.addTab(self._startup_tab(), "Startup")

        self.save_status = QLabel()
        self.save_status.setStyleSheet(ERROR_STYLE)
        self.save_status.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Apply
            | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.apply_button.clicked.connect(self.apply)

        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.save_status)
        layout.addWidget(self.buttons)

        self.load_values()
        self.reload_folders()
        self.reload_models()

    # -- tabs -----------------------------------------------------------------------------

    def _folders_tab(self) -> QWidget:
        page = QWidget()
        self.folder_list = QListWidget()
        self.folder_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.folder_list.itemSelectionChanged.connect(self._update_folder_buttons)
        self.add_folder_button = QPushButton("Add folder…")
        self.remove_folder_button = QPushButton("Remove")
        self.add_folder_button.clicked.connect(self.add_folder)
        self.remove_folder_button.clicked.connect(self.remove_selected_folder)
        self.remove_folder_button.setEnabled(False)
        self.folders_status = QLabel("Loading…")
        self.folders_status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_folder_button)
        buttons.addWidget(self.remove_folder_button)
        buttons.addStretch()
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("Folders whose photos are indexed (and kept up to date):"))
        layout.addWidget(self.folder_list)
        layout.addLayout(buttons)
        layout.addWidget(self.folders_status)
        return page

    def _exclude_tab(self) -> QWidget:
        page = QWidget()
        self.exclude_edit = QPlainTextEdit()
        self.exclude_edit.setPlaceholderText("*.tmp\n**/node_modules/**\n~/Pictures/private/*")
        help_text = QLabel(
            "Files and folders matching these patterns are skipped. One glob pattern per line."
        )
        help_text.setWordWrap(True)
        layout = QVBoxLayout(page)
        layout.addWidget(help_text)
        layout.addWidget(self.exclude_edit)
        return page

    def _model_tab(self) -> QWidget:
        page = QWidget()
        self.model_combo = QComboBox()
        self.model_combo.currentIndexChanged.connect(self._model_selected)
        self.model_status = QLabel()
        self.model_status.setWordWrap(True)
        self.available_list = QTreeWidget()
        self.available_list.setHeaderLabels(["Model", "Size", "Status"])
        self.available_list.setRootIsDecorated(False)
        header = self.available_list.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.available_list.itemSelectionChanged.connect(self._update_fetch_button)
        self.unpinned_note = QLabel(f"Greyed out: {UNPINNED_REASON} to add it from local files.")
        self.unpinned_note.setWordWrap(True)
        self.unpinned_note.setVisible(False)
        self.fetch_button = QPushButton("Fetch")
        self.fetch_button.setEnabled(False)
        self.fetch_button.clicked.connect(self.fetch_selected)
        self.fetch_progress = QProgressBar()
        self.fetch_progress.setVisible(False)
        self.fetch_status = QLabel()
        self.fetch_status.setWordWrap(False)
        active = QFormLayout()
        active.addRow("Active CLIP model:", self.model_combo)
        fetch_row = QHBoxLayout()
        fetch_row.addWidget(self.fetch_button)
        fetch_row.addWidget(self.fetch_progress, 1)
        layout = QVBoxLayout(page)
        layout.addLayout(active)
        layout.addWidget(self.model_status)
        layout.addWidget(QLabel("Available CLIP models:"))
        layout.addWidget(self.available_list)
        layout.addWidget(self.unpinned_note)
        layout.addLayout(fetch_row)
        layout.addWidget(self.fetch_status)
        return page

    def _performance_tab(self) -> QWidget:
        page = QWidget()
        cores = os.cpu_count() or 1
        self.threads_spin = QSpinBox()
        self.threads_spin.setRange(0, cores)
        self.threads_spin.setSpecialValueText(f"All cores ({cores})")
        note = QLabel("Threads that decode photos while indexing. Fewer keep the computer "
                      "more responsive; used from the next indexing run.")  # fmt: skip
        note.setWordWrap(True)
        layout = QFormLayout(page)
        layout.addRow("CPU threads for indexing:", self.threads_spin)
        layout.addRow(note)
        return page

    def _startup_tab(self) -> QWidget:
        page = QWidget()
        self.start_at_login_check = QCheckBox("Start desktop-search at login (in the tray)")
        self.keep_in_tray_check = QCheckBox(
            "Keep running in the tray when the window closes (indexing continues)"
        )
        layout = QVBoxLayout(page)
        layout.addWidget(self.start_at_login_check)
        layout.addWidget(self.keep_in_tray_check)
        layout.addStretch()
        return page

    @property
    def apply_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Apply)

    @property
    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    # -- values -----------------------------------------------------------------------------

    def load_values(self) -> None:
        """Show ``library.settings`` (cheap: in-memory values)."""
        settings = self.library.settings
        self.exclude_edit.setPlainText("\n".join(settings.exclude))
        self.threads_spin.setValue(
            min(max(int(settings.index_threads), 0), self.threads_spin.maximum())
        )
        self.start_at_login_check.setChecked(bool(getattr(settings, "start_at_login", False)))
        self.keep_in_tray_check.setChecked(bool(getattr(settings, "keep_in_tray", False)))

    def exclude_patterns(self) -> list[str]:
        return parse_patterns(self.exclude_edit.toPlainText())

    @Slot()
    def apply(self) -> bool:
        """Persist the edited values; False (with the reason shown) when that failed."""
        settings = self.library.settings
        before = dataclasses.replace(settings, exclude=list(settings.exclude))
        settings.exclude = self.exclude_patterns()
        settings.index_threads = self.threads_spin.value()
        settings.start_at_login = self.start_at_login_check.isChecked()
        settings.keep_in_tray = self.keep_in_tray_check.isChecked()
        try:
            self.library.save_settings()
        except (OSError, DesktopSearchError) as error:
            for item in dataclasses.fields(before):
                setattr(settings, item.name, getattr(before, item.name))
            self.save_status.setText(f"Settings not saved: {one_line(error)}")
            return False
        try:
            autostart.set_autostart(settings.start_at_login)
        except OSError as error:
            self.save_status.setText(f"Could not change start at login: {one_line(error)}")
            return False
        self.save_status.clear()
        self.exclude_edit.setPlainText("\n".join(settings.exclude))
        self.settings_saved.emit()
        return True

    def accept(self) -> None:
        if self.apply():
            super().accept()

    # -- workers ----------------------------------------------------------------------------

    def _run(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> Worker:
        # Connect before starting: a quick task could emit before a later connect() (lost signals).
        worker = Worker(fn, *args)
        signals = worker.signals
        if on_result is not None:
            signals.result.connect(on_result)
        if on_error is not None:
            signals.error.connect(on_error)
        if on_progress is not None:
            signals.progress.connect(on_progress)
        self._workers.add(worker)
        workers = self._workers
        # Drop the reference after the finished signal returned (never inside its emission).
        signals.finished.connect(lambda: QTimer.singleShot(0, lambda: workers.discard(worker)))
        self.pool.pool.start(worker)
        return worker

    @property
    def busy(self) -> bool:
        """True while one of the dialog's background tasks runs."""
        return bool(self._workers)

    # -- folders ----------------------------------------------------------------------------

    @Slot()
    def reload_folders(self) -> None:
        self.folders_status.setStyleSheet("")
        self.folders_status.setText("Loading…")
        self._run(self.library.roots, on_result=self._show_roots, on_error=self._folders_error)

    def _show_roots(self, roots: list[str]) -> None:
        self._roots = [str(root) for root in roots]
        known = set(self._roots)
        self._pending_folders = [p for p in self._pending_folders if str(p) not in known]
        self._fill_folder_list()

    def _fill_folder_list(self) -> None:
        selected = self.selected_folder()
        self.folder_list.clear()
        for root in self._roots:
            item = QListWidgetItem(root)
            item.setData(ID_ROLE, root)
            self.folder_list.addItem(item)
        for pending in self._pending_folders:
            item = QListWidgetItem(f"{pending}  (to be indexed)")
            item.setData(ID_ROLE, str(pending))
            self.folder_list.addItem(item)
        for row in range(self.folder_list.count()):
            if self.folder_list.item(row).data(ID_ROLE) == selected:
                self.folder_list.setCurrentRow(row)
        count = len(self._roots) + len(self._pending_folders)
        if count:
            self.folders_status.setText(f"{count} folder{'s' if count != 1 else ''}")
        else:
            self.folders_status.setText("No folders yet: add one to start indexing.")
        self._update_folder_buttons()

    def _folders_error(self, error: BaseException) -> None:
        self.folders_status.setStyleSheet(ERROR_STYLE)
        self.folders_status.setText(one_line(error))

    def folders(self) -> list[str]:
        """The folders the list shows (indexed ones first, then the ones still to be indexed)."""
        return [self.folder_list.item(row).data(ID_ROLE) for row in range(self.folder_list.count())]

    def selected_folder(self) -> str | None:
        item = self.folder_list.currentItem()
        return item.data(ID_ROLE) if item is not None and item.isSelected() else None

    def _update_folder_buttons(self) -> None:
        self.remove_folder_button.setEnabled(self.selected_folder() is not None)

    @Slot()
    def add_folder(self) -> None:
        chosen = self._choose_folder(self)
        if not chosen:
            return
        folder = Path(os.path.abspath(Path(chosen).expanduser()))
        if not folder.is_dir():
            self._folders_error(DesktopSearchError(f"not a folder: {folder}"))
            return
        if str(folder) in self._roots or folder in self._pending_folders:
            self.folders_status.setText(f"{folder} is already indexed")
            return
        self._pending_folders.append(folder)
        self._fill_folder_list()
        self.folder_added.emit(folder)
        self.folders_changed.emit()

    @Slot()
    def remove_selected_folder(self) -> None:
        folder = self.selected_folder()
        if folder is None:
            return
        pending = Path(folder)
        if folder not in self._roots and pending in self._pending_folders:
            self._pending_folders.remove(pending)
            self._fill_folder_list()
            self.folders_changed.emit()
            return
        text = (f"Stop indexing {folder} and forget its photos?\n\n"
                "The files themselves are not touched.")  # fmt: skip
        if not self._confirm(self, "Remove folder", text):
            return
        self.remove_folder_button.setEnabled(False)
        self.folders_status.setStyleSheet("")
        self.folders_status.setText(f"Removing {folder}…")
        self._run(
            self.library.remove_root, folder, on_result=self._removed, on_error=self._remove_failed
        )

    def _removed(self, count: int) -> None:
        self.reload_folders()
        self.folders_changed.emit()

    def _remove_failed(self, error: BaseException) -> None:
        self._folders_error(error)
        self._update_folder_buttons()

    # -- models -----------------------------------------------------------------------------

    @Slot()
    def reload_models(self) -> None:
        self.model_combo.setEnabled(False)
        self._run(self._list_models, on_result=self._show_models, on_error=self._models_error)

    def _list_models(self) -> tuple[list[Any], list[Any]]:
        installed = [m for m in self.library.models.list_all() if m.kind == "clip"]
        available = [m for m in self.library.available_models() if m.kind == "clip"]
        return installed, available

    def _show_models(self, models: tuple[list[Any], list[Any]]) -> None:
        installed, available = models
        active = self.library.active_model_name
        self._installed = {m.id for m in installed}
        self._updating_models = True
        try:
            self.model_combo.clear()
            for model in installed:
                self.model_combo.addItem(
                    f"{model.id}  ({model.precision}, {human_size(model.size_bytes)})", model.id
                )
            if not installed:
                self.model_combo.addItem("No CLIP model installed", None)
            index = self.model_combo.findData(active) if active else -1
            self.model_combo.setCurrentIndex(max(index, 0))
            self.model_combo.setEnabled(bool(installed))
        finally:
            self._updating_models = False
        if not installed:
            self.model_status.setText(
                "Without a model photos are catalogued and found by file name only."
            )
        elif active not in self._installed:
            self.model_status.setText("No model is active: choose one.")
        self._fill_available(available)

    def _fill_available(self, available: list[Any]) -> None:
        selected = self.selected_available()
        self._available = {m.id: m for m in available}
        self.available_list.clear()
        for manifest in available:
            if manifest.id in self._installed:
                status = "installed"
            elif manifest.pinned:
                status = "can be fetched"
            else:
                status = UNPINNED_REASON
            default = "  (default)" if getattr(manifest, "default", False) else ""
            item = QTreeWidgetItem([f"{manifest.name}{default}", human_size(manifest.total_size),
                                    status])  # fmt: skip
            item.setData(0, ID_ROLE, manifest.id)
            item.setToolTip(0, f"{manifest.id} — license: {manifest.license}")
            item.setToolTip(2, status)
            if not manifest.pinned and manifest.id not in self._installed:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.available_list.addTopLevelItem(item)
            if manifest.id == selected:
                item.setSelected(True)
        self.unpinned_note.setVisible(
            any(not m.pinned and m.id not in self._installed for m in available)
        )
        self._update_fetch_button()

    def _models_error(self, error: BaseException) -> None:
        self.model_status.setStyleSheet(ERROR_STYLE)
        self.model_status.setText(one_line(error))

    def installed_models(self) -> list[str]:
        return [
            self.model_combo.itemData(i)
            for i in range(self.model_combo.count())
            if self.model_combo.itemData(i) is not None
        ]

    def available_item(self, model_id: str) -> QTreeWidgetItem | None:
        for row in range(self.available_list.topLevelItemCount()):
            item = self.available_list.topLevelItem(row)
            if item.data(0, ID_ROLE) == model_id:
                return item
        return None

    def selected_available(self) -> str | None:
        items = self.available_list.selectedItems()
        return items[0].data(0, ID_ROLE) if items else None

    def _model_selected(self, index: int) -> None:
        if self._updating_models or index < 0:
            return
        model_id = self.model_combo.itemData(index)
        if not model_id or model_id == self.library.active_model_name:
            return
        self.model_combo.setEnabled(False)
        self.model_status.setStyleSheet("")
        self.model_status.setText(f"Switching to {model_id}…")
        self._run(
            self._use_model, model_id, on_result=self._model_used, on_error=self._use_model_failed
        )

    def _use_model(self, model_id: str) -> str:
        self.library.use_model(model_id)
        return model_id

    def _model_used(self, model_id: str) -> None:
        self.model_combo.setEnabled(True)
        self.model_status.setText(f"Using {model_id}. Photos without its embeddings are "
                                  "encoded by the next indexing run.")  # fmt: skip
        self.model_changed.emit(model_id)

    def _use_model_failed(self, error: BaseException) -> None:
        self._models_error(error)
        self._updating_models = True
        index = self.model_combo.findData(self.library.active_model_name)
        self.model_combo.setCurrentIndex(max(index, 0))
        self._updating_models = False
        self.model_combo.setEnabled(True)

    def _update_fetch_button(self) -> None:
        model_id = self.selected_available()
        manifest = self._available.get(model_id) if model_id else None
        self.fetch_button.setEnabled(
            manifest is not None
            and manifest.pinned
            and model_id not in self._installed
            and self._fetching is None
        )

    @Slot()
    def fetch_selected(self) -> None:
        model_id = self.selected_available()
        if model_id is not None:
            self.fetch(model_id)

    def fetch(self, model_id: str) -> None:
        """Download, verify and install ``model_id`` on a worker (progress shown, errors inline)."""
        if self._fetching is not None:
            return
        self._fetching = model_id
        self.fetch_button.setEnabled(False)
        self.fetch_status.setStyleSheet("")
        self.fetch_status.setText(f"Fetching {model_id}…")
        self.fetch_progress.setRange(0, 0)  # busy until the first progress report
        self.fetch_progress.setFormat("%p%")
        self.fetch_progress.setVisible(True)
        library = self.library

        def job(progress: Callable[[int, int], None]) -> str:
            # Qt signals carry 32-bit ints: report KiB so models above 2 GB still fit.
            def kib(done: int, total: int) -> None:
                progress(int(done) // 1024, int(total or 0) // 1024)

            library.fetch_model(model_id, progress=kib)
            return model_id

        self._run(
            job,
            on_result=self._fetched,
            on_error=self._fetch_failed,
            on_progress=self._fetch_progress,
        )

    def _fetch_progress(self, done_kib: int, total_kib: int) -> None:
        if total_kib <= 0:
            self.fetch_progress.setRange(0, 0)
            return
        self.fetch_progress.setRange(0, total_kib)
        self.fetch_progress.setValue(min(done_kib, total_kib))
        self.fetch_progress.setFormat(
            f"{human_size(done_kib * 1024)} of {human_size(total_kib * 1024)}"
        )

    def _fetched(self, model_id: str) -> None:
        before = self.model_combo.currentData()
        self._fetching = None
        self.fetch_progress.setVisible(False)
        self.fetch_status.setText(f"Installed {model_id}.")
        self.reload_models()
        active = self.library.active_model_name
        if active and active != before:
            self.model_changed.emit(active)

    def _fetch_failed(self, error: BaseException) -> None:
        self._fetching = None
        self.fetch_progress.setVisible(False)
        self.fetch_status.setStyleSheet(ERROR_STYLE)
        message = one_line(error)
        self.fetch_status.setText(f"Fetch failed: {message}")
        self.fetch_status.setToolTip(str(error))
        self._update_fetch_button()
