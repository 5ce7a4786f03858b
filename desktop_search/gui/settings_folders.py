"""The Folders tab of the settings dialog: the indexed folders, adding and removing one.

Listing and removing roots touch the database, so they run on the worker pool. A newly chosen
folder is only shown as "to be indexed": whoever listens to ``folder_added`` starts indexing it.
While the app's live index runs it holds the writer lock, so removing goes through it
(``forget_folder``); the folder leaves the list at once and its photos go in the background.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_search.errors import DesktopSearchError
from desktop_search.gui.plain_text import plain_label
from desktop_search.gui.settings_common import ERROR_STYLE, ID_ROLE, TaskRunner, one_line
from desktop_search.store.pathnames import readable_path

FolderChooser = Callable[[QWidget], "str | Path | None"]
Confirm = Callable[[QWidget, str, str], bool]
ForgetFolder = Callable[[str], bool]  # False: no live index took it (remove it here then)


def choose_folder(parent: QWidget) -> str:
    return QFileDialog.getExistingDirectory(parent, "Add a folder to index", str(Path.home()))


def confirm(parent: QWidget, title: str, text: str) -> bool:
    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
    box = QMessageBox(QMessageBox.Icon.Question, title, text, buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)  # the text names a folder
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.exec()
    return box.standardButton(box.clickedButton()) == QMessageBox.StandardButton.Yes


class FoldersTab(QWidget):
    """Signals: ``folders_changed()`` after a folder was added or removed, ``folder_added(Path)``
    for a newly chosen folder. ``choose_folder`` and ``confirm`` are replaceable (tests);
    ``forget_folder`` hands a removal to the app's live index."""

    folders_changed = Signal()
    folder_added = Signal(object)  # pathlib.Path

    def __init__(
        self,
        library: Any,
        runner: TaskRunner,
        *,
        choose_folder: FolderChooser = choose_folder,
        confirm: Confirm = confirm,
        forget_folder: ForgetFolder | None = None,
    ) -> None:
        super().__init__()
        self.library = library
        self.runner = runner
        self.choose_folder = choose_folder
        self.confirm = confirm
        self.forget_folder = forget_folder
        self._pending_folders: list[Path] = []  # added here, not indexed (not a root) yet
        self._forgetting: set[str] = set()  # handed to the live index, maybe not gone yet
        self._roots: list[str] = []
        self._build()

    def _build(self) -> None:
        self.folder_list = QListWidget()
        self.folder_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.folder_list.itemSelectionChanged.connect(self._update_buttons)
        self.add_folder_button = QPushButton("Add folder…")
        self.remove_folder_button = QPushButton("Remove")
        self.add_folder_button.clicked.connect(self.add_folder)
        self.remove_folder_button.clicked.connect(self.remove_selected_folder)
        self.remove_folder_button.setEnabled(False)
        self.folders_status = plain_label("Loading…")  # folder names, errors
        self.folders_status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_folder_button)
        buttons.addWidget(self.remove_folder_button)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label("Folders whose photos are indexed (and kept up to date):"))
        layout.addWidget(self.folder_list)
        layout.addLayout(buttons)
        layout.addWidget(self.folders_status)

    @Slot()
    def reload(self) -> None:
        self.folders_status.setStyleSheet("")
        self.folders_status.setText("Loading…")
        self.runner.run(self.library.roots, on_result=self._show_roots, on_error=self._error)

    def _show_roots(self, roots: list[str]) -> None:
        listed = [str(root) for root in roots]
        self._forgetting &= set(listed)
        self._roots = [root for root in listed if root not in self._forgetting]
        known = set(self._roots)
        self._pending_folders = [p for p in self._pending_folders if str(p) not in known]
        self._fill_list()

    def _fill_list(self) -> None:
        selected = self.selected_folder()
        self.folder_list.clear()
        for root in self._roots:
            self._add_item(readable_path(root), root)
        for pending in self._pending_folders:
            self._add_item(f"{readable_path(pending)}  (to be indexed)", str(pending))
        for row in range(self.folder_list.count()):
            if _folder_of(self.folder_list.item(row)) == selected:
                self.folder_list.setCurrentRow(row)
        count = len(self._roots) + len(self._pending_folders)
        if count:
            self.folders_status.setText(f"{count} folder{'s' if count != 1 else ''}")
        else:
            self.folders_status.setText("No folders yet: add one to start indexing.")
        self._update_buttons()

    def _add_item(self, text: str, folder: str) -> None:
        item = QListWidgetItem(text)
        item.setData(ID_ROLE, os.fsencode(folder))  # bytes: Qt keeps them, not a str's escapes
        self.folder_list.addItem(item)

    def _error(self, error: BaseException) -> None:
        self.folders_status.setStyleSheet(ERROR_STYLE)
        self.folders_status.setText(one_line(error))

    def folders(self) -> list[str]:
        """The folders the list shows (indexed ones first, then the ones still to be indexed)."""
        return [_folder_of(self.folder_list.item(row)) for row in range(self.folder_list.count())]

    def selected_folder(self) -> str | None:
        item = self.folder_list.currentItem()
        return _folder_of(item) if item is not None and item.isSelected() else None

    def _update_buttons(self) -> None:
        self.remove_folder_button.setEnabled(self.selected_folder() is not None)

    @Slot()
    def add_folder(self) -> None:
        # The dialog (our window) parents the chooser, as it did before the tabs were split out.
        chosen = self.choose_folder(self.window())
        if not chosen:
            return
        folder = Path(os.path.abspath(Path(chosen).expanduser()))
        if not folder.is_dir():
            self._error(DesktopSearchError(f"not a folder: {folder}"))
            return
        if str(folder) in self._roots or folder in self._pending_folders:
            self.folders_status.setText(f"{folder} is already indexed")
            return
        self._pending_folders.append(folder)
        self._fill_list()
        self.folder_added.emit(folder)
        self.folders_changed.emit()

    @Slot()
    def remove_selected_folder(self) -> None:
        folder = self.selected_folder()
        if folder is None:
            return
        pending = Path(folder)
        if folder not in self._roots and pending in self._pending_folders:
            # Never indexed: nothing to forget in the library, just drop it from the list.
            self._pending_folders.remove(pending)
            self._fill_list()
            self.folders_changed.emit()
            return
        text = (f"Stop indexing {folder} and forget its photos?\n\n"
                "The files themselves are not touched.")  # fmt: skip
        if not self.confirm(self.window(), "Remove folder", text):
            return
        if self.forget_folder is not None and self.forget_folder(folder):
            self._forgetting.add(folder)
            self._roots.remove(folder)
            self._fill_list()
            self.folders_changed.emit()
            return
        self.remove_folder_button.setEnabled(False)
        self.folders_status.setStyleSheet("")
        self.folders_status.setText(f"Removing {folder}…")
        self.runner.run(
            self.library.remove_root, folder, on_result=self._removed, on_error=self._remove_failed
        )

    def _removed(self, count: int) -> None:
        self.reload()
        self.folders_changed.emit()

    def _remove_failed(self, error: BaseException) -> None:
        self._error(error)
        self._update_buttons()


def _folder_of(item: QListWidgetItem) -> str:
    """The folder a list entry stands for (as the os functions spell it)."""
    return os.fsdecode(item.data(ID_ROLE))
