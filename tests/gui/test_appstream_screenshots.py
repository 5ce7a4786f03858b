"""The window as software centres show it: the screenshots the AppStream metainfo names.

With DESKTOP_SEARCH_SCREENSHOTS=1 this saves docs/screenshots/window-photos.png and
window-documents.png, at 16:9 (AppStream's recommended shape), from a real library of photos
and documents (the tiny test CLIP model: the photos' order means nothing, names match).
"""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QSize

from desktop_search.app.library import Library
from desktop_search.gui import main_window as mw
from desktop_search.platform import resource_files
from tests.gui.conftest import install_tiny_model, screenshot
from tests.gui.test_document_results import make_documents

TIMEOUT = 30_000
SIZE = QSize(1280, 720)


@pytest.fixture
def window(make_window, tmp_path, qtbot, tiny_clip_dir, photo_folder):
    home = tmp_path / "home"
    home.mkdir()
    install_tiny_model(home, tiny_clip_dir)
    pictures = tmp_path / "Pictures"
    shutil.copytree(photo_folder, pictures)
    documents = make_documents(tmp_path / "Documents")
    with Library.open(home) as library:
        assert library.index([pictures, documents]).failed == 0
    window = make_window(home)
    qtbot.waitUntil(lambda: window.status is not None and window.search.warmed_up,
                    timeout=TIMEOUT)  # fmt: skip
    qtbot.waitUntil(lambda: window.progress_label.text() == "Watching 2 folders · up to date",
                    timeout=TIMEOUT)  # fmt: skip
    return window


def show(qtbot, window, text: str, kind: str, name: str) -> None:
    """Search ``text``, select the first hit of ``kind``, and wait until it is all drawn."""
    window.search_box.setText(text)
    window.search.search_now()
    qtbot.waitUntil(lambda: not window.search.busy and window.state == mw.RESULTS,
                    timeout=TIMEOUT)  # fmt: skip
    hits = window.model.hits()
    qtbot.waitUntil(lambda: all(window.thumbnails.is_loaded(h.thumbnail) for h in hits
                                if h.thumbnail), timeout=TIMEOUT)  # fmt: skip
    row = next(r for r, hit in enumerate(hits) if hit.kind == kind)
    window.view.setCurrentIndex(window.model.index(row))
    qtbot.waitUntil(lambda: not window.preview.is_loading(), timeout=TIMEOUT)
    qtbot.wait(50)
    screenshot(window, name)


def test_the_metainfo_screenshots(qtbot, window):
    window.resize(SIZE)
    qtbot.waitUntil(lambda: window.size() == SIZE)
    show(qtbot, window, "coffee", "photo", "window-photos.png")
    assert window.model.hit(window.view.currentIndex().row()).path.endswith("coffee.jpg")
    show(qtbot, window, "shed", "pdf", "window-documents.png")
    kinds = {hit.kind for hit in window.model.hits()}
    assert {"pdf", "chat", "mail", "text", "photo"} <= kinds
    metainfo = resource_files.metainfo_bytes().decode()
    assert "docs/screenshots/window-photos.png" in metainfo
    assert "docs/screenshots/window-documents.png" in metainfo
