"""The preview pane's actions: Open, Show in folder, Copy path, Find similar.

``PreviewActions`` is an object the pane owns. Each action is a button of the pane and a
``QAction`` with a window-wide shortcut (added to the pane; the main window may re-bind it). It
acts on the hit the pane shows (``hit()``) through the callables it is given, so tests (and other
front ends) see the calls without launching programs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QPushButton, QWidget

from desktop_search.search.hits import Hit
from desktop_search.store.pathnames import readable_path

log = logging.getLogger(__name__)


@dataclass
class ActionButtons:
    """The pane's buttons, one per action."""

    open: QPushButton
    reveal: QPushButton
    copy: QPushButton
    similar: QPushButton


class PreviewActions:
    def __init__(
        self,
        pane: QWidget,
        buttons: ActionButtons,
        hit: Callable[[], Hit | None],
        *,
        open_file: Callable[[Path], None],
        reveal_file: Callable[[Path], None],
        find_similar: Callable[[Path], None],
        open_hit: Callable[[Hit], None] | None = None,
    ) -> None:
        self._buttons = buttons
        self._hit = hit
        self._open_file, self._open_hit = open_file, open_hit
        self._reveal_file, self._find_similar = reveal_file, find_similar

        def action(text: str, shortcut: QKeySequence | str, slot, button: QPushButton) -> QAction:
            act = QAction(text, pane)
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(slot)
            pane.addAction(act)
            button.clicked.connect(act.trigger)
            keys = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            button.setToolTip(f"{text} ({keys})")
            return act

        self.open_action = action("Open", QKeySequence.StandardKey.Open, self.open, buttons.open)
        self.reveal_action = action("Show in folder", "Ctrl+Shift+O", self.reveal, buttons.reveal)
        self.copy_action = action("Copy path", "Ctrl+Shift+C", self.copy_path, buttons.copy)
        self.similar_action = action(
            "Find similar", "Ctrl+Shift+F", self.request_similar, buttons.similar
        )

    def actions_list(self) -> list[QAction]:
        return [self.open_action, self.reveal_action, self.copy_action, self.similar_action]

    def set_enabled(self, enabled: bool, *, missing: bool = False) -> None:
        """Enabled with a hit; of a file that is gone, only Copy path. Find similar: photos."""
        hit = self._hit()
        buttons = self._buttons
        for act, button in (
            (self.open_action, buttons.open),
            (self.reveal_action, buttons.reveal),
            (self.similar_action, buttons.similar),
        ):
            act.setEnabled(enabled and not missing)
            button.setEnabled(enabled and not missing)
        self.copy_action.setEnabled(enabled)
        buttons.copy.setEnabled(enabled)
        photo = hit is not None and hit.kind == "photo"
        self.similar_action.setEnabled(enabled and photo and not missing)

    # -- actions -------------------------------------------------------------------------

    def _path(self) -> Path | None:
        hit = self._hit()
        return Path(hit.path) if hit is not None else None

    def open(self) -> None:
        """Open the file; at the hit's page or line when ``open_hit`` was given."""
        hit = self._hit()
        if hit is not None and self._open_hit is not None:
            self._open_hit(hit)
        elif hit is not None:
            self._open_file(Path(hit.path))

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
        hit = self._hit()
        if hit is not None and hit.kind == "photo":
            self._find_similar(Path(hit.path))
