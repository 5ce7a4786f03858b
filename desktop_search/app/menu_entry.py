"""The offer to put the app in the applications menu, made on the first run.

``MenuEntryOffer`` decides whether to make it and carries out the answer: yes installs the
desktop entry, icons and metainfo (platform/desktop_entry.py, the same as
``desktop-search install-desktop-entry``); no is kept in the settings, so it is not asked again.
Qt-free: the window shows the offer (gui/menu_offer.py) and runs ``accept`` on a worker.
"""

from __future__ import annotations

import logging

from desktop_search.app.settings_service import SettingsService
from desktop_search.platform import desktop_entry
from desktop_search.platform.desktop_entry import EntryReport, XdgFolders

log = logging.getLogger(__name__)


class MenuEntryOffer:
    """``folders`` (default: this session's XDG folders) and ``command`` (default: the running
    desktop-search) are for tests; the app passes neither."""

    def __init__(
        self,
        settings: SettingsService,
        folders: XdgFolders | None = None,
        command: list[str] | None = None,
    ) -> None:
        self.settings = settings
        self.folders = folders or XdgFolders.from_environment()
        self.command = command

    def wanted(self) -> bool:
        """Offer it on a freedesktop system, unless declined before or an entry exists (added
        before, by hand, or by a system package)."""
        return (
            self.settings.settings.offer_menu_entry
            and desktop_entry.supported()
            and not desktop_entry.entry_present(self.folders)
        )

    def accept(self) -> EntryReport:
        """Add the app to the menu (DesktopEntryError: nothing half-done, say why)."""
        return desktop_entry.install(self.command, self.folders)

    def decline(self) -> None:
        """Not wanted: never offered again (SettingsError if the settings cannot be saved)."""
        self.settings.stop_offering_menu_entry()
        log.info("the offer to add the app to the menu was declined")
