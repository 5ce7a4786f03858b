"""Start desktop-search at login.

Linux (and other freedesktop systems): an XDG autostart entry,
``$XDG_CONFIG_HOME/autostart/desktop-search.desktop``, that starts the app hidden in the tray.
macOS and Windows are not automated yet (see README: a login item / a shortcut in the Startup
folder); there ``set_autostart`` returns None and changes nothing.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from desktop_search.platform.desktop_file import exec_value, launcher

log = logging.getLogger(__name__)

ENTRY_NAME = "desktop-search.desktop"


def autostart_file() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(config) / "autostart" / ENTRY_NAME


def launch_command() -> list[str]:
    """How to start this installation's app in the tray, by its absolute command (the one the
    menu entry runs: a bundle's executable, the console script, or the interpreter)."""
    return [*launcher(), "gui", "--hidden"]


def _supported() -> bool:
    return sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))


def set_autostart(enabled: bool) -> Path | None:
    """Create or remove the login entry; returns its path (None where not supported)."""
    if not _supported():
        log.info("start at login is not automated on %s", sys.platform)
        return None
    path = autostart_file()
    if not enabled:
        path.unlink(missing_ok=True)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Name=desktop-search",
            "Comment=Search your photos by what is in them",
            f"Exec={exec_value(launch_command())}",
            "Terminal=false",
            "X-GNOME-Autostart-enabled=true",
            "",
        ]
    )
    temporary = path.with_suffix(".tmp")
    temporary.write_text(entry, encoding="utf-8")
    os.replace(temporary, path)
    return path


def autostart_enabled() -> bool:
    return _supported() and autostart_file().is_file()
