"""The preview pane's actions: Open, Show in folder, Copy path, Find similar.

A mixin of ``PreviewPane`` (kept apart so the pane's module stays readable). Each action is a
button and a ``QAction`` with a window-wide shortcut that the main window may re-bind. It uses
these of the pane: ``_hit``, ``_open_file``, ``_open_hit``, ``_reveal_file``, ``find_similar``
and the buttons ``_open_button``, ``_reveal_button``, ``_copy_button``, ``_similar_button``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QPushButton

from desktop_search.store.pathnames import readable_path


class PreviewActions:
    def actions_list(self) -> list[QAction]:
        return [self.open_action, self.reveal_action, self.copy_action, self.similar_action]

    def _make_actions(self) -> None:
        def action(text: str, shortcut: QKeySequence | str, slot, button: QPushButton) -> QAction:
            act = QAction(text, self)
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(slot)
            self.addAction(act)
            button.clicked.connect(act.trigger)
            keys = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            button.setToolTip(f"{text} ({keys})")
            return act

        self.open_action = action(
            "Open", QKeySequence.StandardKey.Open, self.open, self._open_button
        )
        self.reveal_action = action(
            "Show in folder", "Ctrl+Shift+O", self.reveal, self._reveal_button
        )
        self.copy_action = action("Copy path", "Ctrl+Shift+C", self.copy_path, self._copy_button)
        self.similar_action = action(
            "Find similar", "Ctrl+Shift+F", self.request_similar, self._similar_button
        )

    def _set_actions_enabled(self, enabled: bool, *, missing: bool = False) -> None:
        for act, button in (
            (self.open_action, self._open_button),
            (self.reveal_action, self._reveal_button),
            (self.similar_action, self._similar_button),
        ):
            act.setEnabled(enabled and not missing)
            button.setEnabled(enabled and not missing)
        self.copy_action.setEnabled(enabled)
        self._copy_button.setEnabled(enabled)

    # -- actions -------------------------------------------------------------------------

    def _path(self) -> Path | None:
        return Path(self._hit.path) if self._hit is not None else None

    def open(self) -> None:
        """Open the file; at the hit's page or line when ``open_hit`` was given."""
        if self._hit is not None and self._open_hit is not None:
            self._open_hit(self._hit)
        elif self._hit is not None:
            self._open_file(Path(self._hit.path))

    def reveal(self) -> None:
        path = self._path()
        if path is not None:
            self._reveal_file(path)

    def copy_path(self) -> None:
        path = self._path()
        if path is not None:
            # The readable form: a clipboard holds text, not the bytes of a name not UTF-8.
            QGuiApplication.clipboard().setText(readable_path(path))

    def request_similar(self) -> None:
        path = self._path()
        if path is not None and self._hit.kind == "photo":
            self.find_similar.emit(path)
