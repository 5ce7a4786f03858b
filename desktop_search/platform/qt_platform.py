"""Whether Qt can open a window here, checked before Qt is imported, and what to install if not.

On Linux, PySide6's wheel carries Qt but not every system library its platform plugins link
against: on a Debian 12 machine without ``libxcb-cursor0`` (or ``libxcb-icccm4``,
``libxcb-keysyms1``, ...) Qt prints "could not load the Qt platform plugin xcb" and aborts, a
message that names no package. Loading the plugin ourselves first (``ctypes``, a few ms) tells
whether Qt will manage; when it would not, ``ldd`` lists every library the plugin cannot find
(``dlopen`` names only the first), and the distribution's ``/etc/os-release`` says how those
are installed. macOS and Windows wheels carry everything their plugins need: nothing to check.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from desktop_search.errors import DisplayUnavailableError

log = logging.getLogger(__name__)

# Platforms that need no display server or system library beyond Qt's own.
_SELF_CONTAINED = frozenset({"offscreen", "minimal", "vnc", "linuxfb", "eglfs", "minimalegl"})
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)
_DLOPEN_MISSING = re.compile(r"(\S+\.so[.\d]*): cannot open shared object file")
# Package names where a distribution does not follow a rule (Debian's soname rule covers Debian
# and Ubuntu). Fedora and Arch both ship the xcb helper libraries under the xcb-util names.
_XCB_UTIL_PACKAGES = {
    "libxcb-cursor.so.0": "xcb-util-cursor",
    "libxcb-icccm.so.4": "xcb-util-wm",
    "libxcb-keysyms.so.1": "xcb-util-keysyms",
    "libxcb-image.so.0": "xcb-util-image",
    "libxcb-render-util.so.0": "xcb-util-renderutil",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11",
}


@dataclass(frozen=True)
class PlatformCheck:
    """What was found: ``platform`` Qt will try, and the system libraries its plugin lacks."""

    platform: str
    missing: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.missing


def plugins_folder() -> Path | None:
    """PySide6's Qt platform plugins, found without importing PySide6 (None: not installed)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / "platforms"
    return folder if folder.is_dir() else None


def wanted_platforms(environ: Mapping[str, str]) -> list[str]:
    """The platform plugins Qt tries, in order: ``QT_QPA_PLATFORM`` (``a;b`` lists fallbacks,
    ``name:options`` passes options) or Wayland then X11 as their displays are set."""
    chosen = environ.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return [part.split(":", 1)[0].strip() for part in chosen.split(";") if part.strip()]
    found = []
    if environ.get("WAYLAND_DISPLAY"):
        found.append("wayland")
    if environ.get("DISPLAY"):
        found.append("xcb")
    return found


def missing_libraries(plugin: Path) -> tuple[str, ...]:
    """System libraries ``plugin`` (a shared object) cannot find; () when it loads."""
    try:
        ctypes.CDLL(str(plugin), mode=os.RTLD_LAZY | os.RTLD_LOCAL)
        return ()
    except OSError as error:
        first = _DLOPEN_MISSING.search(str(error))
        reason = str(error)
    ldd = shutil.which("ldd")
    if ldd is not None:
        try:
            listed = subprocess.run([ldd, str(plugin)], capture_output=True, text=True,
                                    timeout=10, check=False).stdout  # fmt: skip
        except (OSError, subprocess.SubprocessError) as error:
            log.debug("ldd failed on %s: %s", plugin, error)
        else:
            names = tuple(dict.fromkeys(_NOT_FOUND.findall(listed)))
            if names:
                return names
    # No ldd (musl, a minimal system): dlopen names the first library it missed.
    return (first.group(1),) if first else (reason.strip() or plugin.name,)


def check(environ: Mapping[str, str] | None = None, folder: Path | None = None,
          system: str = sys.platform) -> PlatformCheck:  # fmt: skip
    """Whether Qt can open a window with the environment ``environ`` (default: this process's).
    Raises :class:`DisplayUnavailableError` on Linux when no display is set at all."""
    environ = os.environ if environ is None else environ
    if not system.startswith("linux"):
        return PlatformCheck("native")
    platforms = wanted_platforms(environ)
    if not platforms:
        raise DisplayUnavailableError(
            "no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set)",
            hint="start it from a desktop session; the command line works without one "
            "(desktop-search --help)",
        )
    folder = folder or plugins_folder()
    if folder is None:
        return PlatformCheck(platforms[0])  # Qt is not here: importing it says so itself
    first_failure: PlatformCheck | None = None
    for name in platforms:
        plugin = folder / f"libq{name}.so"
        if name in _SELF_CONTAINED or not plugin.is_file():
            return PlatformCheck(name)  # nothing to check, or Qt names an unknown platform
        missing = missing_libraries(plugin)
        if not missing:
            return PlatformCheck(name)
        log.debug("Qt's %s plugin lacks %s", name, ", ".join(missing))
        first_failure = first_failure or PlatformCheck(name, missing)
    assert first_failure is not None
    return first_failure


def read_os_release(path: Path = Path("/etc/os-release")) -> dict[str, str]:
    """The distribution's identification (``ID``, ``ID_LIKE``, ...); {} when unreadable."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            fields[key.strip()] = value.strip().strip("\"'")
    return fields


def debian_package(soname: str) -> str:
    """Debian's package for a library (policy 8.1: the soname without ``.so``, a hyphen
    before a version that follows a digit, lower case): ``libxcb-cursor.so.0`` ->
    ``libxcb-cursor0``, ``libxkbcommon-x11.so.0`` -> ``libxkbcommon-x11-0``."""
    name, _, version = soname.lower().partition(".so")
    version = version.lstrip(".")
    if not version:
        return name
    return f"{name}-{version}" if name[-1:].isdigit() else f"{name}{version}"


def install_hint(missing: tuple[str, ...], os_release: Mapping[str, str]) -> str:
    """The command that installs ``missing`` on this distribution, or the libraries' names."""
    family = {os_release.get("ID", "")} | set(os_release.get("ID_LIKE", "").split())
    if family & {"debian", "ubuntu"}:
        return "sudo apt install " + " ".join(debian_package(name) for name in missing)
    named = " ".join(_XCB_UTIL_PACKAGES.get(name, name) for name in missing)
    if family & {"fedora", "rhel", "centos"}:
        return "sudo dnf install " + named
    if family & {"arch"}:
        return "sudo pacman -S " + named
    return "install the system packages that provide " + ", ".join(missing)


def ensure_window_can_open(environ: Mapping[str, str] | None = None,
                           folder: Path | None = None) -> None:  # fmt: skip
    """Raise :class:`DisplayUnavailableError` naming what to install when Qt would fail to
    open a window here; return quietly when it will manage."""
    result = check(environ, folder)
    if result.ok:
        return
    raise DisplayUnavailableError(
        f"the window cannot open: Qt's {result.platform} platform plugin needs "
        + ", ".join(result.missing),
        hint=install_hint(result.missing, read_os_release()),
    )
