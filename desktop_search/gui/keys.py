"""Keyboard handling of the main window: the keys of the search box and the results view.

``KeyRouter`` is installed as an event filter on both widgets and also handles the keys that
reach the window itself, so typing anywhere searches and Esc always starts over. It acts on the
window's ``SearchPanel`` (window_search.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence

if TYPE_CHECKING:
    from desktop_search.gui.window_search import SearchPanel


class KeyRouter(QObject):
    def __init__(self, search: SearchPanel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._search = search

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.KeyPress:
            if watched is self._search.view and self.view_key(event):
                return True
            if watched is self._search.search_box and self.search_key(event):
                return True
        return super().eventFilter(watched, event)

    def window_key(self, event: QKeyEvent) -> bool:
        """A key that reached the window itself; False lets the window handle it."""
        return self._common_key(event) or self._type_into_search(event)

    def _common_key(self, event: QKeyEvent) -> bool:
        search = self._search
        if event.key() == Qt.Key_Escape:
            search.clear_query()
            search.focus_search()
            return True
        if event.matches(QKeySequence.Find):
            search.focus_search()
            return True
        return False

    def search_key(self, event: QKeyEvent) -> bool:
        search = self._search
        if self._common_key(event):
            return True
        if event.key() in (Qt.Key_Down, Qt.Key_PageDown) and search.model.rowCount():
            search.view.setFocus(Qt.TabFocusReason)
            if not search.view.currentIndex().isValid():
                search.view.setCurrentIndex(search.model.index(0))
            return True
        if event.matches(QKeySequence.Paste):
            return search.paste_image()  # else the line edit pastes text
        return False

    def view_key(self, event: QKeyEvent) -> bool:
        search = self._search
        if self._common_key(event):
            return True
        key = event.key()
        if key in (Qt.Key_Return, Qt.Key_Enter):
            search.open_selected()
            return True
        if key == Qt.Key_Space and not event.modifiers():
            search.toggle_preview()
            return True
        if event.matches(QKeySequence.Paste):
            return search.paste_image()
        return self._type_into_search(event)

    def _type_into_search(self, event: QKeyEvent) -> bool:
        """A printable key typed anywhere goes to the search box."""
        text = event.text()
        blocked = Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier
        if not text or not text.isprintable() or event.modifiers() & blocked:
            return False
        self._search.search_box.setFocus(Qt.OtherFocusReason)
        self._search.search_box.insert(text)
        return True
