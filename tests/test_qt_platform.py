"""The window starts or says why (issue 18, item 2): before Qt loads, `gui` checks that Qt's
platform plugin can load and names the system packages to install when it cannot.

The failing plugin is real: PySide6's own ``libqxcb.so`` copied out of its folder, where its
RUNPATH (``$ORIGIN/../../lib``) no longer finds Qt's libraries, so ``dlopen`` and ``ldd`` fail on
it as they do on a machine without ``libxcb-cursor0``.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from desktop_search.cli.root import cli
from desktop_search.errors import DisplayUnavailableError
from desktop_search.platform import qt_platform
from desktop_search.platform.qt_platform import (
    check,
    debian_package,
    install_hint,
    missing_libraries,
    read_os_release,
    wanted_platforms,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux plugins")

DEBIAN = {"ID": "debian", "VERSION_ID": "12"}
UBUNTU = {"ID": "ubuntu", "ID_LIKE": "debian"}
FEDORA = {"ID": "fedora"}
ARCH = {"ID": "arch"}


@pytest.fixture
def broken_plugins(tmp_path: Path) -> Path:
    """A platforms folder whose xcb plugin cannot load (Qt's libraries out of its reach)."""
    real = qt_platform.plugins_folder()
    assert real is not None, "PySide6 is a dependency"
    folder = tmp_path / "platforms"
    folder.mkdir()
    shutil.copy2(real / "libqxcb.so", folder / "libqxcb.so")
    return folder


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),  # a digit before the version: hyphen
        ("libQt6XcbQpa.so.6", "libqt6xcbqpa6"),  # package names are lower case
    ],
)
def test_debian_packages_follow_the_soname(soname: str, package: str) -> None:
    assert debian_package(soname) == package


def test_the_install_command_suits_the_distribution() -> None:
    missing = ("libxcb-cursor.so.0", "libxcb-icccm.so.4")
    assert install_hint(missing, DEBIAN) == "sudo apt install libxcb-cursor0 libxcb-icccm4"
    assert install_hint(missing, UBUNTU).startswith("sudo apt install libxcb-cursor0")
    assert install_hint(missing, FEDORA) == "sudo dnf install xcb-util-cursor xcb-util-wm"
    assert install_hint(missing, ARCH) == "sudo pacman -S xcb-util-cursor xcb-util-wm"
    assert install_hint(missing, {}) == (
        "install the system packages that provide libxcb-cursor.so.0, libxcb-icccm.so.4"
    )


def test_os_release_is_read(tmp_path: Path) -> None:
    path = tmp_path / "os-release"
    path.write_text('PRETTY_NAME="Debian GNU/Linux 12"\nID=debian\n# note\nID_LIKE="x y"\n')
    assert read_os_release(path) == {"PRETTY_NAME": "Debian GNU/Linux 12", "ID": "debian",
                                     "ID_LIKE": "x y"}  # fmt: skip
    assert read_os_release(tmp_path / "absent") == {}


def test_the_platforms_qt_tries() -> None:
    assert wanted_platforms({"QT_QPA_PLATFORM": "wayland;xcb"}) == ["wayland", "xcb"]
    assert wanted_platforms({"QT_QPA_PLATFORM": "offscreen:fontengine=freetype"}) == ["offscreen"]
    both = {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}
    assert wanted_platforms(both) == ["wayland", "xcb"]
    assert wanted_platforms({"DISPLAY": ":0"}) == ["xcb"]
    assert wanted_platforms({}) == []


def test_a_plugin_that_cannot_load_names_every_missing_library(broken_plugins: Path) -> None:
    missing = missing_libraries(broken_plugins / "libqxcb.so")
    assert "libQt6XcbQpa.so.6" in missing and "libQt6Core.so.6" in missing
    assert len(missing) == len(set(missing))


def test_without_ldd_the_loader_names_the_first(broken_plugins: Path, monkeypatch) -> None:
    monkeypatch.setattr(qt_platform.shutil, "which", lambda name: None)
    (missing,) = missing_libraries(broken_plugins / "libqxcb.so")
    assert missing.endswith(".so.6") and missing.startswith("libQt6")


def test_the_check_passes_where_qt_can_load(broken_plugins: Path) -> None:
    assert check({"QT_QPA_PLATFORM": "offscreen"}).ok
    assert check({"QT_QPA_PLATFORM": "offscreen"}, broken_plugins).ok
    assert check({"DISPLAY": ":0"}, system="darwin").ok
    result = check({"DISPLAY": ":0"}, broken_plugins)
    assert not result.ok and result.platform == "xcb"
    # A fallback that loads is enough (Qt tries them in turn).
    assert check({"QT_QPA_PLATFORM": "xcb;offscreen"}, broken_plugins).ok
    with pytest.raises(DisplayUnavailableError, match="no display"):
        check({})


def test_gui_says_what_to_install_in_one_line(broken_plugins: Path, monkeypatch,
                                              tmp_path: Path) -> None:  # fmt: skip
    monkeypatch.setattr(qt_platform, "plugins_folder", lambda: broken_plugins)
    monkeypatch.setattr(qt_platform, "read_os_release", lambda: DEBIAN)
    monkeypatch.setenv("DISPLAY", ":5")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "gui"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Qt's xcb platform plugin needs libQt6" in lines[0]
    assert "sudo apt install libqt6" in lines[0] and "Traceback" not in result.output


def test_gui_without_a_display_says_so(monkeypatch, tmp_path: Path) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "gui"])
    assert result.exit_code == 1
    assert "no display to open the window on" in result.output
    assert "desktop-search --help" in result.output
