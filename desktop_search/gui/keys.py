"""Keyboard handling of the main window: the keys of the search box and the results view.

``KeyRouter`` is installed as an event filter on both widgets and also handles the keys that
reach the window itself, so typing anywhere searches and Esc always starts over.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence


class KeyRouter(QObject):
    def __init__(self, window) -> None:  # noqa: ANN001 - MainWindow (it imports this module)
        super().__init__(window)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.KeyPress:
            if watched is self._window.view and self.view_key(event):
                return True
            if watched is self._window.search_box and self.search_key(event):
                return True
        return super().eventFilter(watched, event)

    def window_key(self, event: QKeyEvent) -> bool:
        """A key that reached the window itself; False lets the window handle it."""
        return self._common_key(event) or self._type_into_search(event)

    def _common_key(self, event: QKeyEvent) -> bool:
        window = self._window
        if event.key() == Qt.Key_Escape:
            window.clear_query()
            window.focus_search()
            return True
        if event.matches(QKeySequence.Find):
            window.focus_search()
            return True
        return False

    def search_key(self, event: QKeyEvent) -> bool:
        window = self._window
        if self._common_key(event):
            return True
        if event.key() in (Qt.Key_Down, Qt.Key_PageDown) and window.model.rowCount():
            window.view.setFocus(Qt.TabFocusReason)
            if not window.view.currentIndex().isValid():
                window.view.setCurrentIndex(window.model.index(0))
            return True
        if event.matches(QKeySequence.Paste):
            return window.paste_image()  # else the line edit pastes text
        return False

    def view_key(self, event: QKeyEvent) -> bool:
        window = self._window
        if self._common_key(event):
            return True
        key = event.key()
        if key in (Qt.Key_Return, Qt.Key_Enter):
            window.open_selected()
            return True
        if key == Qt.Key_Space and not event.modifiers():
            window.toggle_preview()
            return True
        if event.matches(QKeySequence.Paste):
            return window.paste_image()
        return self._type_into_search(event)

    def _type_into_search(self, event: QKeyEvent) -> bool:
        """A printable key typed anywhere goes to the search box."""
        text = event.text()
        blocked = Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier
        if not text or not text.isprintable() or event.modifiers() & blocked:
            return False
        self._window.search_box.setFocus(Qt.OtherFocusReason)
        self._window.search_box.insert(text)
        return True
