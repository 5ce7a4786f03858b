"""End to end: an object of the query image finds a photo through its detected object, and the
window draws that object's box on the result card and in the preview.

The CLIP model is the test's ``pixel-clip`` (tests/conftest_models.py: similar pixels, similar
embeddings), so the astronaut alone finds the photo in which she is a small pasted object.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, QRectF, QSizeF

from desktop_search.app.library import Library
from desktop_search.gui.box_overlay import BOX_COLOUR, box_rect, fitted_rect
from desktop_search.gui.results import THUMB
from tests.conftest_models import install_model_home
from tests.gui.conftest import colour_near, ready_window
from tests.object_photos import SCENE_SIZE, composite, install_detector, overlap, photo

TIMEOUT = 30_000


@pytest.fixture(scope="module")
def launch_home_template(tmp_path_factory, pixel_clip_dir) -> Path:
    """Three photos without the astronaut and one where she is small, indexed with objects."""
    root = tmp_path_factory.mktemp("gui_launch")
    home = install_model_home(root / "home", pixel_clip_dir)
    install_detector(home)
    folder = root / "photos"
    folder.mkdir()
    for name in ("rocket", "coffee", "chelsea"):
        photo(name).save(folder / f"{name}.jpg", quality=92)
    composite()[0].save(folder / "launch-day.jpg", quality=92)
    with Library.open(home) as library:
        report = library.index([folder])
    assert report.new == 4 and report.objects > 0
    return home


@pytest.fixture
def launch_window(make_window, launch_home_template, tmp_path, qtbot):
    return ready_window(make_window, launch_home_template, tmp_path / "home", qtbot, TIMEOUT)


def test_an_object_found_by_a_query_object_is_boxed_on_its_card_and_in_the_preview(
    qtbot, launch_window, tmp_path
):
    window, picker = launch_window, launch_window.region_picker
    query = tmp_path / "astronaut.jpg"  # not indexed: only launch-day.jpg holds her
    photo("astronaut").save(query, quality=92)
    window.search_panel.set_query_image(query)
    qtbot.waitUntil(lambda: not picker.is_loading() and picker.canvas.has_picture(),
                    timeout=TIMEOUT)  # fmt: skip
    person = [found.label for found in picker.objects].index("person")
    picker.choose_object(person)
    qtbot.waitUntil(lambda: not window.search.busy, timeout=TIMEOUT)
    assert window.search.region == tuple(picker.objects[person].box)

    hit = window.model.hit(0)
    assert Path(hit.path).name == "launch-day.jpg"
    assert (hit.item_kind, hit.object_label) == ("object", "person")
    assert (hit.width, hit.height) == SCENE_SIZE
    assert overlap(hit.box, composite()[1]) > 0.8

    # The card: the 4:3 thumbnail fitted in its square, the box scaled with it.
    view = window.view
    qtbot.waitUntil(lambda: window.thumbnails.is_loaded(hit.thumbnail), timeout=TIMEOUT)
    cell = view.visualRect(window.model.index(0)).adjusted(4, 4, -4, -4)
    square = QRectF(cell.left() + (cell.width() - THUMB.width()) // 2, cell.top() + 2,
                    THUMB.width(), THUMB.height())  # fmt: skip
    shown = fitted_rect(QSizeF(*SCENE_SIZE), square)
    rect = box_rect(hit.box, SCENE_SIZE, shown)
    card = view.viewport().grab().toImage()
    assert colour_near(card, QPointF(rect.left(), rect.center().y()), BOX_COLOUR)
    assert colour_near(card, QPointF(rect.center().x(), rect.top()), BOX_COLOUR)

    # The preview: the large image, the same box.
    if not window.preview.isVisible():
        window.search_panel.toggle_preview()
    with qtbot.waitSignal(window.preview.image_loaded, timeout=TIMEOUT):
        view.setCurrentIndex(window.model.index(0))
    image_view = window.preview._image
    assert image_view.box() == tuple(hit.box)
    large = image_view.picture_rect()
    rect = box_rect(hit.box, SCENE_SIZE, large)
    image = image_view.grab().toImage()
    assert colour_near(image, QPointF(rect.left(), rect.center().y()), BOX_COLOUR)
    assert colour_near(image, QPointF(rect.right(), rect.center().y()), BOX_COLOUR)
