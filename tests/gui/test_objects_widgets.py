"""Widgets of object search alone: the box of a matched object on a result card and in the
preview, the filter bar's "Objects" button, the detect_objects toggle of the settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QPointF, QRectF
from skimage import data as skdata

from desktop_search.app.library import Library
from desktop_search.config import Settings
from desktop_search.gui.box_overlay import BOX_COLOUR, box_rect, fitted_rect
from desktop_search.gui.filters import FilterBar
from desktop_search.gui.preview import PreviewPane
from desktop_search.gui.region_picker import RegionPicker
from desktop_search.gui.results import THUMB, ResultsModel, ResultsView
from desktop_search.gui.settings_dialog import SettingsDialog
from desktop_search.gui.thumbnails import ThumbnailCache
from desktop_search.search.hits import Hit
from tests.gui.conftest import colour_near

PERSON = (10.0, 15.0, 355.0, 497.0)  # the astronaut, in the 512 x 512 photo's pixels


@pytest.fixture
def astronaut(tmp_path) -> tuple[Path, Path]:
    """The photo and a 256 px thumbnail of it (as the index makes them)."""
    photo, thumb = tmp_path / "astronaut.jpg", tmp_path / "astronaut-thumb.jpg"
    image = Image.fromarray(skdata.astronaut())
    image.save(photo, quality=90)
    image.resize((256, 256)).save(thumb, quality=90)
    return photo, thumb


def object_hit(photo: Path, thumb: Path, box=PERSON) -> Hit:  # noqa: ANN001
    return Hit(
        path=str(photo), score=0.31, kind="photo", file_id=1, item_id=7, width=512, height=512,
        thumbnail=thumb, item_kind="object" if box else "photo", box=box,
        object_label="person" if box else None,
    )  # fmt: skip


def left_edge_middle(rect: QRectF) -> QPointF:
    return QPointF(rect.left(), rect.center().y())


@pytest.fixture
def results(qtbot, pool):
    thumbnails = ThumbnailCache(pool, THUMB)
    model = ResultsModel(thumbnails)
    view = ResultsView()
    view.setModel(model)
    view.resize(420, 260)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    yield model, view, thumbnails
    thumbnails.close()


def test_a_result_card_of_an_object_hit_draws_its_box(qtbot, results, astronaut):
    model, view, thumbnails = results
    photo, thumb = astronaut
    model.set_hits([object_hit(photo, thumb), object_hit(photo, thumb, box=None)])
    view.grab()  # paints: the thumbnail is asked for and loaded on a worker
    qtbot.waitUntil(lambda: thumbnails.is_loaded(thumb), timeout=10_000)
    image = view.viewport().grab().toImage()
    for row, boxed in ((0, True), (1, False)):
        cell = view.visualRect(model.index(row)).adjusted(4, 4, -4, -4)
        # The thumbnail square is centred at the top of the cell; the square photo fills it.
        shown = QRectF(cell.left() + (cell.width() - THUMB.width()) // 2, cell.top() + 2,
                       THUMB.width(), THUMB.height())  # fmt: skip
        rect = box_rect(PERSON, (512, 512), shown)
        edge = left_edge_middle(rect)
        assert colour_near(image, edge, BOX_COLOUR) == boxed, (row, edge)
    # The caption says what matched.
    assert model.hit(0).object_label == "person"


def test_the_preview_draws_the_box_on_the_large_image(qtbot, pool, astronaut):
    photo, thumb = astronaut
    pane = PreviewPane(pool, open_file=lambda path: None, reveal_file=lambda path: None)
    qtbot.addWidget(pane)
    pane.resize(500, 700)
    pane.show()
    qtbot.waitExposed(pane)
    with qtbot.waitSignal(pane.image_loaded, timeout=10_000):
        pane.show_hit(object_hit(photo, thumb))
    view = pane._image
    assert view.box() == PERSON
    assert view.source().width() > 256  # the large image, not the thumbnail
    shown = view.picture_rect()
    assert shown == fitted_rect(shown.size(), QRectF(view.contentsRect()))
    rect = box_rect(PERSON, (512, 512), shown)
    image = view.grab().toImage()
    assert colour_near(image, left_edge_middle(rect), BOX_COLOUR)
    assert colour_near(image, QPointF(rect.center().x(), rect.bottom()), BOX_COLOUR)
    assert not colour_near(image, QPointF(rect.right() + 12, rect.center().y()), BOX_COLOUR)
    assert pane._place.text().startswith("person at 10,15")  # the "Where" row

    with qtbot.waitSignal(pane.image_loaded, timeout=10_000):
        pane.show_hit(object_hit(photo, thumb, box=None))
    assert view.box() is None
    assert not colour_near(view.grab().toImage(), left_edge_middle(rect), BOX_COLOUR)


def test_the_objects_button_lists_classes_and_hides_without_any(qtbot):
    bar = FilterBar()
    qtbot.addWidget(bar)
    bar.show()
    button = bar.objects_button
    assert not button.isVisible()  # nothing detected yet
    bar.set_object_classes([("dog", 3), ("teddy bear", 1)])
    assert button.isVisible()
    assert [a.text() for a in button.actions_by_label().values()] == ["dog (3)", "teddy bear (1)"]
    with qtbot.waitSignal(bar.changed):
        button.actions_by_label()["teddy bear"].trigger()
    assert bar.filters().objects == frozenset({"teddy bear"})
    assert bar.reset_button.isEnabled()

    # New counts while the menu is open wait until it closes (the entries stay put).
    button.menu().popup(button.mapToGlobal(button.rect().bottomLeft()))
    qtbot.waitUntil(button.menu().isVisible)
    shown = button.actions_by_label()
    bar.set_object_classes([("dog", 4), ("teddy bear", 1), ("cat", 1)])
    assert button.actions_by_label() == shown
    button.menu().hide()
    qtbot.waitUntil(lambda: "cat" in button.actions_by_label())
    assert button.actions_by_label()["dog"].text() == "dog (4)"
    assert button.actions_by_label()["teddy bear"].isChecked()

    # A chosen class that the index no longer has stays listed (to be unchecked).
    bar.set_object_classes([("dog", 4)])
    assert button.actions_by_label()["teddy bear"].text() == "teddy bear (0)"
    with qtbot.waitSignal(bar.changed):
        bar.clear()
    assert bar.filters().objects == frozenset() and not button.isChecked()
    bar.set_object_classes([])
    assert not button.isVisible()


def test_the_region_picker_says_when_it_cannot_show_the_image(qtbot, pool, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    asked: list[Path] = []
    picker = RegionPicker(pool, lambda path: asked.append(path) or None)
    qtbot.addWidget(picker)
    picker.set_image(broken)
    assert not picker.isHidden()  # shown while it loads
    qtbot.waitUntil(lambda: not picker.is_loading(), timeout=10_000)
    assert picker.status.text().startswith("Cannot show this photo")
    assert asked == [broken] and picker.objects == [] and picker.region is None
    picker.set_image(None)
    assert picker.isHidden() and picker.path is None


def test_the_settings_toggle_writes_detect_objects(qtbot, pool, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))  # the login entry
    home = tmp_path / "home"
    library = Library.open(home)
    try:
        dialog = SettingsDialog(library, pool)
        qtbot.addWidget(dialog)
        qtbot.waitUntil(lambda: not dialog.busy, timeout=20_000)
        check = dialog.objects_check
        assert "Find objects in photos" in check.text()
        assert check.isChecked() and library.settings.detect_objects  # on by default
        check.setChecked(False)
        assert library.settings.detect_objects  # only OK or Apply write it
        assert dialog.apply()
        assert library.settings.detect_objects is False
        assert Settings.load(home / "config.toml").detect_objects is False
        again = SettingsDialog(library, pool)
        qtbot.addWidget(again)
        qtbot.waitUntil(lambda: not again.busy, timeout=20_000)
        assert not again.objects_check.isChecked()
        again.objects_check.setChecked(True)
        again.accept()
        assert Settings.load(home / "config.toml").detect_objects is True
    finally:
        pool.wait(20_000)
        library.close()
