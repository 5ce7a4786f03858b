"""PreviewPane: metadata, the large image decoded off the GUI thread, stale loads, actions."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from skimage import data as skdata  # noqa: E402

from desktop_search.gui import file_actions, preview  # noqa: E402
from desktop_search.gui.preview import (  # noqa: E402
    PreviewPane,
    format_dimensions,
    format_size,
    format_taken,
)
from desktop_search.search.hits import Hit  # noqa: E402

THUMB = 128


def _save_photo(
    array: np.ndarray, path: Path, size: tuple[int, int], orientation: int | None = None
) -> Path:
    image = Image.fromarray(array).convert("RGB").resize(size, Image.Resampling.BICUBIC)
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    image.save(path, "JPEG", quality=90, exif=exif.tobytes())
    return path


def _thumbnail(photo: Path, thumbs: Path) -> Path:
    thumbs.mkdir(exist_ok=True)
    out = thumbs / f"{photo.stem}.jpg"
    with Image.open(photo) as image:
        image = image.convert("RGB")
        image.thumbnail((THUMB, THUMB))
        image.save(out, "JPEG", quality=85)
    return out


def _hit(photo: Path, thumbs: Path, **fields) -> Hit:
    with Image.open(photo) as image:
        width, height = image.size
    values = dict(
        path=str(photo),
        score=0.3124,
        kind="photo",
        file_id=1,
        item_id=1,
        taken_at="2023-05-14T15:32:10",
        camera="Canon EOS R6",
        width=width,
        height=height,
        size=photo.stat().st_size,
        thumbnail=_thumbnail(photo, thumbs),
    )
    values.update(fields)
    return Hit(**values)


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "Holiday 2023"
    folder.mkdir()
    return {
        "astronaut": _save_photo(skdata.astronaut(), folder / "astronaut.jpg", (1600, 1600)),
        "coffee": _save_photo(skdata.coffee(), folder / "coffee.jpg", (1800, 1200)),
        # Stored landscape, EXIF says "rotate 90° clockwise": upright it is portrait.
        "cat": _save_photo(skdata.chelsea(), folder / "cat.jpg", (1200, 800), orientation=6),
    }


@pytest.fixture
def pane(qtbot, pool):
    calls = {"open": [], "reveal": []}
    widget = PreviewPane(pool, open_file=calls["open"].append, reveal_file=calls["reveal"].append)
    widget.calls = calls
    qtbot.addWidget(widget)
    widget.resize(760, 860)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_formatting():
    assert format_taken("2023-05-14T15:32:10") == "14 May 2023, 15:32"
    assert format_taken("2021-01-02T08:05:00+02:00") == "2 Jan 2021, 08:05"
    assert format_taken("2021-01-02") == "2 Jan 2021"
    assert format_taken("not a date") == "not a date"
    assert format_taken(None) == "—"
    assert format_size(512) == "512 bytes"
    assert format_size(2_400_000) == "2.4 MB"
    assert format_size(123_456) == "123 KB"
    assert format_size(None) == "—"
    assert format_dimensions(4000, 3000) == "4000 × 3000 (12.0 MP)"
    assert format_dimensions(64, 48) == "64 × 48"
    assert format_dimensions(None, 3000) == "—"


def test_empty_state(pane):
    assert pane.hit is None
    assert pane._stack.currentWidget() is pane._empty
    assert not pane.open_action.isEnabled()
    assert not pane.copy_action.isEnabled()
    assert not pane._similar_button.isEnabled()


def test_shows_metadata(pane, pool, photos, tmp_path):
    photo = photos["astronaut"]
    hit = _hit(photo, tmp_path / "thumbs", size=2_400_000)
    pane.show_hit(hit)
    assert pane._stack.currentWidget() is pane._content
    assert pane._name.text() == "astronaut.jpg"
    assert pane._folder.text() == str(photo.parent)
    assert "Canon EOS R6" in pane._camera.text()
    assert "14 May 2023, 15:32" in pane._taken.text()
    assert "1600 × 1600" in pane._dimensions.text()
    assert pane._size.text() == "2.4 MB"
    assert pane._score.text() == "0.312"
    pool.wait()

    pane.show_hit(_hit(photo, tmp_path / "thumbs", camera=None, taken_at=None))
    assert pane._camera.text() == "—"
    assert pane._taken.text() == "—"
    pane.show_hit(None)
    assert pane._stack.currentWidget() is pane._empty


def test_large_image_replaces_the_thumbnail_off_the_gui_thread(
    pane, pool, photos, tmp_path, monkeypatch, qtbot
):
    threads = []
    real = preview.load_preview_image

    def spy(*args):
        threads.append(threading.current_thread())
        return real(*args)

    monkeypatch.setattr(preview, "load_preview_image", spy)
    pane.show_hit(_hit(photos["astronaut"], tmp_path / "thumbs"))
    # The index thumbnail is up at once, as a placeholder.
    assert pane.pixmap().width() == THUMB
    with qtbot.waitSignal(pane.image_loaded, timeout=10_000) as loaded:
        pass
    assert loaded.args == [photos["astronaut"]]
    qtbot.waitUntil(lambda: pane.pixmap().width() > THUMB)
    assert threads and all(t is not threading.main_thread() for t in threads)
    # Decoded to fit the pane, not at full size (1600 px), and at least the decode minimum.
    box = pane._image.contentsRect().size() * pane._image.devicePixelRatioF()
    shown = pane.pixmap().size()
    assert shown.width() <= max(box.width(), preview._MIN_DECODE_BOX)
    assert shown.height() <= max(box.height(), preview._MIN_DECODE_BOX)
    assert shown.width() < 1600
    assert not pane.is_loading()


def test_large_image_is_exif_oriented(pane, pool, photos, tmp_path, qtbot):
    pane.show_hit(_hit(photos["cat"], tmp_path / "thumbs", width=800, height=1200))
    with qtbot.waitSignal(pane.image_loaded, timeout=10_000):
        pass
    shown = pane.pixmap().size()
    assert shown.height() > shown.width()  # portrait, as the camera was held


def test_stale_load_is_ignored(pane, pool, photos, tmp_path, monkeypatch, qtbot):
    real = preview.load_preview_image
    slow = photos["astronaut"]

    def delayed(path, *args):
        if Path(path) == slow:
            time.sleep(0.5)  # A's decode finishes well after B's
        return real(path, *args)

    monkeypatch.setattr(preview, "load_preview_image", delayed)
    loaded = []
    pane.image_loaded.connect(loaded.append)
    pane.show_hit(_hit(slow, tmp_path / "thumbs"))
    pane.show_hit(_hit(photos["coffee"], tmp_path / "thumbs"))
    qtbot.waitUntil(lambda: bool(loaded), timeout=10_000)
    assert pool.wait(10_000)
    qtbot.wait(50)  # let A's late result reach the GUI thread, where it must be dropped
    assert loaded == [photos["coffee"]]
    assert pane.hit.path == str(photos["coffee"])
    shown = pane.pixmap().size()
    assert shown.width() > THUMB
    assert abs(shown.width() / shown.height() - 1.5) < 0.02  # coffee (3:2), not astronaut (1:1)


def test_copy_path(pane, pool, photos, tmp_path):
    pane.show_hit(_hit(photos["coffee"], tmp_path / "thumbs"))
    QGuiApplication.clipboard().clear()
    pane._copy_button.click()
    assert QGuiApplication.clipboard().text() == str(photos["coffee"])
    QGuiApplication.clipboard().clear()
    pane.copy_action.trigger()
    assert QGuiApplication.clipboard().text() == str(photos["coffee"])


def test_open_and_reveal_call_the_injected_functions(pane, pool, photos, tmp_path, qtbot):
    photo = photos["coffee"]
    pane.show_hit(_hit(photo, tmp_path / "thumbs"))
    pane._open_button.click()
    pane.reveal_action.trigger()
    assert pane.calls == {"open": [photo], "reveal": [photo]}
    pane.open_action.trigger()
    pane._reveal_button.click()
    assert pane.calls == {"open": [photo, photo], "reveal": [photo, photo]}
    # Window-wide shortcuts.
    pane.activateWindow()
    qtbot.keyClick(pane, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert pane.calls["open"] == [photo] * 3
    qtbot.keyClick(
        pane, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert pane.calls["reveal"] == [photo] * 3


def test_find_similar_emits_the_path(pane, pool, photos, tmp_path, qtbot):
    pane.show_hit(_hit(photos["cat"], tmp_path / "thumbs"))
    with qtbot.waitSignal(pane.find_similar, timeout=1000) as signal:
        pane._similar_button.click()
    assert signal.args == [photos["cat"]]
    with qtbot.waitSignal(pane.find_similar, timeout=1000) as signal:
        pane.similar_action.trigger()
    assert signal.args == [photos["cat"]]


def test_actions_do_nothing_without_a_hit(pane, pool, qtbot):
    with qtbot.assertNotEmitted(pane.find_similar):
        pane.hit_actions.request_similar()
    pane.hit_actions.open()
    pane.hit_actions.reveal()
    assert pane.calls == {"open": [], "reveal": []}


def test_missing_file_shows_a_message(pane, pool, photos, tmp_path, qtbot):
    photo = photos["coffee"]
    hit = _hit(photo, tmp_path / "thumbs")
    photo.unlink()  # moved or deleted after indexing
    pane.show_hit(hit)
    qtbot.waitUntil(lambda: not pane.is_loading(), timeout=10_000)
    assert "no longer exists" in pane._image.text()
    assert pane._notice.isVisible()
    assert str(photo) in pane._notice.text()
    assert not pane.open_action.isEnabled()
    assert not pane._reveal_button.isEnabled()
    assert not pane.similar_action.isEnabled()
    assert pane.copy_action.isEnabled()
    assert "Canon EOS R6" in pane._camera.text()  # what the index knows is still shown
    # The next hit is back to normal.
    pane.show_hit(_hit(photos["astronaut"], tmp_path / "thumbs"))
    assert not pane._notice.isVisible()
    assert pane.open_action.isEnabled()


def test_missing_thumbnail_and_undecodable_file(pane, pool, tmp_path, qtbot):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    pane.show_hit(
        Hit(path=str(broken), score=0.1, kind="photo", file_id=3, item_id=3, thumbnail=None)
    )
    assert pane._image.text() == "Loading…"
    qtbot.waitUntil(lambda: not pane.is_loading(), timeout=10_000)
    assert pane._notice.isVisible()
    assert "Cannot show this photo" in pane._notice.text()
    assert pane._dimensions.text() == "—"


def test_reveal_falls_back_to_the_folder(monkeypatch, tmp_path):
    opened = []
    monkeypatch.setattr(file_actions.sys, "platform", "linux")
    monkeypatch.setattr(file_actions, "_show_items_over_dbus", lambda path: False)
    monkeypatch.setattr(file_actions, "open_path", opened.append)
    file_actions.reveal_in_folder(tmp_path / "a.jpg")
    assert opened == [tmp_path]
