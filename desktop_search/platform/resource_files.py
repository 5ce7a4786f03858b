"""The files the app ships in resources/: icons, the desktop entry, the AppStream metainfo.

They install as the package data ``desktop_search.resources`` (pyproject.toml maps the top-level
``resources/`` folder there, as ``models/`` becomes ``desktop_search.manifests``), so
``importlib.resources`` finds them in a wheel and in an editable checkout alike. Qt-free: the
window makes its icons from these bytes (gui/icons.py), ``desktop_entry`` copies them into the
user's menu folders.
"""

from __future__ import annotations

import importlib.resources
import logging
from importlib.resources.abc import Traversable

from desktop_search.errors import ResourceMissingError

log = logging.getLogger(__name__)

PACKAGE = "desktop_search.resources"
# The app's name for the desktop: the desktop entry's file name, the icon's theme name and Qt's
# desktopFileName (a Wayland compositor finds the entry, and so the icon, by it).
APP_ID = "desktop-search"
DESKTOP_FILE = f"{APP_ID}.desktop"
# AppStream's id is reverse DNS; "-" is not allowed in it, hence the underscore.
METAINFO_ID = "io.github.desktop_search.DesktopSearch"
METAINFO_FILE = f"{METAINFO_ID}.metainfo.xml"

APP_ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)  # the hicolor theme's usual sizes
TRAY_ICON_SIZES = (16, 22, 24, 32, 48, 64)  # panels: 16-24 px, twice that on HiDPI screens
# The tray's states, as gui/live_text.py names them (IDLE, INDEXING, PAUSED, PROBLEM).
TRAY_STATES = ("idle", "indexing", "paused", "problem")


def resource(relative: str) -> Traversable:
    """The shipped file at ``relative`` (a path inside resources/, "/"-separated)."""
    try:
        root = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError as error:
        raise ResourceMissingError(
            f"the app's icons and menu files ({PACKAGE}) are not installed",
            hint="reinstall desktop-search (in a checkout: 'pip install -e .')",
        ) from error
    found = root.joinpath(*relative.split("/"))
    if not found.is_file():
        raise ResourceMissingError(
            f"{relative} is missing from the app's files ({PACKAGE})",
            hint="reinstall desktop-search (in a checkout: run resources/generate-icons)",
        )
    return found


def app_icon_path(size: int) -> str:
    """The app icon's PNG of ``size`` pixels, as a path inside resources/ (and inside the
    user's icons folder: it mirrors the hicolor theme's layout)."""
    return f"icons/hicolor/{size}x{size}/apps/{APP_ID}.png"


def app_icon_svg_path() -> str:
    return f"icons/{APP_ID}.svg"


def app_icon_png(size: int) -> bytes:
    return resource(app_icon_path(size)).read_bytes()


def tray_icon_png(state: str, size: int) -> bytes:
    """The tray icon of ``state`` (one of TRAY_STATES) at ``size`` pixels."""
    if state not in TRAY_STATES:
        raise ValueError(f"no tray icon for the state {state!r}; states: {TRAY_STATES}")
    return resource(f"icons/tray/{APP_ID}-{state}-{size}.png").read_bytes()


def desktop_file_text() -> str:
    """The desktop entry as shipped (``Exec=desktop-search gui``: a command on PATH)."""
    return resource(DESKTOP_FILE).read_text(encoding="utf-8")


def metainfo_bytes() -> bytes:
    return resource(METAINFO_FILE).read_bytes()
