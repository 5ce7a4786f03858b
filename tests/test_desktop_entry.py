"""The menu entry in the user's XDG folders (platform/desktop_entry.py): what install writes, that
it runs again without changes, refuses to overwrite what is not its own, and that remove takes
away exactly what it wrote."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_search.errors import DesktopEntryError
from desktop_search.platform import desktop_entry, desktop_file, resource_files
from desktop_search.platform.desktop_entry import XdgFolders
from desktop_search.platform.desktop_file import entry_text, exec_value

pytestmark = pytest.mark.skipif(not desktop_entry.supported(), reason="freedesktop systems only")

COMMAND = ["/opt/desktop search/bin/desktop-search"]  # a space: Exec must quote it


@pytest.fixture
def folders(tmp_path) -> XdgFolders:
    return XdgFolders(
        data_home=tmp_path / "data", state_home=tmp_path / "state",
        data_dirs=(tmp_path / "system",),
    )  # fmt: skip


def entry_lines(path: Path) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if "=" in line
    )


def every_file(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


# -- the Exec line ------------------------------------------------------------------------------


def test_exec_quotes_what_the_specification_reserves():
    assert exec_value(["/usr/bin/desktop-search", "gui"]) == "/usr/bin/desktop-search gui"
    assert exec_value(["/home/a b/ds", "gui"]) == '"/home/a b/ds" gui'
    # Inside quotes: \" \` \$ \\, then every backslash doubled again (Exec is a string key);
    # a per cent sign is doubled (field codes).
    assert exec_value(['/x/"q"$HOME`\\100%']) == '"/x/\\\\"q\\\\"\\\\$HOME\\\\`\\\\\\\\100%%"'
    with pytest.raises(DesktopEntryError, match="control character"):
        exec_value(["/x/a\nb"])
    with pytest.raises(DesktopEntryError, match="not valid UTF-8"):
        exec_value([os.fsdecode(b"/x/caf\xe9")])


def test_the_entry_runs_this_installation_by_its_absolute_path():
    text = entry_text(COMMAND)
    keys = entry_lines_of(text)
    assert keys["Exec"] == '"/opt/desktop search/bin/desktop-search" gui'
    assert keys["TryExec"] == "/opt/desktop search/bin/desktop-search"
    assert keys["Icon"] == resource_files.APP_ID
    assert text.count("Exec=") == 2  # TryExec and Exec, each once

    command = desktop_file.launcher()
    assert all(os.path.isabs(part) for part in command[:1])
    assert command[0].endswith("desktop-search") or command[1:] == ["-m", "desktop_search"]


def entry_lines_of(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


# -- install --------------------------------------------------------------------------------------


def test_install_writes_the_entry_the_icons_and_the_metainfo(folders):
    report = desktop_entry.install(COMMAND, folders)
    data = folders.data_home
    entry = data / "applications" / "desktop-search.desktop"
    assert entry_lines(entry)["Exec"] == '"/opt/desktop search/bin/desktop-search" gui'
    for size in resource_files.APP_ICON_SIZES:
        png = data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "desktop-search.png"
        assert png.read_bytes() == resource_files.app_icon_png(size)
    assert (data / "icons/hicolor/scalable/apps/desktop-search.svg").is_file()
    metainfo = data / "metainfo" / resource_files.METAINFO_FILE
    assert metainfo.read_bytes() == resource_files.metainfo_bytes()
    assert set(report.written) == every_file(data)
    assert len(report.written) == len(resource_files.APP_ICON_SIZES) + 3
    assert report.command == (*COMMAND, "gui") and report.unchanged == ()
    # Written as the app writes its home: files 0600, the folders it made 0700.
    for path in report.written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((data / "icons" / "hicolor").stat().st_mode) == 0o700
    assert folders.record_file.is_file()
    assert desktop_entry.installed(folders) and desktop_entry.entry_present(folders)


def test_install_again_changes_nothing_and_replaces_its_own_older_files(folders):
    first = desktop_entry.install(COMMAND, folders)
    times = {path: path.stat().st_mtime_ns for path in first.written}
    again = desktop_entry.install(COMMAND, folders)
    assert again.written == () and set(again.unchanged) == set(first.written)
    assert {path: path.stat().st_mtime_ns for path in first.written} == times

    # Another installation (a new virtual environment) runs it now: its own entry is replaced.
    moved = desktop_entry.install(["/new/bin/desktop-search"], folders)
    assert moved.written == (folders.entry_file,)
    assert entry_lines(folders.entry_file)["Exec"] == "/new/bin/desktop-search gui"


def test_install_never_overwrites_a_file_it_did_not_write(folders):
    folders.applications.mkdir(parents=True)
    folders.entry_file.write_text("[Desktop Entry]\nName=mine\n")
    with pytest.raises(DesktopEntryError, match="was not written by desktop-search") as raised:
        desktop_entry.install(COMMAND, folders)
    assert "move that file away" in str(raised.value)
    assert folders.entry_file.read_text() == "[Desktop Entry]\nName=mine\n"
    assert every_file(folders.data_home) == {folders.entry_file}  # nothing else was written
    assert not folders.record_file.exists()

    # The same for one of its own files the person changed since.
    folders.entry_file.unlink()
    desktop_entry.install(COMMAND, folders)
    folders.entry_file.write_text(folders.entry_file.read_text() + "NoDisplay=true\n")
    with pytest.raises(DesktopEntryError, match="or was changed since"):
        desktop_entry.install(["/new/bin/desktop-search"], folders)

    # A link in its place is not a file it wrote either.
    folders.entry_file.unlink()
    folders.entry_file.symlink_to(folders.data_home / "elsewhere.desktop")
    with pytest.raises(DesktopEntryError, match="is not a regular file"):
        desktop_entry.install(COMMAND, folders)


# -- remove ---------------------------------------------------------------------------------------


def test_remove_takes_away_exactly_what_install_wrote(folders):
    # Someone else's icon in a folder that existed before: it and its folder stay.
    theirs = folders.data_home / "icons" / "hicolor" / "48x48" / "apps" / "other-app.png"
    theirs.parent.mkdir(parents=True)
    theirs.write_bytes(b"not ours")
    before = {path for path in folders.data_home.rglob("*")}
    desktop_entry.install(COMMAND, folders)

    report = desktop_entry.remove(folders)
    assert len(report.removed) == len(resource_files.APP_ICON_SIZES) + 3 and report.kept == ()
    assert {path for path in folders.data_home.rglob("*")} == before  # its folders went too
    assert theirs.read_bytes() == b"not ours"
    assert not folders.record_file.exists() and not folders.record_file.parent.exists()
    assert not desktop_entry.installed(folders) and not desktop_entry.entry_present(folders)

    again = desktop_entry.remove(folders)  # nothing left to do
    assert (again.removed, again.kept) == ((), ())


def test_remove_keeps_files_changed_since_and_files_it_did_not_write(folders):
    desktop_entry.install(COMMAND, folders)
    edited = folders.entry_file.read_text() + "NoDisplay=true\n"
    folders.entry_file.write_text(edited)
    report = desktop_entry.remove(folders)
    assert report.kept == (folders.entry_file,)
    assert folders.entry_file.read_text() == edited
    assert every_file(folders.data_home) == {folders.entry_file}

    # Without a record nothing counts as its own: an identical copy stays too.
    folders.entry_file.unlink()
    desktop_entry.install(COMMAND, folders)
    folders.record_file.unlink()
    assert desktop_entry.remove(folders).removed == ()
    assert folders.entry_file.is_file()
    assert desktop_entry.install(COMMAND, folders).written == ()  # identical files are left


def test_an_entry_a_system_package_installed_counts_as_present(folders):
    assert not desktop_entry.entry_present(folders)
    system = folders.data_dirs[0] / "applications" / "desktop-search.desktop"
    system.parent.mkdir(parents=True)
    system.write_text("[Desktop Entry]\n")
    assert desktop_entry.entry_present(folders) and not desktop_entry.installed(folders)


def test_xdg_folders_come_from_the_environment_and_ignore_relative_ones(tmp_path):
    found = XdgFolders.from_environment({
        "HOME": str(tmp_path), "XDG_DATA_HOME": "relative/data", "XDG_STATE_HOME": "/s",
        "XDG_DATA_DIRS": "/usr/share:relative:/opt/share",
    })  # fmt: skip
    assert found.data_home == tmp_path / ".local" / "share"
    assert found.record_file == Path("/s/desktop-search/menu-entry.json")
    assert found.data_dirs == (Path("/usr/share"), Path("/opt/share"))
    default = XdgFolders.from_environment({"HOME": str(tmp_path)})
    assert default.data_dirs == (Path("/usr/local/share"), Path("/usr/share"))


# -- caches ---------------------------------------------------------------------------------------


def fake_tools(folder: Path, log: Path) -> None:
    """update-desktop-database and gtk-update-icon-cache that write their arguments to ``log``."""
    folder.mkdir()
    for tool in ("update-desktop-database", "gtk-update-icon-cache"):
        script = folder / tool
        script.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\n')
        script.chmod(0o755)


def test_caches_that_exist_are_refreshed_and_none_is_created(folders, tmp_path, monkeypatch):
    log = tmp_path / "tools.log"
    fake_tools(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    report = desktop_entry.install(COMMAND, folders)
    assert report.refreshed == () and not log.exists()  # no cache here: none is made

    (folders.applications / "mimeinfo.cache").write_text("[MIME Cache]\n")
    (folders.hicolor / "icon-theme.cache").write_bytes(b"")
    folders.entry_file.unlink()  # something to write again
    report = desktop_entry.install(COMMAND, folders)
    assert report.refreshed == ("update-desktop-database", "gtk-update-icon-cache")
    assert log.read_text().splitlines() == [
        f"update-desktop-database -q {folders.applications}",
        f"gtk-update-icon-cache -q -f -t {folders.hicolor}",
    ]
    assert desktop_entry.remove(folders).refreshed == report.refreshed


NO_VALIDATOR = "desktop-file-validate (Debian: desktop-file-utils) is not installed"


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason=NO_VALIDATOR)
def test_the_written_entry_is_valid(folders):
    desktop_entry.install([sys.executable, "-m", "desktop_search"], folders)
    done = subprocess.run(["desktop-file-validate", str(folders.entry_file)],
                          capture_output=True, text=True)  # fmt: skip
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_other_systems_are_told_what_to_do_instead(folders, monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(DesktopEntryError, match="Linux and the BSDs only, not on darwin"):
        desktop_entry.install(COMMAND, folders)
    assert not folders.data_home.exists()
