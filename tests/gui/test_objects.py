"""Detected-object search in the main window: the query image's objects, region searches, has:.

The window runs over a real library indexed with the tiny CLIP model and YOLOX-nano; every
search is spied on at ``Library.search`` (the readers the window searches with are Libraries).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageOps
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSize, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from skimage import data as skdata

from desktop_search.app.library import Library
from desktop_search.gui.box_overlay import box_colour
from desktop_search.search.searcher import Query
from tests.gui.conftest import PHOTOS, colour_near, screenshot

TIMEOUT = 30_000
# Hand-measured (tests/test_detector.py): Eileen Collins from her hair to the bottom edge.
ASTRONAUT_PERSON = (10.0, 15.0, 355.0, 497.0)


@pytest.fixture
def searches(monkeypatch) -> list[Query]:
    """Every Query the window's readers search with, in order."""
    seen: list[Query] = []
    search = Library.search

    def spy(self: Library, query: Query):
        seen.append(query)
        return search(self, query)

    monkeypatch.setattr(Library, "search", spy)
    return seen


@pytest.fixture
def objects_window(make_window, objects_home, qtbot):
    win = make_window(objects_home)
    qtbot.waitUntil(lambda: win.status is not None and win.search.warmed_up, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: win.progress_label.text() == "Watching 1 folder · up to date",
                    timeout=TIMEOUT)  # fmt: skip
    return win


@pytest.fixture
def astronaut(tmp_path) -> Path:
    path = tmp_path / "query" / "astronaut query.jpg"
    path.parent.mkdir()
    Image.fromarray(skdata.astronaut()).save(path, quality=90)
    return path


@pytest.fixture
def sideways_photo(tmp_path) -> Path:
    """A 900 x 1200 portrait stored as a 1200 x 900 landscape with EXIF orientation 6 (as
    phones write them): regions must be in the upright photo's full-size pixels."""
    upright = Image.fromarray(skdata.astronaut()).resize((900, 1200))
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to show
    path = tmp_path / "query" / "sideways.jpg"
    path.parent.mkdir()
    stored.save(path, quality=90, exif=exif.tobytes())
    return path


def drop_file(window, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = window.rect().center()
    enter = QDragEnterEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(window, enter)
    drop = QDropEvent(QPointF(pos), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(window, drop)
    assert drop.isAccepted()


def wait_searched(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.search.busy, timeout=TIMEOUT)
    assert window.state == "results", window.message_text()


def wait_objects(qtbot, picker) -> None:
    qtbot.waitUntil(lambda: not picker.is_loading() and picker.canvas.has_picture(),
                    timeout=TIMEOUT)  # fmt: skip


def point_on(canvas, index: int) -> QPoint:
    """A point of box ``index`` that no smaller box covers (a click there picks it)."""
    rect = canvas.from_photo(canvas._boxes[index][0])
    for fx in (0.5, 0.3, 0.7, 0.2, 0.8):
        for fy in (0.5, 0.3, 0.7, 0.2, 0.8):
            point = QPointF(rect.left() + fx * rect.width(), rect.top() + fy * rect.height())
            if canvas.box_at(point) == index:
                return point.toPoint()
    raise AssertionError(f"box {index} is covered by smaller ones")


def test_a_dropped_image_shows_its_objects_and_a_click_searches_with_one(
    qtbot, objects_window, astronaut, searches
):
    window, picker = objects_window, objects_window.region_picker
    assert not picker.isVisible()
    drop_file(window, astronaut)
    assert picker.isVisible()
    wait_objects(qtbot, picker)
    wait_searched(qtbot, window)
    assert (searches[-1].image, searches[-1].region) == (astronaut, None)

    labels = [found.label for found in picker.objects]
    assert "person" in labels
    person = labels.index("person")
    box = picker.objects[person].box
    assert all(abs(a - b) <= 25 for a, b in zip(box, ASTRONAUT_PERSON, strict=True)), box
    assert picker.canvas.full_size() == QSize(512, 512)
    assert "found" in picker.status.text()
    assert picker.object_list.item(person).text().startswith(f"{person + 1}  person")
    # The box is drawn over the photo in its colour: the middle of its left edge.
    canvas = picker.canvas
    rect = canvas.from_photo(box)
    assert colour_near(canvas.grab().toImage(), QPointF(rect.left(), rect.center().y()),
                       box_colour(person))  # fmt: skip

    qtbot.mouseClick(canvas, Qt.LeftButton, pos=point_on(canvas, person))
    assert picker.region == tuple(box)
    assert picker.selected_object() == person
    assert picker.object_list.currentRow() == person
    assert window.search.region == tuple(box)
    wait_searched(qtbot, window)
    assert (searches[-1].image, searches[-1].region) == (astronaut, tuple(box))
    assert window.model.rowCount() > 0

    assert picker.whole_button.isEnabled()
    qtbot.mouseClick(picker.whole_button, Qt.LeftButton)
    assert picker.region is None and picker.selected_object() is None
    wait_searched(qtbot, window)
    assert (searches[-1].image, searches[-1].region) == (astronaut, None)
    assert not picker.whole_button.isEnabled()

    window.search_panel.clear_query()  # Esc: the image goes, and the panel with it
    assert not picker.isVisible() and window.search.region is None


def test_dragging_a_rectangle_searches_with_that_region_in_full_size_pixels(
    qtbot, objects_window, sideways_photo, searches
):
    window, picker = objects_window, objects_window.region_picker
    window.search_panel.set_query_image(sideways_photo)
    wait_objects(qtbot, picker)
    wait_searched(qtbot, window)
    with Image.open(sideways_photo) as image:
        upright = ImageOps.exif_transpose(image).size
    assert upright == (900, 1200)
    canvas = picker.canvas
    assert canvas.full_size() == QSize(*upright)
    shown = canvas.photo_rect()
    assert shown.height() < shown.width() * 2  # portrait, shown upright
    assert shown.width() / shown.height() == pytest.approx(900 / 1200, abs=0.01)

    # From a quarter in to three quarters across and half way down the photo shown.
    start = QPointF(shown.left() + shown.width() / 4, shown.top() + shown.height() / 4)
    end = QPointF(shown.left() + shown.width() * 3 / 4, shown.top() + shown.height() / 2)
    qtbot.mousePress(canvas, Qt.LeftButton, pos=start.toPoint())
    qtbot.mouseMove(canvas, ((start + end) / 2).toPoint())
    qtbot.mouseMove(canvas, end.toPoint())
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=end.toPoint())

    region = picker.region
    assert region is not None and picker.selected_object() is None
    slack = 900 / shown.width() + 1  # one pixel on screen, in the photo's pixels
    for got, wanted in zip(region, (225, 300, 450, 300), strict=True):
        assert abs(got - wanted) <= slack, (region, slack)
    wait_searched(qtbot, window)
    assert (searches[-1].image, searches[-1].region) == (sideways_photo, region)
    # The region is drawn (white) where it was dragged.
    image = canvas.grab().toImage()
    assert colour_near(image, QPointF(start.x(), (start.y() + end.y()) / 2), QColor("white"))

    # A tiny drag where no box is, is a click on nothing: the region stays.
    corner = QPoint(int(shown.right()) - 4, int(shown.top()) + 2)
    assert canvas.box_at(QPointF(corner)) is None
    qtbot.mousePress(canvas, Qt.LeftButton, pos=corner)
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=corner + QPoint(2, 1))
    assert picker.region == region


