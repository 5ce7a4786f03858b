"""The settings dialog: indexed folders, exclude patterns, the CLIP model, threads, startup.

Everything that touches the disk or the models (the folder list, removing a folder, listing,
switching and fetching models) runs on the worker pool; the dialog only edits values. OK and Apply
hand the edited values to ``library.settings_service.update`` (which checks, saves and changes
the login entry: the app layer, as for the CLI); Cancel discards them. Switching the
model, adding/removing folders and fetching a model are actions that take effect at once: the
Folders tab (settings_folders.py) and the Model tab (settings_model.py) carry them out.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_search.app.settings_service import Preferences, clean_patterns
from desktop_search.errors import AutostartError, DesktopSearchError
from desktop_search.gui.plain_text import plain_label
from desktop_search.gui.settings_common import ERROR_STYLE, TaskRunner, human_size, one_line
from desktop_search.gui.settings_folders import (
    Confirm,
    FolderChooser,
    FoldersTab,
    ForgetFolder,
    choose_folder,
    confirm,
)
from desktop_search.gui.settings_model import UNPINNED_REASON, ModelTab
from desktop_search.gui.workers import WorkerPool

# Re-exported: callers and tests import these from here since before the tabs were split out.
__all__ = [
    "UNPINNED_REASON",
    "Confirm",
    "FolderChooser",
    "SettingsDialog",
    "choose_folder",
    "confirm",
    "human_size",
    "one_line",
    "parse_patterns",
]

log = logging.getLogger(__name__)


def parse_patterns(text: str) -> list[str]:
    """One glob per line; blank lines dropped, duplicates kept once, order kept."""
    return clean_patterns(text.splitlines())


class SettingsDialog(QDialog):
    """``SettingsDialog(library, pool, parent=None)``; ``choose_folder`` and ``confirm`` are
    injectable (tests), ``forget_folder`` removes a folder through the app's live index (see
    settings_folders.py). Signals: ``folders_changed()`` after a folder was added or removed,
    ``folder_added(Path)`` for a newly chosen folder (the window starts indexing it),
    ``model_changed(str)`` when another CLIP model became active, and
    ``settings_saved(SettingsChange)``."""

    folders_changed = Signal()
    folder_added = Signal(object)  # pathlib.Path
    model_changed = Signal(str)
    settings_saved = Signal(object)  # SettingsChange: what the index should do about it

    def __init__(
        self,
        library: Any,
        pool: WorkerPool,
        parent: QWidget | None = None,
        *,
        choose_folder: FolderChooser = choose_folder,
        confirm: Confirm = confirm,
        forget_folder: ForgetFolder | None = None,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.pool = pool
        self._runner = TaskRunner(pool)
        self.folders_tab = FoldersTab(
            library, self._runner, choose_folder=choose_folder, confirm=confirm,
            forget_folder=forget_folder,
        )  # fmt: skip
        self.folders_tab.folder_added.connect(self.folder_added)
        self.folders_tab.folders_changed.connect(self.folders_changed)
        self.model_tab = ModelTab(library, self._runner)
        self.model_tab.model_changed.connect(self.model_changed)
        self._expose_tab_widgets()

        self.setWindowTitle("desktop-search settings")
        self.setMinimumSize(760, 460)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.folders_tab, "Folders")
        self.tabs.addTab(self._exclude_tab(), "Exclude")
        self.tabs.addTab(self.model_tab, "Model")
        self.tabs.addTab(self._performance_tab(), "Performance")
        self.tabs.addTab(self._startup_tab(), "Startup")
        self._build_buttons()

        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.save_status)
        layout.addWidget(self.buttons)

        self.load_values()
        self.reload_folders()
        self.reload_models()

    def _expose_tab_widgets(self) -> None:
        # The tabs' widgets stay reachable on the dialog, as they were before the split.
        folders, model = self.folders_tab, self.model_tab
        self.folder_list = folders.folder_list
        self.add_folder_button = folders.add_folder_button
        self.remove_folder_button = folders.remove_folder_button
        self.folders_status = folders.folders_status
        self.model_combo = model.model_combo
        self.model_status = model.model_status
        self.available_list = model.available_list
        self.unpinned_note = model.unpinned_note
        self.fetch_button = model.fetch_button
        self.fetch_progress = model.fetch_progress
        self.cancel_fetch_button = model.cancel_fetch_button
        self.fetch_status = model.fetch_status

    def _build_buttons(self) -> None:
        self.save_status = plain_label()  # errors name files
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

    # -- the tabs that only edit values ------------------------------------------------------

    def _exclude_tab(self) -> QWidget:
        page = QWidget()
        self.exclude_edit = QPlainTextEdit()
        self.exclude_edit.setPlaceholderText("*.tmp\n**/node_modules/**\n~/Pictures/private/*")
        help_text = plain_label(
            "Files and folders matching these patterns are skipped. One glob pattern per line."
        )
        help_text.setWordWrap(True)
        layout = QVBoxLayout(page)
        layout.addWidget(help_text)
        layout.addWidget(self.exclude_edit)
        return page

    def _performance_tab(self) -> QWidget:
        page = QWidget()
        cores = os.cpu_count() or 1
        self.threads_spin = QSpinBox()
        self.threads_spin.setRange(0, cores)
        self.threads_spin.setSpecialValueText(f"All cores ({cores})")
        note = plain_label("Threads that decode photos while indexing. Fewer keep the computer "
                      "more responsive; used for the photos indexed next.")  # fmt: skip
        note.setWordWrap(True)
        self.documents_check = QCheckBox(
            "Index documents and messages (PDF, text files, e-mail, chat exports)"
        )
        self.photo_text_check = QCheckBox("Read the text in photos (screenshots, receipts, signs)")
        self.objects_check = QCheckBox(
            "Find objects in photos (dog, bicycle, ...): slower indexing"
        )
        what = plain_label("Reading text in photos runs after everything else is indexed. Changes "
                      "apply from the next update of the index.")  # fmt: skip
        what.setWordWrap(True)
        layout = QFormLayout(page)
        layout.addRow("CPU threads for indexing:", self.threads_spin)
        layout.addRow(note)
        layout.addRow(self.documents_check)
        layout.addRow(self.photo_text_check)
        layout.addRow(self.objects_check)
        layout.addRow(what)
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
        self.documents_check.setChecked(bool(settings.index_documents))
        self.photo_text_check.setChecked(bool(settings.read_text_in_photos))
        self.objects_check.setChecked(bool(settings.detect_objects))
        self.start_at_login_check.setChecked(bool(getattr(settings, "start_at_login", False)))
        self.keep_in_tray_check.setChecked(bool(getattr(settings, "keep_in_tray", False)))

    def exclude_patterns(self) -> list[str]:
        return parse_patterns(self.exclude_edit.toPlainText())

    def edited_preferences(self) -> Preferences:
        return Preferences(
            exclude=tuple(self.exclude_patterns()), index_threads=self.threads_spin.value(),
            index_documents=self.documents_check.isChecked(),
            read_text_in_photos=self.photo_text_check.isChecked(),
            detect_objects=self.objects_check.isChecked(),
            start_at_login=self.start_at_login_check.isChecked(),
            keep_in_tray=self.keep_in_tray_check.isChecked(),
        )  # fmt: skip

    @Slot()
    def apply(self) -> bool:
        """Save the edited values; False (with the reason shown) when that failed."""
        try:
            change = self.library.settings_service.update(self.edited_preferences())
        except AutostartError as error:  # the values are saved, the login entry is not
            self.save_status.setText(f"Could not change start at login: {one_line(error)}")
            return False
        except DesktopSearchError as error:  # nothing was changed
            self.save_status.setText(f"Settings not saved: {one_line(error)}")
            return False
        self.save_status.clear()
        self.exclude_edit.setPlainText("\n".join(self.library.settings.exclude))
        self.settings_saved.emit(change)
        return True

    def accept(self) -> None:
        if self.apply():
            super().accept()

    @property
    def busy(self) -> bool:
        """True while one of the dialog's background tasks runs (a model's fetch too)."""
        return self._runner.busy or self.model_tab.downloading

    # -- the action tabs --------------------------------------------------------------------

    @Slot()
    def reload_folders(self) -> None:
        self.folders_tab.reload()

    def folders(self) -> list[str]:
        """The folders the list shows (indexed ones first, then the ones still to be indexed)."""
        return self.folders_tab.folders()

    @Slot()
    def reload_models(self) -> None:
        self.model_tab.reload()

    def installed_models(self) -> list[str]:
        return self.model_tab.installed_models()

    def available_item(self, model_id: str) -> QTreeWidgetItem | None:
        return self.model_tab.available_item(model_id)

    def fetch(self, model_id: str) -> None:
        """Download, verify and install ``model_id`` on a worker (progress shown, errors inline)."""
        self.model_tab.fetch(model_id)
