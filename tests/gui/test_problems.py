"""The problems view lists the files of a real indexed folder that could not be indexed."""

from __future__ import annotations

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from desktop_search.app.library import Library
from desktop_search.gui.problems import ProblemsView
from tests.bad_files import REASON_NOT_IMAGE, REASON_TRUNCATED, encode, photo


@pytest.fixture
def indexed(tmp_path):
    """A library over a folder with two good photos, a truncated JPEG and a text file as .jpg."""
    folder = tmp_path / "Pictures"
    (folder / "trip").mkdir(parents=True)
    coffee = encode(Image.fromarray(photo("coffee")), "JPEG", quality=90)
    (folder / "coffee.jpg").write_bytes(coffee)
    (folder / "trip" / "cat.png").write_bytes(encode(Image.fromarray(photo("chelsea")), "PNG"))
    (folder / "trip" / "broken.jpg").write_bytes(coffee[: len(coffee) * 6 // 10])
    (folder / "notes.jpg").write_bytes(b"Shopping list:\n- milk\n- eggs\n" * 20)
    library = Library.open(tmp_path / "home")
    report = library.index([folder])
    assert report.failed == 2
    yield library, folder
    library.close()


def open_view(qtbot, library, pool, **kwargs) -> ProblemsView:
    view = ProblemsView(library, pool, **kwargs)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: not view.busy, timeout=20_000)
    return view


def reasons_shown(view: ProblemsView) -> dict[str, list[str]]:
    """{group text: [file names]} of the grouped tree."""
    tree = view.tree
    return {
        tree.topLevelItem(i).text(0): [
            tree.topLevelItem(i).child(j).text(0) for j in range(tree.topLevelItem(i).childCount())
        ]
        for i in range(tree.topLevelItemCount())
    }


def test_lists_the_failures_of_an_indexed_folder_grouped_by_reason(
    qtbot, indexed, pool, gui_screenshots
):
    library, folder = indexed
    reader = library.reader()  # the view may read while the main library indexes
    try:
        view = open_view(qtbot, reader, pool)
    finally:
        pool.wait()
        reader.close()
    broken, notes = str(folder / "trip" / "broken.jpg"), str(folder / "notes.jpg")
    assert dict(view.failures()) == {broken: REASON_TRUNCATED, notes: REASON_NOT_IMAGE}
    assert view.count_label.text() == "2 files could not be indexed"
    assert reasons_shown(view) == {
        f"{REASON_NOT_IMAGE} (1 file)": ["notes.jpg"],
        f"{REASON_TRUNCATED} (1 file)": ["broken.jpg"],
    }
    view.show()
    view.grab().save(str(gui_screenshots / "problems_view.png"))


def test_filter_count_copy_and_reveal(qtbot, indexed, pool):
    library, folder = indexed
    revealed = []
    view = open_view(qtbot, library, pool, reveal=revealed.append)
    broken = str(folder / "trip" / "broken.jpg")

    view.filter_edit.setText("TRUNCATED")  # matches the reason, case-insensitively
    assert view.visible_failures() == [(broken, REASON_TRUNCATED)]
    assert view.count_label.text() == "1 of 2 files shown"
    assert reasons_shown(view) == {f"{REASON_TRUNCATED} (1 file)": ["broken.jpg"]}
    view.filter_edit.setText("trip/")  # and the path
    assert [p for p, _ in view.visible_failures()] == [broken]
    view.filter_edit.setText("nothing like this")
    assert view.visible_failures() == [] and view.tree.topLevelItemCount() == 0
    assert not view.copy_button.isEnabled()
    view.filter_edit.clear()
    assert len(view.visible_failures()) == 2

    view.copy_button.click()
    lines = QGuiApplication.clipboard().text().splitlines()
    assert sorted(lines) == sorted([f"{broken}\t{REASON_TRUNCATED}",
                                    f"{folder / 'notes.jpg'}\t{REASON_NOT_IMAGE}"])  # fmt: skip

    assert not view.reveal_button.isEnabled()
    group = view.tree.topLevelItem(1)
    view.tree.setCurrentItem(group.child(0))
    assert view.reveal_button.isEnabled()
    view.reveal_button.click()
    assert revealed == [broken]


def test_flat_list_sorts_by_reason_and_refresh_follows_the_library(qtbot, indexed, pool):
    library, folder = indexed
    view = open_view(qtbot, library, pool)
    view.group_check.setChecked(False)
    assert view.tree.topLevelItemCount() == 2
    view.tree.sortByColumn(2, Qt.SortOrder.AscendingOrder)
    assert [view.tree.topLevelItem(i).text(2) for i in range(2)] == sorted(
        [REASON_TRUNCATED, REASON_NOT_IMAGE]
    )

    # Fix the broken file: the next run indexes it, refresh() shows one problem left.
    (folder / "trip" / "broken.jpg").write_bytes(
        encode(Image.fromarray(photo("astronaut")), "JPEG", quality=90)
    )
    library.index([folder])
    with qtbot.waitSignal(view.loaded, timeout=20_000) as loaded:
        view.refresh()
        view.refresh()  # asked again meanwhile: runs once more after the first
    qtbot.waitUntil(lambda: not view.busy, timeout=20_000)
    assert loaded.args == [1]
    assert view.count_label.text() == "1 file could not be indexed"


def test_no_failures(qtbot, tmp_path, pool):
    library = Library.open(tmp_path / "home")
    try:
        view = open_view(qtbot, library, pool)
        assert view.failures() == []
        assert view.count_label.text() == "Every file was indexed: no problems."
    finally:
        library.close()