def test_without_a_detector_the_panel_offers_dragging_only(qtbot, window, astronaut):
    picker = window.region_picker
    window.search_panel.set_query_image(astronaut)
    wait_objects(qtbot, picker)
    assert picker.objects == [] and not picker.object_list.isVisible()
    assert picker.status.text().startswith("Drag a rectangle")
    assert not window.filter_bar.objects_button.isVisible()  # nothing to filter by


def test_the_objects_filter_lists_the_classes_and_sets_filters_objects(
    qtbot, objects_window, photo_folder, searches
):
    window, button = objects_window, objects_window.filter_bar.objects_button
    qtbot.waitUntil(lambda: button.isVisible(), timeout=TIMEOUT)
    with Library.open(window.library.paths.home) as library:
        classes = library.store.objects.object_classes()
    assert button.classes() == classes
    counts = dict(classes)
    assert counts["person"] >= 2 and counts["cat"] >= 1  # astronaut and camera; chelsea
    entries = button.actions_by_label()
    assert entries["person"].text() == f"person ({counts['person']})"

    entries["person"].trigger()
    assert window.filter_bar.filters().objects == frozenset({"person"})
    assert button.text() == "Has: person ▾"
    wait_searched(qtbot, window)
    assert searches[-1].filters.objects == frozenset({"person"})
    shown = {Path(hit.path).stem for hit in window.model.hits()}
    assert {"astronaut", "camera"} <= shown <= set(PHOTOS)
    assert not shown & {"coffee", "rocket", "colorwheel"}

    button.actions_by_label()["cat"].trigger()  # all of them: no photo has both
    assert button.text() == "Has: cat, person ▾"
    qtbot.waitUntil(lambda: not window.search.busy, timeout=TIMEOUT)
    assert searches[-1].filters.objects == frozenset({"person", "cat"})
    assert window.message_text() == "Nothing matches the filters"
    window.filter_bar.clear()
    assert window.filter_bar.filters().objects == frozenset()
    assert not button.isChecked() and button.text() == "Objects ▾"


def test_screenshot_of_the_query_image_with_its_objects(qtbot, objects_window, tmp_path):
    """Astronaut, coffee and Chelsea side by side: a person, a cup, a table and a cat."""
    photo = tmp_path / "three photos.jpg"
    canvas = Image.new("RGB", (1563, 512), (200, 200, 200))
    for name, at in (("astronaut", (0, 0)), ("coffee", (512, 56)), ("chelsea", (1112, 106))):
        canvas.paste(Image.fromarray(getattr(skdata, name)()), at)
    canvas.save(photo, quality=90)
    window, picker = objects_window, objects_window.region_picker
    window.search_panel.set_query_image(photo)
    wait_objects(qtbot, picker)
    labels = [found.label for found in picker.objects]
    assert {"person", "cup", "cat"} <= set(labels)
    picker.choose_object(labels.index("cup"))
    wait_searched(qtbot, window)
    screenshot(picker, "objects.png")
