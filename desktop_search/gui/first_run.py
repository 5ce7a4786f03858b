"""The first-run panel: shown while nothing is indexed, it asks which folders to index.

Without a CLIP model it also offers the default one (``ModelOffer``): name, size, licence and a
Download button; nothing is asked of the network before that button is pressed. The app (not
every window) adds the offer to put it in the applications menu under the buttons
(``show_menu_offer``, gui/menu_offer.py).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_search.gui.model_download import INSTALLED, ModelDownload
from desktop_search.gui.model_offer import ModelOffer
from desktop_search.gui.plain_text import plain_label

NOTHING_INDEXED = "Nothing indexed yet — add a folder"


def pictures_folder() -> Path | None:
    location = QStandardPaths.writableLocation(QStandardPaths.PicturesLocation)
    return Path(location) if location else None


class FirstRunPanel(QFrame):
    """Nothing indexed yet: which folders to index (Pictures by default) and a Start button."""

    start = Signal(list)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRun")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        box = QFrame(self)
        box.setMaximumWidth(560)
        layout = QVBoxLayout(box)
        layout.setSpacing(12)
        self.heading = plain_label(NOTHING_INDEXED, box)
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.heading.setFont(font)
        layout.addWidget(self.heading)
        self.explain = plain_label(
            "Choose the folders with your photos. They are indexed on this computer; nothing "
            "leaves it. You can search while indexing runs.", box)  # fmt: skip
        self.explain.setWordWrap(True)
        layout.addWidget(self.explain)
        self.model_note = plain_label(parent=box)
        self.model_note.setWordWrap(True)
        self.model_note.hide()
        layout.addWidget(self.model_note)
        self._model_box = layout  # the offer goes under the note (show_model_offer)
        self.model_offer: ModelOffer | None = None
        self.folders = QListWidget(box)
        self.folders.setMaximumHeight(120)
        layout.addWidget(self.folders)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add folder…", box)
        self.remove_button = QPushButton("Remove", box)
        self.start_button = QPushButton("Start indexing", box)
        self.start_button.setDefault(True)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        layout.addLayout(buttons)
        self._column = layout  # offers the app makes go at its end (show_menu_offer)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box, 3)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.add_button.clicked.connect(self._choose)
        self.remove_button.clicked.connect(self._remove)
        self.start_button.clicked.connect(lambda: self.start.emit(self.chosen()))
        default = pictures_folder()
        if default is not None and default.is_dir():
            self.add_folder(default)
        self._update()

    def show_no_model_note(self) -> None:
        self.model_note.setText(
            "No CLIP model is installed yet: photos are catalogued and found by name until "
            "one is (see Settings → Models, or 'desktop-search models list')."
        )
        self.model_note.show()

    def show_model_offer(self, download: ModelDownload) -> None:
        """No CLIP model: offer the default one under the note (a button, no network yet)."""
        self.model_note.setText(
            "No CLIP model is installed yet: photos are catalogued and found by file name until "
            "one is. To search them by what they show, download this one:"
        )
        self.model_note.show()
        if self.model_offer is None:
            self.model_offer = ModelOffer(download, self.model_note.parentWidget())
            self._model_box.insertWidget(self._model_box.indexOf(self.model_note) + 1,
                                         self.model_offer)  # fmt: skip
            download.changed.connect(lambda _state: self._model_changed())

    def show_menu_offer(self, offer: QWidget) -> None:
        """Show ``offer`` (the question whether to add the app to the menu) under the buttons."""
        self._column.addSpacing(8)
        self._column.addWidget(offer)

    def model_active(self) -> None:
        """A CLIP model is in use now (fetched here or chosen in Settings): no offer any more,
        but a download that runs still shows, and one that finished says "Installed"."""
        self.model_note.hide()
        offer = self.model_offer
        if offer is not None and not (offer.download.state.busy
                                      or offer.download.state.phase == INSTALLED):  # fmt: skip
            offer.hide()

    def _model_changed(self) -> None:
        if self.model_offer is not None and self.model_offer.download.state.phase == INSTALLED:
            self.model_note.hide()  # "Installed" under the model's name says it all

    def add_folder(self, folder: Path) -> None:
        if str(folder) not in self.chosen_strings():
            self.folders.addItem(str(folder))
        self._update()

    def chosen_strings(self) -> list[str]:
        return [self.folders.item(i).text() for i in range(self.folders.count())]

    def chosen(self) -> list[Path]:
        return [Path(text) for text in self.chosen_strings()]

    def clear_folders(self) -> None:
        self.folders.clear()
        self._update()

    def _choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder to index", str(Path.home()))
        if folder:
            self.add_folder(Path(folder))

    def _remove(self) -> None:
        for item in self.folders.selectedItems():
            self.folders.takeItem(self.folders.row(item))
        self._update()

    def _update(self) -> None:
        self.start_button.setEnabled(self.folders.count() > 0)
