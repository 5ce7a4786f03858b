"""QueryImageBar: set/clear, drops of image files, paste of a file URL or of image data."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import (  # noqa: E402
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
)
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget  # noqa: E402
from skimage import data as skdata  # noqa: E402

from desktop_search.gui.query_image import (  # noqa: E402
    QueryImageBar,
    image_path_from_mime,
)


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "photos" / "rocket launch.jpg"
    path.parent.mkdir()
    Image.fromarray(skdata.rocket()).save(path, "JPEG", quality=90)
    return path


@pytest.fixture
def bar(qtbot, pool, tmp_path):
    widget = QueryImageBar(pool, tmp_path / "pasted")
    qtbot.addWidget(widget)
    widget.resize(420, 60)
    return widget


def _mime(*urls: QUrl) -> QMimeData:
    mime = QMimeData()
    mime.setUrls(list(urls))
    return mime


def _drop(widget, mime: QMimeData) -> QDropEvent:
    enter = QDragEnterEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, enter)
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, drop)
    return enter, drop


def test_hidden_when_empty(qtbot, pool, photo, tmp_path):
    window = QWidget()
    qtbot.addWidget(window)
    bar = QueryImageBar(pool, tmp_path, window)
    QVBoxLayout(window).addWidget(bar)
    window.show()
    assert bar.path is None
    assert not bar.isVisible()  # the window's show() does not reveal an empty bar
    bar.set_image(photo)
    assert bar.isVisible()
    bar.set_image(None)
    assert not bar.isVisible()


def test_set_and_clear_emit_changed(bar, photo, qtbot):
    with qtbot.waitSignal(bar.changed, timeout=1000) as changed:
        bar.set_image(photo)
    assert changed.args == [photo]
    assert bar.path == photo
    assert bar.isVisible()
    assert bar._name.text() == "rocket launch.jpg"
    # The thumbnail is decoded on a worker.
    with qtbot.waitSignal(bar.thumbnail_loaded, timeout=10_000):
        pass
    thumb = bar.thumbnail()
    assert not thumb.isNull()
    assert max(thumb.width(), thumb.height()) <= 40 * thumb.devicePixelRatio() + 1

    with qtbot.assertNotEmitted(bar.changed):
        bar.set_image(photo)  # no change, no signal

    with qtbot.waitSignal(bar.changed, timeout=1000) as changed:
        bar._clear_button.click()
    assert changed.args == [None]
    assert bar.path is None
    assert not bar.isVisible()
    assert bar.thumbnail().isNull()


def test_unreadable_image_shows_a_marker(bar, tmp_path, qtbot, pool):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    bar.set_image(broken)
    qtbot.waitUntil(lambda: bar._thumb.text() == "?", timeout=10_000)
    assert bar._thumb.toolTip()
    assert bar.path == broken


def test_drop_of_an_image_file_sets_it(bar, photo, qtbot):
    bar.show()
    with qtbot.waitSignal(bar.changed, timeout=1000) as changed:
        enter, drop = _drop(bar, _mime(QUrl.fromLocalFile(str(photo))))
    assert enter.isAccepted()
    assert drop.isAccepted()
    assert changed.args == [photo]
    assert bar.path == photo


def test_drop_of_other_files_is_ignored(bar, tmp_path, qtbot):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with qtbot.assertNotEmitted(bar.changed):
        enter, drop = _drop(bar, _mime(QUrl.fromLocalFile(str(notes))))
        assert not enter.isAccepted()
        assert not drop.isAccepted()
        _drop(bar, _mime(QUrl("https://example.com/cat.jpg")))
    assert bar.path is None


def test_image_path_from_mime(photo, tmp_path):
    local = QUrl.fromLocalFile(str(photo))
    assert image_path_from_mime(_mime(local)) == photo
    # The first image among several files.
    text_file = QUrl.fromLocalFile(str(tmp_path / "a.txt"))
    assert image_path_from_mime(_mime(text_file, local)) == photo
    assert image_path_from_mime(_mime(text_file)) is None
    assert image_path_from_mime(_mime(QUrl("https://example.com/cat.jpg"))) is None
    upper = tmp_path / "IMG_0001.HEIC"
    assert image_path_from_mime(_mime(QUrl.fromLocalFile(str(upper)))) == upper
    as_text = QMimeData()
    as_text.setText(str(photo))
    assert image_path_from_mime(as_text) == photo
    as_text.setText("just some words.jpg")
    assert image_path_from_mime(as_text) is None
    assert image_path_from_mime(QMimeData()) is None
    assert image_path_from_mime(None) is None


def test_paste_a_file_url(bar, photo, qtbot):
    QGuiApplication.clipboard().setMimeData(_mime(QUrl.fromLocalFile(str(photo))))
    with qtbot.waitSignal(bar.changed, timeout=1000) as changed:
        assert bar.paste_from_clipboard() is True
    assert changed.args == [photo]


def test_paste_image_data_saves_a_png(bar, tmp_path, qtbot, pool):
    pixels = np.ascontiguousarray(skdata.chelsea())  # 300 x 451 RGB
    height, width, _ = pixels.shape
    image = QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    QGuiApplication.clipboard().setImage(image)
    with qtbot.waitSignal(bar.changed, timeout=10_000) as changed:
        assert bar.paste_from_clipboard() is True
    path = changed.args[0]
    assert path.parent == tmp_path / "pasted"
    assert path.suffix == ".png"
    assert path.is_file()
    with Image.open(path) as saved:
        assert saved.size == (width, height)
    assert bar.path == path
    # A second paste gets its own file.
    with qtbot.waitSignal(bar.changed, timeout=10_000) as changed:
        assert bar.paste_from_clipboard() is True
    assert changed.args[0] != path
    assert len(list((tmp_path / "pasted").glob("*.png"))) == 2


def test_paste_without_an_image(bar, tmp_path, qtbot):
    clipboard = QGuiApplication.clipboard()
    with qtbot.assertNotEmitted(bar.changed):
        clipboard.setText("a text query")
        assert bar.paste_from_clipboard() is False
        clipboard.setMimeData(_mime(QUrl.fromLocalFile(str(tmp_path / "report.pdf"))))
        assert bar.paste_from_clipboard() is False
        clipboard.clear()
        assert bar.paste_from_clipboard() is False
    assert bar.path is None
