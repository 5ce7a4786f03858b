"""GUI test fixtures: offscreen Qt, a library home with photos indexed, the main window.

Every test is checked for leaked threads: Python threads started during the test must be gone
at its end, and every ``WorkerPool`` a window used must have drained.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is imported anywhere

import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from PIL import Image
from skimage import data

from desktop_search.app.library import Library
from desktop_search.extract import vips_decode
from tests.object_photos import install_detector

PHOTOS = ["astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "colorwheel"]
# EXIF DateTimeOriginal of some photos (the others sort by file modification time).
TAKEN = {
    "coffee": "2019:05:01 08:30:00",
    "chelsea": "2021:07:14 16:00:00",
    "rocket": "2015:02:11 11:12:13",
}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

_pools: list = []  # WorkerPools created by the fixtures of the running test


def save_photo(array, path: Path, taken: str | None = None, size: tuple[int, int] | None = None):
    image = Image.fromarray(array).convert("RGB")
    if size is not None:
        image = image.resize(size, Image.BILINEAR)
    exif = Image.Exif()
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken  # Exif IFD: DateTimeOriginal
    image.save(path, quality=90, exif=exif.tobytes() if taken else b"")


def screenshot(widget, name: str) -> None:
    """Save a picture of ``widget`` in docs/screenshots when DESKTOP_SEARCH_SCREENSHOTS=1."""
    if os.environ.get("DESKTOP_SEARCH_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        assert widget.grab().save(str(SCREENSHOTS / name))


def colour_near(image, point, wanted, reach: int = 2, tolerance: int = 40) -> bool:  # noqa: ANN001
    """Whether ``image`` (a QImage) has ``wanted`` (a QColor) within ``reach`` pixels of
    ``point`` (a QPointF): drawn lines are thin and land on whole pixels."""
    x, y = round(point.x()), round(point.y())
    rgb = wanted.getRgb()[:3]
    return any(
        all(abs(a - b) <= tolerance
            for a, b in zip(image.pixelColor(x + dx, y + dy).getRgb()[:3], rgb, strict=True))
        for dx in range(-reach, reach + 1)
        for dy in range(-reach, reach + 1)
    )  # fmt: skip


@pytest.fixture(autouse=True)
def pillow_decodes_in_the_window_process():
    """The window's process decodes with Pillow (``gui.app.run`` calls ``vips_decode.keep_out``:
    libvips brings its own GLib next to Qt's); the same here, for windows the tests build."""
    with vips_decode.pillow_only():
        yield


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Fail a test that leaves a thread running or a worker pool busy."""
    before = set(threading.enumerate())
    _pools.clear()
    yield
    for pool in _pools:
        assert pool.wait(30_000), "a WorkerPool still had work running after the test"
        assert pool.pool.activeThreadCount() == 0
    _pools.clear()
    deadline = time.monotonic() + 5
    while True:
        leaked = [
            t for t in threading.enumerate()
            if t not in before and t.is_alive() and not isinstance(t, threading._DummyThread)
        ]  # fmt: skip
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert leaked == [], f"threads left running: {leaked}"


@pytest.fixture(scope="session")
def photo_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("gui_photos")
    for name in PHOTOS:
        save_photo(getattr(data, name)(), folder / f"{name}.jpg", TAKEN.get(name))
    return folder


def install_tiny_model(home: Path, tiny_clip_dir: Path) -> str:
    model_id = json.loads((tiny_clip_dir / "model.json").read_text())["id"]
    shutil.copytree(tiny_clip_dir, home / "models" / model_id)
    # The photos hold no text: no OCR pass (tests/test_live_documents.py covers it).
    (home / "config.toml").write_text(f'active_model = "{model_id}"\nread_text_in_photos = false\n')
    return model_id


@pytest.fixture(scope="session")
def indexed_home_template(tmp_path_factory, tiny_clip_dir, photo_folder) -> Path:
    """A home with the tiny CLIP model whose library indexed ``photo_folder`` (built once)."""
    home = tmp_path_factory.mktemp("gui_home_template") / "home"
    home.mkdir()
    install_tiny_model(home, tiny_clip_dir)
    with Library.open(home) as library:
        report = library.index([photo_folder])
    assert report.new == len(PHOTOS) and report.failed == 0
    return home


@pytest.fixture(scope="session")
def objects_home_template(tmp_path_factory, tiny_clip_dir, photo_folder) -> Path:
    """Like ``indexed_home_template``, with the object detector installed before indexing: the
    objects of the photos (a person in astronaut and camera, a cup, a cat...) are in the index."""
    home = tmp_path_factory.mktemp("gui_objects_template") / "home"
    home.mkdir()
    install_tiny_model(home, tiny_clip_dir)
    install_detector(home)  # the shared YOLOX-nano
    with Library.open(home) as library:
        report = library.index([photo_folder])
    assert report.new == len(PHOTOS) and report.failed == 0 and report.objects > 0
    return home


@pytest.fixture
def objects_home(tmp_path, objects_home_template) -> Path:
    """A fresh copy of the home indexed with the object detector."""
    home = tmp_path / "home"
    shutil.copytree(objects_home_template, home)
    return home


@pytest.fixture
def library_home(tmp_path, indexed_home_template) -> Path:
    """A fresh copy of the indexed home (tests may index more, change settings...)."""
    home = tmp_path / "home"
    shutil.copytree(indexed_home_template, home)
    return home


@pytest.fixture
def make_window(qtbot):
    """Open a MainWindow over a home; closed (workers drained, live index stopped, library
    closed) at teardown."""
    from desktop_search.gui.main_window import MainWindow
    from desktop_search.gui.workers import WorkerPool

    opened = []

    def make(home: Path, *, show: bool = True):
        library = Library.open(home)
        pool = WorkerPool()
        _pools.append(pool)
        opened_paths: list[Path] = []
        window = MainWindow(library, pool, open_path=opened_paths.append)
        window.opened_paths = opened_paths
        opened.append((window, library))
        if show:
            window.show()
            qtbot.waitExposed(window)
            window.activateWindow()
        return window

    yield make
    for window, library in opened:
        window.close()
        window.shutdown()
        library.close()
        window.deleteLater()


@pytest.fixture
def window(make_window, library_home, qtbot):
    """The main window over a library with photos indexed, its status loaded, model warm, its
    live index through its first look at the folders."""
    win = make_window(library_home)
    qtbot.waitUntil(lambda: win.status is not None and win.search.warmed_up, timeout=30_000)
    qtbot.waitUntil(lambda: win.progress_label.text() == "Watching 1 folder · up to date",
                    timeout=30_000)  # fmt: skip
    return win


@pytest.fixture
def pool():
    """A WorkerPool of its own for a widget under test; it must have drained at the end."""
    from desktop_search.gui.workers import WorkerPool

    pool = WorkerPool(max_threads=2)
    yield pool
    assert pool.wait(15_000), "a worker was still running after the test"
    assert pool.pool.activeThreadCount() == 0


@pytest.fixture
def gui_screenshots() -> Path:
    """Where widget tests save their pictures: $GUI_SCREENSHOTS, else /tmp."""
    return Path(os.environ.get("GUI_SCREENSHOTS", "/tmp"))


def ready_window(make_window, template: Path, home: Path, qtbot, timeout: int = 30_000):
    """A window over a copy of an indexed ``template`` home, once its search is warm and its
    live index is watching with nothing to do."""
    shutil.copytree(template, home)
    window = make_window(home)
    qtbot.waitUntil(lambda: window.status is not None and window.search.warmed_up,
                    timeout=timeout)  # fmt: skip
    qtbot.waitUntil(lambda: window.progress_label.text() == "Watching 1 folder · up to date",
                    timeout=timeout)  # fmt: skip
    return window
