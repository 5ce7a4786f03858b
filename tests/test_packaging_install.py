"""packaging/install.sh, run on a stand-in bundle in a temporary HOME.

The real bundle takes minutes to build (packaging/build-linux) and is checked by
packaging/smoke-test-linux; what install.sh does with the files (where they go, the command's
link, the menu entry through the app's own command, updating over an older version, uninstalling
without touching the library) does not depend on what the bundle holds.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

INSTALL_SH = Path(__file__).resolve().parent.parent / "packaging" / "install.sh"

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and platform.machine() == "x86_64"),
    reason="install.sh installs the Linux x86_64 bundle",
)

# The stand-in for the bundle's executable: --version, and install-desktop-entry (with --remove)
# writing the entry the way the app would, naming the program it runs.
_FAKE_APP = """#!/bin/sh
entry="${XDG_DATA_HOME:-$HOME/.local/share}/applications/desktop-search.desktop"
case "$1" in
  --version) echo "desktop-search, version 9.9-test" ;;
  install-desktop-entry)
    case "$2" in
      --help) echo "Usage: desktop-search install-desktop-entry [--remove]" ;;
      --remove) rm -f "$entry" ;;
      *) mkdir -p "$(dirname "$entry")"
         printf '[Desktop Entry]\\nExec=%s gui\\n' "$0" > "$entry" ;;
    esac ;;
  *) echo "No such command" >&2; exit 2 ;;
esac
"""


def _unpacked_archive(folder: Path, *, entry_command: bool = True, marker: str = "v1") -> Path:
    """What the archive unpacks to: install.sh beside the one-folder bundle."""
    bundle = folder / "desktop-search"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "_internal" / f"{marker}.txt").write_text(marker)
    script = _FAKE_APP
    if not entry_command:
        script = script.replace("install-desktop-entry)", "no-such-command)")
    exe = bundle / "desktop-search"
    exe.write_text(script)
    exe.chmod(0o755)
    installer = folder / "install.sh"
    installer.write_bytes(INSTALL_SH.read_bytes())
    installer.chmod(0o755)
    return installer


def _run(installer: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    return subprocess.run(
        ["bash", str(installer), *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def test_install_then_uninstall(tmp_path: Path, home: Path) -> None:
    installer = _unpacked_archive(tmp_path / "v1")
    library = home / ".local" / "share" / "desktop-search"
    library.mkdir(parents=True)
    (library / "library.db").write_text("the user's index")

    result = _run(installer, home)
    assert result.returncode == 0, result.stderr
    lib = home / ".local" / "lib" / "desktop-search"
    link = home / ".local" / "bin" / "desktop-search"
    assert (lib / "_internal" / "v1.txt").is_file()
    assert link.is_symlink() and os.readlink(link) == str(lib / "desktop-search")
    entry = home / ".local" / "share" / "applications" / "desktop-search.desktop"
    assert f"Exec={lib}/desktop-search gui" in entry.read_text()
    assert "version 9.9-test" in result.stdout
    assert "not on your PATH" in result.stdout
    assert not list((home / ".local" / "lib").glob(".desktop-search.*"))  # no leftovers

    result = _run(installer, home, "--uninstall")
    assert result.returncode == 0, result.stderr
    assert not lib.exists() and not link.exists() and not link.is_symlink()
    assert not entry.exists()
    assert (library / "library.db").read_text() == "the user's index"


def test_update_replaces_the_old_version(tmp_path: Path, home: Path) -> None:
    assert _run(_unpacked_archive(tmp_path / "v1"), home).returncode == 0
    result = _run(_unpacked_archive(tmp_path / "v2", marker="v2"), home)
    assert result.returncode == 0, result.stderr
    internal = home / ".local" / "lib" / "desktop-search" / "_internal"
    assert sorted(p.name for p in internal.iterdir()) == ["v2.txt"]
    assert not list((home / ".local" / "lib").glob(".desktop-search.*"))


def test_without_the_entry_command(tmp_path: Path, home: Path) -> None:
    result = _run(_unpacked_archive(tmp_path / "v1", entry_command=False), home)
    assert result.returncode == 0, result.stderr
    assert "adds no menu entry" in result.stdout
    assert not (home / ".local" / "share" / "applications").exists()


def test_uninstall_removes_a_login_entry_naming_the_install(tmp_path: Path, home: Path) -> None:
    installer = _unpacked_archive(tmp_path / "v1")
    assert _run(installer, home).returncode == 0
    autostart = home / ".config" / "autostart"
    autostart.mkdir(parents=True)
    ours = autostart / "desktop-search.desktop"
    ours.write_text(f"[Desktop Entry]\nExec={home}/.local/lib/desktop-search/desktop-search gui\n")
    assert _run(installer, home, "--uninstall").returncode == 0
    assert not ours.exists()


def test_prefix_and_refusals(tmp_path: Path, home: Path) -> None:
    installer = _unpacked_archive(tmp_path / "v1")
    prefix = tmp_path / "opt"
    result = _run(installer, home, "--prefix", str(prefix))
    assert result.returncode == 0, result.stderr
    assert (prefix / "bin" / "desktop-search").is_symlink()
    assert not (home / ".local" / "lib").exists()

    # A command of the same name that install.sh did not make is left alone.
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".local" / "bin" / "desktop-search").write_text("someone else's")
    result = _run(installer, home)
    assert result.returncode == 1
    assert "not a link made by install.sh" in result.stderr

    result = _run(installer, home, "--bogus")
    assert result.returncode == 2


def test_install_needs_the_bundle_beside_it(tmp_path: Path, home: Path) -> None:
    lone = tmp_path / "lone"
    lone.mkdir()
    installer = lone / "install.sh"
    installer.write_bytes(INSTALL_SH.read_bytes())
    result = _run(installer, home)
    assert result.returncode == 1
    assert "unpacked archive" in result.stderr
