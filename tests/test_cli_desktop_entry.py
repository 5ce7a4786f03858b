"""`desktop-search install-desktop-entry [--remove]` through the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from desktop_search.cli.root import cli
from desktop_search.platform import desktop_entry, resource_files

pytestmark = pytest.mark.skipif(not desktop_entry.supported(), reason="freedesktop systems only")


@pytest.fixture
def environment(tmp_path) -> dict[str, str]:
    """Menu folders of their own (no caches in them: tests/test_desktop_entry.py runs those)."""
    return {
        "HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_DIRS": str(tmp_path / "system"),
    }  # fmt: skip


def run(environment, *args, expect=0):
    result = CliRunner().invoke(cli, ["install-desktop-entry", *args], env=environment)
    assert result.exit_code == expect, result.output
    return result


def test_install_then_again_then_remove(environment, tmp_path):
    entry = tmp_path / "data" / "applications" / "desktop-search.desktop"
    lines = run(environment).stdout.splitlines()
    assert f"wrote {entry}" in lines
    count = len(resource_files.APP_ICON_SIZES) + 3
    assert sum(line.startswith("wrote ") for line in lines) == count
    assert lines[-1].startswith("desktop-search is in the applications menu (it runs: /")
    assert lines[-1].endswith("gui); 'desktop-search install-desktop-entry --remove' takes it away")
    exec_line = next(line for line in entry.read_text().splitlines() if line.startswith("Exec="))
    program = exec_line.removeprefix("Exec=").split(" ")[0]
    assert os.path.isabs(program) and os.access(program, os.X_OK)  # this installation's own

    assert run(environment).stdout.splitlines()[0] == (
        f"already in place: {count} file(s), nothing changed"
    )

    lines = run(environment, "--remove").stdout.splitlines()
    assert f"removed {entry}" in lines
    assert lines[-1] == "desktop-search is no longer in the applications menu"
    assert not (tmp_path / "data" / "applications").exists()
    assert run(environment, "--remove").stdout.strip() == (
        "nothing to remove: no menu entry written by desktop-search is here"
    )


def test_a_file_it_did_not_write_stops_it_with_what_to_do(environment, tmp_path):
    entry = tmp_path / "data" / "applications" / "desktop-search.desktop"
    entry.parent.mkdir(parents=True)
    entry.write_text("[Desktop Entry]\n")
    result = run(environment, expect=1)
    assert result.stderr.strip() == (
        f"error: {entry} was not written by desktop-search, or was changed since; nothing was "
        "installed — move that file away, then run 'desktop-search install-desktop-entry' again"
    )
    assert entry.read_text() == "[Desktop Entry]\n"
    lines = run(environment, "--remove").stdout.splitlines()
    assert lines == ["nothing to remove: no menu entry written by desktop-search is here"]


def test_a_changed_file_is_kept_by_remove(environment, tmp_path):
    run(environment)
    entry = tmp_path / "data" / "applications" / "desktop-search.desktop"
    entry.write_text(entry.read_text() + "NoDisplay=true\n")
    lines = run(environment, "--remove").stdout.splitlines()
    assert f"kept {entry}: changed since desktop-search wrote it" in lines
    assert entry.is_file()


NO_VALIDATOR = "desktop-file-validate (Debian: desktop-file-utils) is not installed"


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason=NO_VALIDATOR)
def test_the_entry_it_writes_is_valid(environment, tmp_path):
    run(environment)
    entry = tmp_path / "data" / "applications" / "desktop-search.desktop"
    done = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
