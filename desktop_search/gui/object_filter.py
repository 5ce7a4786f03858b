"""The filter bar's "Objects" button: only photos holding a dog, a bicycle... (``has:`` filters).

``ObjectsButton.set_classes(classes)`` takes ``store.objects.object_classes()``
(``[(label, photos)]``, most first) and lists them as checkable entries "dog (3)"; the button
hides while there are none (no detector, or nothing indexed with it yet). ``labels()`` is the
checked set, the
``Filters.objects`` of the query (a photo must hold every one, like ``has:dog has:person``);
``changed`` fires when it changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

log = logging.getLogger(__name__)

__all__ = ["ObjectsButton"]

_TOOLTIP = "Only photos with these objects in them (several can be on: all of them)"


class ObjectsButton(QToolButton):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._classes: list[tuple[str, int]] = []
        self._labels: set[str] = set()
        self.setToolTip(_TOOLTIP)
        self.setCheckable(True)
        self.setAutoRaise(True)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0px; }")
        self.setMenu(QMenu(self))
        self.menu().triggered.connect(self._triggered)
        self.menu().aboutToHide.connect(self._closed)
        self._stale = False  # new classes came while the menu was open
        self._rebuild()

    def classes(self) -> list[tuple[str, int]]:
        return list(self._classes)

    def labels(self) -> frozenset[str]:
        return frozenset(self._labels)

    def set_classes(self, classes: Sequence[tuple[str, int]]) -> None:
        """The object classes of the index with their photo counts (cheap: no signal)."""
        classes = [(str(label), int(count)) for label, count in classes]
        if classes == self._classes:
            return
        self._classes = classes
        if self.menu().isVisible():
            # The status comes every 2 s while indexing: never rebuild under the user's cursor.
            self._stale = True
        else:
            self._rebuild()

    def set_labels(self, labels: Iterable[str], *, notify: bool = True) -> None:
        wanted = set(labels)
        if wanted == self._labels:
            return
        self._labels = wanted
        if wanted - set(self.actions_by_label()):
            self._rebuild()  # a label set in code that the menu does not list yet
        else:
            self._sync()  # never rebuild here: this runs inside a menu entry's signal
        if notify:
            self.changed.emit()

    def actions_by_label(self) -> dict[str, QAction]:
        """The menu's entries (tests pick from them like a user would)."""
        return {action.data(): action for action in self.menu().actions() if action.data()}

    def _rebuild(self) -> None:
        self._stale = False
        menu = self.menu()
        menu.clear()
        counts = dict(self._classes)
        # A checked label stays listed even if re-indexing removed its last photo: the user can
        # still see and uncheck what filters the results.
        labels = [label for label, _count in self._classes]
        labels += sorted(self._labels - set(counts))
        for label in labels:
            action = menu.addAction(f"{label} ({counts.get(label, 0)})")
            action.setData(label)
            action.setCheckable(True)
        menu.addSeparator()
        self._any = menu.addAction("Any objects", lambda: self.set_labels(()))
        self.setVisible(bool(labels))
        self._sync()

    def _sync(self) -> None:
        """The menu's checks and the button's text from the chosen labels."""
        for label, action in self.actions_by_label().items():
            action.setChecked(label in self._labels)
        self._any.setEnabled(bool(self._labels))
        chosen = sorted(self._labels)
        if not chosen:
            text = "Objects"
        elif len(chosen) <= 2:
            text = "Has: " + ", ".join(chosen)
        else:
            text = f"Has: {chosen[0]} +{len(chosen) - 1}"
        self.setText(f"{text} ▾")
        self.setChecked(bool(chosen))

    def _closed(self) -> None:
        if self._stale:
            # Later: the entry clicked is triggered after the menu hides, and must still exist.
            QTimer.singleShot(0, self._rebuild)

    def _triggered(self, action: QAction) -> None:
        label = action.data()
        if not label:
            return  # "Any objects" has its own slot
        self.set_labels(self._labels ^ {label})
