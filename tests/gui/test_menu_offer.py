"""The first-run offer to add the app to the applications menu, in the window (offscreen)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop_search.app.library import Library
from desktop_search.app.menu_entry import MenuEntryOffer
from desktop_search.gui.app import DesktopApp
from desktop_search.gui.menu_offer import MenuOfferBox
from desktop_search.platform import desktop_entry
from desktop_search.platform.desktop_entry import XdgFolders
from desktop_search.viewmodels.menu_offer import ADDED, ADDED_LINE, FAILED
from tests.gui.conftest import _pools, screenshot

pytestmark = pytest.mark.skipif(not desktop_entry.supported(), reason="freedesktop systems only")
COMMAND = ["/opt/desktop-search/bin/desktop-search"]


@pytest.fixture
def folders(tmp_path) -> XdgFolders:
    return XdgFolders(tmp_path / "data", tmp_path / "state", (tmp_path / "system",))


@pytest.fixture
def library(tmp_path):
    with Library.open(tmp_path / "home") as library:
        yield library


@pytest.fixture
def box(qtbot, library, folders, pool):
    box = MenuOfferBox(MenuEntryOffer(library.settings_service, folders, COMMAND), pool)
    qtbot.addWidget(box)
    box.show()
    return box


def test_add_to_menu_installs_the_entry_on_a_worker(qtbot, box, folders):
    assert box.add_button.isVisible() and box.decline_button.isVisible()
    qtbot.mouseClick(box.add_button, Qt.MouseButton.LeftButton)
    assert not box.add_button.isVisible()  # at once: no second click while it adds
    qtbot.waitUntil(lambda: box.state.phase == ADDED, timeout=10_000)
    assert box.line.text() == ADDED_LINE and box.isVisible()
    assert not box.add_button.isVisible() and not box.decline_button.isVisible()
    assert desktop_entry.installed(folders)


def test_no_thanks_hides_the_offer_for_good(qtbot, box, library):
    qtbot.mouseClick(box.decline_button, Qt.MouseButton.LeftButton)
    assert not box.isVisible()
    assert library.settings.offer_menu_entry is False
    assert not box.offer.wanted()


def test_a_failure_says_what_to_do_and_offers_to_try_again(qtbot, box, folders):
    folders.applications.mkdir(parents=True)
    folders.entry_file.write_text("[Desktop Entry]\n")  # not ours: install refuses
    qtbot.mouseClick(box.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: box.state.phase == FAILED, timeout=10_000)
    assert "was not written by desktop-search" in box.line.text()
    assert box.line.text().endswith("then run 'desktop-search install-desktop-entry' again")
    assert box.add_button.text() == "Try again" and box.add_button.isVisible()
    folders.entry_file.unlink()
    qtbot.mouseClick(box.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: box.state.phase == ADDED, timeout=10_000)


def test_the_app_offers_it_on_the_first_run_only_until_answered(qtbot, tmp_path, folders):
    library = Library.open(tmp_path / "empty-home")
    pool_ = _new_pool()
    offer = MenuEntryOffer(library.settings_service, folders, COMMAND)
    app = DesktopApp(library, pool_, menu_entry=offer)
    qtbot.addWidget(app.window)
    try:
        app.window.resize(1200, 800)  # its size when it first opens
        app.window.show()
        box = app.menu_offer
        assert box is not None and box.parent() is not None
        qtbot.waitUntil(lambda: app.window.first_run.isVisible() and box.isVisible())
        assert app.window.first_run.isAncestorOf(box)
        screenshot(app.window, "first-run-menu-entry.png")
        qtbot.mouseClick(box.decline_button, Qt.MouseButton.LeftButton)
        assert not box.isVisible()
    finally:
        app.window.shutdown()
    # The next start does not ask again.
    again = DesktopApp(library, pool_, menu_entry=offer)
    qtbot.addWidget(again.window)
    try:
        assert again.menu_offer is None
    finally:
        again.window.shutdown()
        library.close()


def _new_pool():
    from desktop_search.gui.workers import WorkerPool

    pool = WorkerPool()
    _pools.append(pool)  # the conftest checks that it drained
    return pool
