"""The offer of the default CLIP model: name, size, licence, one button, then the download.

It only renders a ``DownloadState`` (model_download.py) and passes clicks on to its
``ModelDownload``; two of them may show the same download (the first-run panel's, and the
window's banner once folders are indexed), so both always say the same thing.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_search.gui.model_download import DOWNLOADING, FAILED, DownloadState, ModelDownload
from desktop_search.gui.plain_text import plain_label, plain_tip

WHERE_FROM = (
    "Downloaded once from the Hugging Face hub when you press the button; your photos never "
    "leave this computer."
)
BANNER_NOTE = "No CLIP model: photos are found by file name only."
PERMILLE = 1000  # the bar's range: byte counts pass what a QProgressBar's int can hold


def show_progress(bar: QProgressBar, state: DownloadState) -> None:
    """A download's bar: shown while busy; a busy bar while connecting or installing."""
    bar.setVisible(state.busy)
    fraction = state.fraction
    if fraction is None:
        bar.setRange(0, 0)
    else:
        bar.setRange(0, PERMILLE)
        bar.setValue(round(fraction * PERMILLE))


def _plain_label(parent: QWidget) -> QLabel:
    label = plain_label(parent=parent)  # model names, errors: never markup
    # Wrapped, also in the banner's row: an error line is long, and an unwrapped label would
    # make the window as wide as its text.
    label.setWordWrap(True)
    return label


class ModelOffer(QFrame):
    """``compact``: one row for the window's banner; otherwise the first-run panel's block."""

    def __init__(self, download: ModelDownload, parent: QWidget | None = None, *,
                 compact: bool = False) -> None:  # fmt: skip
        super().__init__(parent)
        self.download = download
        self.compact = compact
        self.setObjectName("modelOffer")
        self.details = _plain_label(self)
        self.where = _plain_label(self)
        self.where.setText(WHERE_FROM)
        self.button = QPushButton(self)
        self.button.clicked.connect(download.start)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(download.cancel)
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setTextVisible(False)  # the words are in ``line``: bytes, speed, time
        self.line = _plain_label(self)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        if compact:
            self._build_row()
        else:
            self._build_block()
        download.changed.connect(self.show_state)
        self.show_state(download.state)

    def _build_block(self) -> None:
        font = self.details.font()
        font.setBold(True)
        self.details.setFont(font)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(self.details)
        layout.addWidget(self.where)
        row = QHBoxLayout()
        row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignLeft)  # its size, not the row's
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        layout.addWidget(self.line)

    def _build_row(self) -> None:
        self.where.hide()
        self.setToolTip(WHERE_FROM)
        self.progress_bar.setFixedWidth(180)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.details)
        layout.addWidget(self.line, 1)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.button)
        layout.addWidget(self.cancel_button)

    def show_state(self, state: DownloadState) -> None:
        offer = state.offer
        if not self.compact:
            self.details.setText(offer.details)
        elif state.button_shown and state.phase != FAILED:  # offered, or cancelled
            self.details.setText(f"{BANNER_NOTE} {offer.details}")
        else:  # one row: the model's name, then what happens to it
            doing = "Downloading " if state.phase == DOWNLOADING else ""
            self.details.setText(f"{doing}{offer.name}:")
        self.button.setText(state.button_text)
        self.button.setVisible(state.button_shown)
        self.button.setEnabled(state.button_enabled)
        self.cancel_button.setVisible(state.busy)
        self.cancel_button.setEnabled(state.can_cancel)
        show_progress(self.progress_bar, state)
        self.line.setText(state.line)
        self.line.setVisible(bool(state.line))
        # An error is one line, but a long one: the whole of it stays readable on hover.
        self.line.setToolTip(plain_tip(state.line) if state.phase == FAILED else "")
