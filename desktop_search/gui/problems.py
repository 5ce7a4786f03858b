"""The problems view: every file that could not be indexed, with the reason.

``library.status().failures`` is read on a worker (pass a reader Library, ``library.reader()``,
when an indexing run may be writing at the same time). Files are grouped by reason (or listed
flat, sortable by any column), filtered by a text box that matches path and reason, counted, and
can be copied as a list or revealed in the file manager.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_search.gui.file_actions import file_url
from desktop_search.gui.plain_text import plain_label, plain_tip
from desktop_search.gui.workers import Worker, WorkerPool
from desktop_search.store.pathnames import readable_path

log = logging.getLogger(__name__)

PATH_ROLE = Qt.ItemDataRole.UserRole  # the exact bytes: Qt would drop those of a name not UTF-8
FILE_COLUMN, FOLDER_COLUMN, REASON_COLUMN = 0, 1, 2


def reveal_in_file_manager(path: str | Path) -> None:
    """Show ``path`` selected in the platform's file manager (its folder where that's all)."""
    path = Path(path)
    try:
        if sys.platform == "darwin":
            subprocess.Popen(["open", "-R", str(path)])  # noqa: S603, S607
            return
        if sys.platform == "win32":
            subprocess.Popen(["explorer", f"/select,{path}"])  # noqa: S603, S607
            return
    except OSError:
        log.debug("could not start the file manager", exc_info=True)
    folder = path if path.is_dir() else path.parent
    QDesktopServices.openUrl(file_url(folder))


class ProblemsView(QWidget):
    """``ProblemsView(library, pool, parent=None)``; ``reveal`` is injectable (tests).

    ``refresh()`` reloads the list in the background (at most one load in flight; a refresh
    asked meanwhile runs once the current one returns). ``loaded(count)`` follows every load.
    """

    loaded = Signal(int)

    def __init__(
        self,
        library: Any,
        pool: WorkerPool,
        parent: QWidget | None = None,
        *,
        reveal: Callable[[str], None] = reveal_in_file_manager,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.pool = pool
        self._reveal = reveal
        self._failures: list[tuple[str, str]] = []
        self._workers: set[Worker] = set()
        self._loading = False
        self._again = False

        self.setWindowTitle("Files that could not be indexed")
        self.resize(760, 460)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by file name, folder or reason")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._fill)
        self.group_check = QCheckBox("Group by reason")
        self.group_check.setChecked(True)
        self.group_check.toggled.connect(self._fill)
        self.count_label = plain_label("Loading…")
        self.error_label = plain_label()
        self.error_label.setStyleSheet("color: #b91c1c;")
        self.error_label.setVisible(False)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["File", "Folder", "Reason"])
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(FILE_COLUMN, Qt.SortOrder.AscendingOrder)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setSectionResizeMode(FILE_COLUMN, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(FILE_COLUMN, 260)
        header.resizeSection(FOLDER_COLUMN, 240)
        header.setStretchLastSection(True)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(self._double_clicked)

        self.refresh_button = QPushButton("Refresh")
        self.copy_button = QPushButton("Copy list")
        self.reveal_button = QPushButton("Reveal")
        self.copy_button.setToolTip("Copy the files shown (path and reason, one per line)")
        self.reveal_button.setToolTip("Show the selected file in the file manager")
        self.refresh_button.clicked.connect(self.refresh)
        self.copy_button.clicked.connect(self.copy_list)
        self.reveal_button.clicked.connect(self.reveal_selected)

        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.group_check)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.refresh_button)
        bottom.addWidget(self.copy_button)
        bottom.addWidget(self.reveal_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tree)
        layout.addWidget(self.error_label)
        layout.addLayout(bottom)
        self._update_buttons()
        self.refresh()

    # -- loading ----------------------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        if self._loading:
            self._again = True
            return
        self._loading = True
        self.refresh_button.setEnabled(False)
        started: list[Worker] = []
        workers = self._workers

        def finished() -> None:
            self._load_finished()
            # Queued to the GUI thread, so `started` is filled by now.
            QTimer.singleShot(0, lambda: workers.discard(started[0]))

        worker = self.pool.start(
            self._load, on_result=self._loaded, on_error=self._failed, on_finished=finished
        )
        started.append(worker)
        workers.add(worker)

    def _load(self) -> list[tuple[str, str]]:
        failures = self.library.status().failures
        return [(str(f.path), str(f.reason or "unknown reason")) for f in failures]

    def _loaded(self, failures: list[tuple[str, str]]) -> None:
        self._failures = failures
        self.error_label.setVisible(False)
        self._fill()
        self.loaded.emit(len(failures))

    def _failed(self, error: BaseException) -> None:
        text = str(error).strip().splitlines()
        self.error_label.setText(f"Could not read the list: {text[0] if text else error!r}")
        self.error_label.setVisible(True)
        self.count_label.setText("")

    def _load_finished(self) -> None:
        self._loading = False
        self.refresh_button.setEnabled(True)
        if self._again:
            self._again = False
            self.refresh()

    @property
    def busy(self) -> bool:
        return self._loading

    # -- showing ----------------------------------------------------------------------------

    def failures(self) -> list[tuple[str, str]]:
        """Every failure loaded (path, reason)."""
        return list(self._failures)

    def visible_failures(self) -> list[tuple[str, str]]:
        """The failures the filter lets through, sorted by reason then path."""
        needle = self.filter_edit.text().strip().casefold()
        shown = [
            (path, reason)
            for path, reason in self._failures
            if not needle or needle in readable_path(path).casefold() or needle in reason.casefold()
        ]
        return sorted(shown, key=lambda f: (f[1], f[0]))

    def _fill(self) -> None:
        shown = self.visible_failures()
        self.tree.setUpdatesEnabled(False)
        self.tree.setSortingEnabled(False)
        self.tree.clear()
        grouped = self.group_check.isChecked()
        self.tree.setColumnHidden(REASON_COLUMN, grouped)  # the group rows name the reason
        if grouped:
            groups: dict[str, QTreeWidgetItem] = {}
            for path, reason in shown:
                group = groups.get(reason)
                if group is None:
                    group = groups[reason] = QTreeWidgetItem(self.tree)
                    group.setFirstColumnSpanned(True)
                    group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                group.addChild(self._file_item(path, reason))
            for reason, group in groups.items():
                count = group.childCount()
                group.setText(FILE_COLUMN, f"{reason} ({count} file{'s' if count != 1 else ''})")
                group.setToolTip(FILE_COLUMN, plain_tip(reason))
                font = group.font(FILE_COLUMN)
                font.setBold(True)
                group.setFont(FILE_COLUMN, font)
            self.tree.expandAll()
        else:
            self.tree.addTopLevelItems([self._file_item(path, reason) for path, reason in shown])
        self.tree.setSortingEnabled(True)
        self.tree.setUpdatesEnabled(True)
        total = len(self._failures)
        if not total:
            self.count_label.setText("Every file was indexed: no problems.")
        elif len(shown) == total:
            self.count_label.setText(
                f"{total} file{'s' if total != 1 else ''} could not be indexed"
            )
        else:
            self.count_label.setText(f"{len(shown)} of {total} files shown")
        self.copy_button.setEnabled(bool(shown))
        self._update_buttons()

    @staticmethod
    def _file_item(path: str, reason: str) -> QTreeWidgetItem:
        text = readable_path(path)
        name, folder = os.path.basename(text) or text, os.path.dirname(text)
        item = QTreeWidgetItem([name, folder, reason])
        item.setData(FILE_COLUMN, PATH_ROLE, os.fsencode(path))
        item.setToolTip(FILE_COLUMN, plain_tip(text))
        item.setToolTip(REASON_COLUMN, plain_tip(reason))
        return item

    # -- actions ----------------------------------------------------------------------------

    def selected_paths(self) -> list[str]:
        return [
            os.fsdecode(item.data(FILE_COLUMN, PATH_ROLE))
            for item in self.tree.selectedItems()
            if item.data(FILE_COLUMN, PATH_ROLE)
        ]

    def _update_buttons(self) -> None:
        self.reveal_button.setEnabled(len(self.selected_paths()) == 1)

    def list_text(self) -> str:
        """What "Copy list" puts on the clipboard: ``path<TAB>reason`` per shown file."""
        return "".join(
            f"{readable_path(path)}\t{reason}\n" for path, reason in self.visible_failures()
        )

    @Slot()
    def copy_list(self) -> None:
        QGuiApplication.clipboard().setText(self.list_text())

    @Slot()
    def reveal_selected(self) -> None:
        paths = self.selected_paths()
        if paths:
            self._reveal(paths[0])

    def _double_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        path = item.data(FILE_COLUMN, PATH_ROLE)
        if path:
            self._reveal(os.fsdecode(path))
