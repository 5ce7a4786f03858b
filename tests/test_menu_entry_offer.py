"""The first run's offer to add the app to the menu, without Qt: when it is made, what yes and no
do (app/menu_entry.py), and what the offer shows at each step (viewmodels/menu_offer.py)."""

from __future__ import annotations

import pytest

from desktop_search.app.library import Library
from desktop_search.app.menu_entry import MenuEntryOffer
from desktop_search.config import Settings
from desktop_search.errors import DesktopEntryError
from desktop_search.platform import desktop_entry
from desktop_search.platform.desktop_entry import EntryReport, XdgFolders
from desktop_search.viewmodels.menu_offer import (
    ADDED,
    ADDED_LINE,
    ADDING,
    DECLINED,
    EXPLANATION,
    FAILED,
    OFFERED,
    MenuOfferState,
)

pytestmark = pytest.mark.skipif(not desktop_entry.supported(), reason="freedesktop systems only")


@pytest.fixture
def folders(tmp_path) -> XdgFolders:
    return XdgFolders(tmp_path / "data", tmp_path / "state", (tmp_path / "system",))


@pytest.fixture
def library(tmp_path):
    with Library.open(tmp_path / "home") as library:
        yield library


def test_offered_until_declined_and_the_answer_is_kept(library, folders, tmp_path):
    offer = MenuEntryOffer(library.settings_service, folders, ["/bin/desktop-search"])
    assert offer.wanted()
    offer.decline()
    assert not offer.wanted()
    saved = Settings.load(tmp_path / "home" / "config.toml")
    assert saved.offer_menu_entry is False  # the next start does not ask again


def test_yes_adds_the_entry_and_the_offer_is_not_made_again(library, folders):
    offer = MenuEntryOffer(library.settings_service, folders, ["/bin/desktop-search"])
    report = offer.accept()
    assert folders.entry_file in report.written
    assert not offer.wanted()  # it is in the menu now
    assert library.settings.offer_menu_entry  # not declined: removing the entry offers it again
    desktop_entry.remove(folders)
    assert offer.wanted()


def test_not_offered_where_a_system_package_put_the_app_in_the_menu(library, folders):
    system = folders.data_dirs[0] / "applications" / "desktop-search.desktop"
    system.parent.mkdir(parents=True)
    system.write_text("[Desktop Entry]\n")
    assert not MenuEntryOffer(library.settings_service, folders).wanted()


def test_the_state_says_what_happens_at_each_step():
    state = MenuOfferState()
    seen = []
    state.events.phase.connect(seen.append)
    assert (state.phase, state.visible, state.buttons_shown, state.line) == (
        OFFERED, True, True, EXPLANATION,
    )  # fmt: skip
    state.adding()
    assert (state.buttons_shown, state.line) == (False, "Adding…")
    state.failed(DesktopEntryError("/x/desktop-search.desktop is in the way", hint="move it"))
    assert (state.phase, state.buttons_shown) == (FAILED, True)
    assert state.line == "/x/desktop-search.desktop is in the way — move it"
    state.failed(RuntimeError("boom\nsecond line"))
    assert state.line == "Could not add the menu entry: RuntimeError: boom second line"
    state.adding()
    state.added(EntryReport())
    assert (state.phase, state.buttons_shown, state.line) == (ADDED, False, ADDED_LINE)
    state.declined()
    assert not state.visible
    assert seen == [ADDING, FAILED, ADDING, ADDED, DECLINED]
