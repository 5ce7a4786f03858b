"""The app's icons as QIcons, from the PNGs in resources/ (platform/resource_files.py).

Each icon holds every size drawn for it, so Qt picks the one drawn for the size it needs (the
16 px app icon and the tray's are drawn on their pixel grid) instead of scaling a large one.
Not cached at module level: a QPixmap must not outlive the QApplication (the tray keeps its own).
An installation without them (a checkout not reinstalled since resources/ came) still runs, with
Qt's blank icon and a warning that says what to do: an icon is not worth refusing to start for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import partial

from PySide6.QtGui import QIcon, QPixmap

from desktop_search.errors import ResourceMissingError
from desktop_search.platform import resource_files

log = logging.getLogger(__name__)


def _pixmap(png: bytes) -> QPixmap:
    pixmap = QPixmap()
    if not pixmap.loadFromData(png, "PNG"):
        raise ValueError("a shipped icon is not a PNG Qt can read; run resources/generate-icons")
    return pixmap


def _icon(read_png: Callable[[int], bytes], sizes: Iterable[int]) -> QIcon:
    """An icon of the PNGs ``read_png(size)`` gives for ``sizes``."""
    icon = QIcon()
    try:
        for size in sizes:
            icon.addPixmap(_pixmap(read_png(size)))
    except ResourceMissingError as error:
        log.warning("no icon: %s", error)
        return QIcon()
    return icon


def app_icon() -> QIcon:
    """The application's icon (a photo under a magnifier): windows, the task switcher."""
    return _icon(resource_files.app_icon_png, resource_files.APP_ICON_SIZES)


def tray_icon(state: str) -> QIcon:
    """The tray's icon for ``state`` (idle, indexing, paused, problem)."""
    return _icon(partial(resource_files.tray_icon_png, state), resource_files.TRAY_ICON_SIZES)
