"""A file name that is not valid UTF-8 in the window: readable labels, the real file opened.

Qt silently drops the surrogates Python uses for such bytes ("caf\\udce9.jpg" would read
"caf.jpg" and name another file), so labels use the readable form and opening goes through the
exact bytes. tests/test_non_utf8_names.py has the indexing, CLI and store side.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402

from desktop_search.app.library import Library  # noqa: E402
from desktop_search.gui.file_actions import file_url  # noqa: E402
from desktop_search.gui.preview import PreviewPane  # noqa: E402
from desktop_search.gui.problems import ProblemsView  # noqa: E402
from desktop_search.gui.results import card_note, describe, display_name  # noqa: E402
from desktop_search.search.hits import Hit  # noqa: E402
from tests.bad_files import small_jpeg  # noqa: E402


@pytest.fixture
def latin1(tmp_path: Path) -> str:
    """A photo named b"caf\\xe9.jpg" in a folder named b"\\xe9t\\xe9", as the os functions
    spell it (surrogate escapes)."""
    folder = os.path.join(os.fsencode(tmp_path), b"\xe9t\xe9")
    try:
        os.mkdir(folder)
        path = os.path.join(folder, b"caf\xe9.jpg")
        with open(path, "wb") as file:
            file.write(small_jpeg(1))
    except (OSError, UnicodeError) as error:  # macOS and Windows refuse such names
        pytest.skip(f"this file system cannot hold a name that is not UTF-8: {error}")
    return os.fsdecode(path)


def photo_hit(path: str) -> Hit:
    return Hit(path=path, score=0.5, kind="photo", file_id=1, item_id=1, width=64, height=48)


def test_result_labels_are_readable(latin1: str, tmp_path: Path) -> None:
    hit = photo_hit(latin1)
    assert display_name(hit) == card_note(hit) == "caf\\xe9.jpg"
    lines = describe(hit).splitlines()
    assert lines[0] == "caf\\xe9.jpg" and lines[-1] == f"{tmp_path}/\\xe9t\\xe9"


def test_the_url_that_opens_it_holds_the_exact_bytes(latin1: str, tmp_path: Path) -> None:
    url = file_url(latin1)
    assert bytes(url.toEncoded().data()) == f"file://{tmp_path}/%E9t%E9/caf%E9.jpg".encode()
    assert file_url(tmp_path / "café.jpg").toLocalFile() == str(tmp_path / "café.jpg")


def test_the_preview_shows_it_readably_and_opens_the_real_file(qtbot, pool, latin1: str):
    opened: list[Path] = []
    pane = PreviewPane(pool, open_file=opened.append, reveal_file=opened.append)
    qtbot.addWidget(pane)
    pane.show_hit(photo_hit(latin1))
    assert pane._name.text() == "caf\\xe9.jpg"
    assert pane._folder.text().endswith("/\\xe9t\\xe9")
    qtbot.waitUntil(lambda: not pane.is_loading(), timeout=10_000)
    assert not pane._notice.isVisible()  # the real file was found and decoded
    pane.open_action.trigger()
    assert [os.fsencode(path) for path in opened] == [os.fsencode(latin1)]
    pane.copy_action.trigger()
    assert QGuiApplication.clipboard().text().endswith("/\\xe9t\\xe9/caf\\xe9.jpg")
    pool.wait()


def test_the_problems_view_lists_it_readably_and_reveals_the_real_file(
    qtbot, pool, latin1: str, tmp_path: Path
) -> None:
    broken = os.fsdecode(os.fsencode(latin1).replace(b"caf", b"broken "))
    with open(broken, "wb") as file:
        file.write(b"not an image")
    revealed: list[str] = []
    with Library.open(tmp_path / "home") as library:
        library.index([Path(os.path.dirname(latin1))])
        view = ProblemsView(library, pool, reveal=revealed.append)
        qtbot.addWidget(view)
        qtbot.waitUntil(lambda: not view.busy, timeout=20_000)
        view.group_check.setChecked(False)
        (item,) = [view.tree.topLevelItem(i) for i in range(view.tree.topLevelItemCount())]
        assert item.text(0) == "broken \\xe9.jpg" and item.text(1).endswith("/\\xe9t\\xe9")
        view.filter_edit.setText("\\xe9.jpg")  # the filter matches what is shown
        assert [path for path, _ in view.visible_failures()] == [broken]
        view.tree.setCurrentItem(view.tree.topLevelItem(0))
        view.reveal_button.click()
        assert revealed == [broken]
        assert view.list_text().startswith(f"{tmp_path}/\\xe9t\\xe9/broken \\xe9.jpg\t")
        pool.wait()
