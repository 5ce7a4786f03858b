"""The row above the results: search box, query image, sort order and relevance cut-off.

It only builds and lays out the controls; the main window connects them to the search.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QSlider, QWidget

from desktop_search.gui.plain_text import plain_label
from desktop_search.gui.query_image import QueryImageBar
from desktop_search.gui.results import DATE, RELEVANCE
from desktop_search.gui.workers import WorkerPool


def cutoff_from_slider(value: int) -> float | None:
    # The slider is in hundredths of a score; 0 means no cut-off at all.
    return None if value == 0 else value / 100


class QueryRow(QWidget):
    cutoff_changed = Signal(object)  # float | None

    def __init__(self, pool: WorkerPool, paste_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        top = QHBoxLayout(self)
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(10)
        self.search_box = QLineEdit(self)
        self.search_box.setPlaceholderText(
            "Search photos, documents and messages: type what you remember, or drop an image"
        )
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setAcceptDrops(False)  # a dropped image file is an image query
        self.search_box.setMinimumHeight(32)
        top.addWidget(self.search_box, 1)
        self.query_bar = QueryImageBar(pool, paste_dir, self)
        top.addWidget(self.query_bar)
        self.sort_box = QComboBox(self)
        self.sort_box.addItem("Best match", RELEVANCE)
        self.sort_box.addItem("Newest first", DATE)
        self.sort_box.setToolTip("Order of the results")
        top.addWidget(self.sort_box)
        self._build_cutoff(top)

    def _build_cutoff(self, top: QHBoxLayout) -> None:
        self.cutoff_label = plain_label(parent=self)
        self.cutoff_label.setMinimumWidth(96)
        self.cutoff_slider = QSlider(Qt.Horizontal, self)
        self.cutoff_slider.setRange(0, 100)
        self.cutoff_slider.setFixedWidth(140)
        self.cutoff_slider.setToolTip("Hide weak matches: results scoring below this are hidden")
        self.cutoff_slider.valueChanged.connect(self._slider_moved)
        top.addWidget(self.cutoff_label)
        top.addWidget(self.cutoff_slider)
        self._show_cutoff(self.cutoff())

    def cutoff(self) -> float | None:
        return cutoff_from_slider(self.cutoff_slider.value())

    def _slider_moved(self, value: int) -> None:
        cutoff = cutoff_from_slider(value)
        self._show_cutoff(cutoff)
        self.cutoff_changed.emit(cutoff)

    def _show_cutoff(self, cutoff: float | None) -> None:
        self.cutoff_label.setText("Cut-off: off" if cutoff is None else f"Cut-off: {cutoff:.2f}")
