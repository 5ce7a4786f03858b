"""The first-run panel's offer to add the app to the applications menu: a question, two buttons.

It shows a ``MenuOfferState`` (viewmodels/menu_offer.py) and passes the answers to a
``MenuEntryOffer`` (app/menu_entry.py): Add installs on a worker (a cache tool may take a moment),
No thanks is saved in the settings so the question is not asked again.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from desktop_search.app.menu_entry import MenuEntryOffer
from desktop_search.errors import SettingsError
from desktop_search.gui.plain_text import plain_label, plain_tip
from desktop_search.gui.workers import WorkerPool
from desktop_search.viewmodels.menu_offer import FAILED, QUESTION, MenuOfferState

log = logging.getLogger(__name__)


class MenuOfferBox(QFrame):
    """The offer as a framed block; ``state`` is what it shows."""

    def __init__(self, offer: MenuEntryOffer, pool: WorkerPool,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.offer = offer
        self.pool = pool
        self.state = MenuOfferState()
        self.setObjectName("menuOffer")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.question = plain_label(QUESTION, self)
        font = self.question.font()
        font.setBold(True)
        self.question.setFont(font)
        self.line = plain_label(parent=self)  # an error may quote a path
        self.line.setWordWrap(True)
        self.add_button = QPushButton("Add to menu", self)
        self.decline_button = QPushButton("No, thanks", self)
        self.add_button.clicked.connect(self.accept)
        self.decline_button.clicked.connect(self.decline)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(self.question)
        layout.addWidget(self.line)
        row = QHBoxLayout()
        row.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)
        row.addWidget(self.decline_button, 0, Qt.AlignmentFlag.AlignLeft)
        row.addStretch(1)
        layout.addLayout(row)
        for event in self.state.events:
            event.connect(lambda _value: self.show_state())
        self.show_state()

    def show_state(self) -> None:
        state = self.state
        self.setVisible(state.visible)
        self.line.setText(state.line)
        # An error is one line, but a long one: the whole of it stays readable on hover.
        self.line.setToolTip(plain_tip(state.line) if state.phase == FAILED else "")
        for button in (self.add_button, self.decline_button):
            button.setVisible(state.buttons_shown)
        self.add_button.setText("Try again" if state.phase == FAILED else "Add to menu")

    def accept(self) -> None:
        if not self.state.buttons_shown:
            return  # adding already, or added
        self.state.adding()
        # Keyed by this widget: a result after the window closed reaches no deleted widget.
        self.pool.start_latest((self, "menu entry"), self.offer.accept,
                               on_result=self.state.added, on_error=self.state.failed)  # fmt: skip

    def decline(self) -> None:
        try:
            self.offer.decline()
        except SettingsError as error:
            self.state.failed(error)
            return
        self.state.declined()
