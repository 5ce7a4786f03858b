"""The filter bar: the Filters its controls make; the window searches again when they change."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import date  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QDate, Qt  # noqa: E402

from desktop_search.errors import QueryError  # noqa: E402
from desktop_search.gui import main_window as mw  # noqa: E402
from desktop_search.gui.filters import FilterBar  # noqa: E402
from desktop_search.search.query import Filters  # noqa: E402

# The window over the documents library (the fixtures are used by name).
from tests.gui.test_document_results import (  # noqa: E402, F401
    WORD,
    documents_home_template,
    search,
    window,
)

TIMEOUT = 15_000


@pytest.fixture
def bar(qtbot):
    widget = FilterBar()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.changes = []
    widget.changed.connect(lambda: widget.changes.append(_filters_or_error(widget)))
    return widget


def _filters_or_error(bar: FilterBar) -> Filters | QueryError:
    try:
        return bar.filters()
    except QueryError as error:
        return error


def test_nothing_set_filters_nothing(bar):
    assert bar.filters() == Filters() and bar.is_empty()
    assert bar.all_button.isChecked()
    assert not bar.reset_button.isEnabled()
    assert bar.after_button.text() == "After ▾"


def test_type_buttons_add_up_and_all_clears_them(bar, qtbot):
    qtbot.mouseClick(bar.type_buttons["pdf"], Qt.LeftButton)
    qtbot.mouseClick(bar.type_buttons["mail"], Qt.LeftButton)
    assert bar.filters().types == {"pdf", "mail"}
    assert not bar.all_button.isChecked() and bar.reset_button.isEnabled()
    assert [f.types for f in bar.changes] == [{"pdf"}, {"pdf", "mail"}]
    qtbot.mouseClick(bar.type_buttons["pdf"], Qt.LeftButton)
    assert bar.filters().types == {"mail"}
    qtbot.mouseClick(bar.all_button, Qt.LeftButton)
    assert bar.filters().types == frozenset() and bar.all_button.isChecked()
    assert not any(button.isChecked() for button in bar.type_buttons.values())
    # "All" when all is already shown stays on and changes nothing.
    count = len(bar.changes)
    qtbot.mouseClick(bar.all_button, Qt.LeftButton)
    assert bar.all_button.isChecked() and len(bar.changes) == count
    bar.set_types({"photo", "chat"})
    assert bar.filters().types == {"photo", "chat"}


def test_dates_come_from_the_calendars_and_bound_each_other(bar):
    bar.after_button.calendar.clicked.emit(QDate(2023, 5, 1))
    assert bar.filters().after == date(2023, 5, 1)
    assert bar.after_button.text() == "After 1 May 2023 ▾"
    # The "before" calendar starts the day after: no empty range can be picked.
    assert bar.before_button.calendar.minimumDate() == QDate(2023, 5, 2)
    bar.before_button.calendar.clicked.emit(QDate(2024, 1, 1))
    assert bar.filters() == Filters(after=date(2023, 5, 1), before=date(2024, 1, 1))
    assert bar.after_button.calendar.maximumDate() == QDate(2023, 12, 31)
    bar.after_button.clear_action.trigger()  # "Any date"
    assert bar.filters() == Filters(before=date(2024, 1, 1))
    assert bar.before_button.calendar.minimumDate() == QDate(1900, 1, 1)
    assert len(bar.changes) == 3


def test_a_range_set_out_of_order_in_code_is_a_query_error(bar):
    bar.set_dates(date(2024, 1, 1), date(2023, 1, 1))
    with pytest.raises(QueryError, match="no date is both"):
        bar.filters()
    assert bar.reset_button.isEnabled()


def test_folder_and_sender_fields(bar, qtbot):
    qtbot.keyClicks(bar.folder_edit, "~/Documents")
    qtbot.keyClicks(bar.sender_edit, "anna")
    assert bar.filters() == Filters(folders=("~/Documents",), senders=("anna",))
    bar.folder_edit.setText("   ")
    assert bar.filters().folders == ()


def test_reset_clears_everything_with_one_change(bar, qtbot):
    bar.set_types({"chat"})
    bar.set_dates(date(2023, 1, 1), None)
    bar.set_folder("/home/anna/Mail")
    bar.set_sender("bob")
    before = len(bar.changes)
    qtbot.mouseClick(bar.reset_button, Qt.LeftButton)
    assert bar.filters() == Filters() and bar.all_button.isChecked()
    assert len(bar.changes) == before + 1
    assert bar.folder_edit.text() == "" and bar.after_button.text() == "After ▾"
    assert not bar.reset_button.isEnabled()


def test_changing_a_control_searches_again_once_debounced(qtbot, window):  # noqa: F811
    search(qtbot, window, WORD)
    assert len(window.model.hits()) == 4
    started = []
    window.search.started.connect(lambda: started.append(1))
    bar = window.filter_bar
    bar.type_buttons["pdf"].click()
    bar.type_buttons["mail"].click()
    assert window.search._timer.isActive() and started == []  # debounced like typing
    qtbot.waitUntil(lambda: not window.search.busy, timeout=TIMEOUT)
    assert started == [1]  # two clicks, one search
    assert window.search.filters == Filters(types={"pdf", "mail"})
    assert sorted(hit.kind for hit in window.model.hits()) == ["mail", "pdf"]
    bar.set_sender("anna")  # only the e-mail is from Anna
    qtbot.waitUntil(lambda: not window.search.busy and len(window.model.hits()) == 1,
                    timeout=TIMEOUT)  # fmt: skip
    assert window.model.hit(0).kind == "mail"
    bar.clear()
    qtbot.waitUntil(lambda: not window.search.busy and len(window.model.hits()) == 4,
                    timeout=TIMEOUT)  # fmt: skip


def test_typed_and_bar_filters_merge(qtbot, window):  # noqa: F811
    window.filter_bar.set_types({"pdf", "chat"})
    search(qtbot, window, f"{WORD} type:chat,text")  # both sides: only what both allow
    assert [hit.kind for hit in window.model.hits()] == ["chat"]
    window.filter_bar.set_folder("Documents")  # a folder name on the way to the files
    qtbot.waitUntil(lambda: not window.search.busy, timeout=TIMEOUT)
    assert [hit.kind for hit in window.model.hits()] == ["chat"]
    window.filter_bar.set_folder("Elsewhere")
    qtbot.waitUntil(lambda: not window.search.busy and window.state == mw.NO_MATCH,
                    timeout=TIMEOUT)  # fmt: skip
    assert window.message_text().startswith(f"No match for “{WORD} type:chat,text”")
