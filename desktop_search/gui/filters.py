"""The filter bar under the search box: what kind of file, when, in which folder, from whom,
which objects the photo holds (the "Objects" button, object_filter.py; hidden without any).

``FilterBar.filters()`` is a ``core.query.Filters``; the window merges it with the filters typed
in the search box (``type:pdf`` keeps working) and searches again when ``changed`` fires (the
search controller debounces it like typing). The bar only offers valid ranges: the "before"
calendar starts after the "after" day and vice versa.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCalendarWidget,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QStyle,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from desktop_search.errors import QueryError
from desktop_search.gui.object_filter import ObjectsButton
from desktop_search.search.query import Filters

log = logging.getLogger(__name__)

# (button text, type in core.query.TYPES), in the order shown.
TYPE_CHOICES = (
    ("Photos", "photo"),
    ("PDFs", "pdf"),
    ("E-mail", "mail"),
    ("Chats", "chat"),
    ("Text files", "text"),
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def short_date(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


class DateButton(QToolButton):
    """A button reading "After ▾": a calendar in a menu sets the day, "Any date" clears it."""

    changed = Signal()

    def __init__(self, caption: str, tooltip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._caption = caption
        self._day: date | None = None
        self.setToolTip(tooltip)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0px; }")
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        menu = QMenu(self)
        self.calendar = QCalendarWidget(menu)
        self.calendar.setGridVisible(False)
        self.calendar.setVerticalHeaderFormat(QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)
        self.calendar.clicked.connect(self._picked)
        holder = QWidgetAction(menu)
        holder.setDefaultWidget(self.calendar)
        menu.addAction(holder)
        menu.addSeparator()
        self.clear_action = menu.addAction("Any date", lambda: self.set_day(None))
        menu.aboutToShow.connect(self._show_current)
        self.setMenu(menu)
        self._show()

    def day(self) -> date | None:
        return self._day

    def set_day(self, day: date | None) -> None:
        if day == self._day:
            return
        self._day = day
        self._show()
        self.changed.emit()

    def set_range(self, lowest: date | None, highest: date | None) -> None:
        """Days the calendar offers (the other button's day bounds this one's)."""
        self.calendar.setMinimumDate(QDate(lowest) if lowest else QDate(1900, 1, 1))
        self.calendar.setMaximumDate(QDate(highest) if highest else QDate(9999, 12, 31))

    def _picked(self, day: QDate) -> None:
        self.menu().close()
        self.set_day(day.toPython())

    def _show_current(self) -> None:
        self.clear_action.setEnabled(self._day is not None)
        shown = QDate(self._day) if self._day else QDate.currentDate()
        self.calendar.setSelectedDate(shown)
        self.calendar.setCurrentPage(shown.year(), shown.month())

    def _show(self) -> None:
        day = f" {short_date(self._day)}" if self._day else ""
        self.setText(f"{self._caption}{day} ▾")
        self.setChecked(self._day is not None)


class FilterBar(QWidget):
    """Type buttons, a date range, objects, a folder and a sender; ``changed`` on every
    change."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        self._build_types(row)
        row.addSpacing(8)
        self._build_dates(row)
        self.objects_button = ObjectsButton(self)
        self.objects_button.changed.connect(self._emit)
        row.addWidget(self.objects_button)
        row.addSpacing(8)
        self._build_texts(row)
        self.reset_button = QToolButton(self)
        self.reset_button.setText("Reset")
        self.reset_button.setToolTip("Clear every filter")
        self.reset_button.setAutoRaise(True)
        self.reset_button.clicked.connect(self.clear)
        row.addWidget(self.reset_button)
        self._update_reset()

    def _build_types(self, row: QHBoxLayout) -> None:
        self.all_button = self._toggle("All", "Every kind of file")
        self.all_button.setChecked(True)
        self.all_button.clicked.connect(lambda: self.set_types(()))
        row.addWidget(self.all_button)
        self.type_buttons: dict[str, QToolButton] = {}
        self._types_group = QButtonGroup(self)
        self._types_group.setExclusive(False)
        for text, kind in TYPE_CHOICES:
            button = self._toggle(text, f"Only {text.lower()} (several can be on)")
            button.toggled.connect(self._types_toggled)
            self._types_group.addButton(button)
            self.type_buttons[kind] = button
            row.addWidget(button)

    def _toggle(self, text: str, tooltip: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tooltip)
        button.setCheckable(True)
        button.setAutoRaise(True)
        return button

    def _build_dates(self, row: QHBoxLayout) -> None:
        self.after_button = DateButton(
            "After", "Only what is from this day or later (messages: when sent; photos: when "
            "taken; other files: when made or last changed)", self,
        )  # fmt: skip
        self.before_button = DateButton("Before", "Only what is from before this day", self)
        for button in (self.after_button, self.before_button):
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.changed.connect(self._dates_changed)
            row.addWidget(button)

    def _build_texts(self, row: QHBoxLayout) -> None:
        self.folder_edit = QLineEdit(self)
        self.folder_edit.setPlaceholderText("In folder")
        self.folder_edit.setToolTip(
            "Only files below this folder: a full path, or a folder name anywhere on the way"
        )
        pick = self.folder_edit.addAction(
            self.style().standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon),
            QLineEdit.ActionPosition.TrailingPosition,
        )
        pick.setToolTip("Choose a folder…")
        pick.triggered.connect(self.choose_folder)
        self.sender_edit = QLineEdit(self)
        self.sender_edit.setPlaceholderText("From")
        self.sender_edit.setToolTip(
            "Only e-mails and chat messages from this sender (name or address)"
        )
        for edit, width in ((self.folder_edit, 150), (self.sender_edit, 110)):
            edit.setClearButtonEnabled(True)
            edit.setMinimumWidth(60)
            edit.setMaximumWidth(width * 2)
            edit.textChanged.connect(self._text_changed)
            row.addWidget(edit, 1)

    # -- the filters ---------------------------------------------------------------------

    def filters(self) -> Filters:
        """What the controls say (``QueryError`` only for a range set out of order in code)."""
        folder = self.folder_edit.text().strip()
        sender = self.sender_edit.text().strip()
        return Filters(
            types=self.types(),
            after=self.after_button.day(),
            before=self.before_button.day(),
            folders=(folder,) if folder else (),
            senders=(sender,) if sender else (),
            objects=self.objects_button.labels(),
        )

    def types(self) -> frozenset[str]:
        return frozenset(kind for kind, button in self.type_buttons.items() if button.isChecked())

    def is_empty(self) -> bool:
        return self.filters().is_empty

    def set_types(self, types) -> None:  # noqa: ANN001 - any iterable of type names
        wanted = set(types)
        if wanted == set(self.types()):
            self.all_button.setChecked(not wanted)
            return
        for kind, button in self.type_buttons.items():
            button.blockSignals(True)
            button.setChecked(kind in wanted)
            button.blockSignals(False)
        self._types_toggled()

    def set_dates(self, after: date | None, before: date | None) -> None:
        for button, day in ((self.after_button, after), (self.before_button, before)):
            button.blockSignals(True)
            button.set_day(day)
            button.blockSignals(False)
        self._dates_changed()

    def set_object_classes(self, classes: list[tuple[str, int]]) -> None:
        """The object labels the index knows, with photo counts
        (``store.objects.object_classes()``)."""
        self.objects_button.set_classes(classes)

    def set_objects(self, labels) -> None:  # noqa: ANN001 - any iterable of labels
        self.objects_button.set_labels(labels)

    def set_folder(self, folder: str | Path) -> None:
        self.folder_edit.setText(str(folder))

    def set_sender(self, sender: str) -> None:
        self.sender_edit.setText(sender)

    def clear(self) -> None:
        """Every filter off; one ``changed``."""
        if self.is_empty():
            return
        widgets = (*self.type_buttons.values(), self.after_button, self.before_button,
                   self.folder_edit, self.sender_edit, self.objects_button)  # fmt: skip
        for widget in widgets:
            widget.blockSignals(True)
        for button in self.type_buttons.values():
            button.setChecked(False)
        self.after_button.set_day(None)
        self.before_button.set_day(None)
        self.folder_edit.clear()
        self.sender_edit.clear()
        self.objects_button.set_labels((), notify=False)
        for widget in widgets:
            widget.blockSignals(False)
        self.all_button.setChecked(True)
        self._bound_dates()
        self._emit()

    def choose_folder(self) -> None:
        start = self.folder_edit.text().strip() or str(Path.home())
        folder = QFileDialog.getExistingDirectory(
            self, "Search in folder", str(Path(start).expanduser())
        )
        if folder:
            self.set_folder(folder)

    # -- changes -------------------------------------------------------------------------

    def _types_toggled(self) -> None:
        self.all_button.setChecked(not self.types())
        self._emit()

    def _dates_changed(self) -> None:
        self._bound_dates()
        self._emit()

    def _bound_dates(self) -> None:
        after, before = self.after_button.day(), self.before_button.day()
        self.before_button.set_range(after + timedelta(days=1) if after else None, None)
        self.after_button.set_range(None, before - timedelta(days=1) if before else None)

    def _text_changed(self) -> None:
        self._emit()

    def _emit(self) -> None:
        self._update_reset()
        self.changed.emit()

    def _update_reset(self) -> None:
        try:
            empty = self.is_empty()
        except QueryError:  # a range set out of order in code: something to reset
            empty = False
        self.reset_button.setEnabled(not empty)
