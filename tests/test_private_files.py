"""Who may read a library: what the app creates under its home is private (files 0600, folders
0700) whatever the umask, and it never changes the permissions of what it did not create.

The commands run as real processes with a permissive umask (022, the usual one), so a mode that
came from the umask instead of the code would show.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from desktop_search.app.library import Library
from desktop_search.models.install.download import download
from desktop_search.platform import private

REPO = Path(__file__).resolve().parents[1]


def run(home: Path, *args: object, expect: int = 0) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "desktop_search", "--home", str(home), *map(str, args)],
        capture_output=True, text=True, timeout=600, cwd=REPO, stdin=subprocess.DEVNULL,
        preexec_fn=lambda: os.umask(0o022),
    )  # fmt: skip
    assert result.returncode == expect, result.stderr
    return result


def modes(root: Path) -> dict[str, int]:
    """Every file and folder under ``root`` (itself included): its permission bits."""
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for parent, folders, files in os.walk(root):
        for name in [*folders, *files]:
            path = Path(parent, name)
            found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def open_to_others(root: Path) -> dict[str, str]:
    return {path: oct(mode) for path, mode in modes(root).items() if mode & 0o077}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    photos = tmp_path / "photos"
    photos.mkdir()
    for i, colour in enumerate([(200, 30, 30), (30, 200, 30), (30, 30, 200)]):
        Image.new("RGB", (96, 64), colour).save(photos / f"p{i}.jpg", quality=90)
    (photos / "letter.txt").write_text("Dear Ann,\n\nthe results came back fine.\n")
    return photos


def test_everything_a_new_home_holds_is_private(tmp_path, folder, tiny_clip_checkpoint):
    home = tmp_path / "home"
    run(home, "models", "import", tiny_clip_checkpoint.checkpoint, "--arch",
        tiny_clip_checkpoint.config, "--name", "mine")  # fmt: skip
    run(home, "index", folder)
    run(home, "search", "a red photo")
    made = modes(home)
    # What the walk saw: the database, settings, a converted model, thumbnails, vector files
    # and their locks, the writer lock (the database's log goes when the last process closes).
    for name in ("library.db", "config.toml", "models/mine/visual.onnx",
                 "models/mine/model.json", "vectors/mine.index", "vectors/mine.json",
                 "vectors/mine.index.lock", "writer.lock"):  # fmt: skip
        assert name in made, sorted(made)
    assert sum(name.startswith("thumbnails/") and name.endswith(".jpg") for name in made) == 3
    assert open_to_others(home) == {}
    folders = {name for name in made if (home / name).is_dir()}
    assert {made[name] for name in folders} == {0o700}  # the home itself too: made here
    assert run(home, "doctor", "--check").returncode == 0
    # The log and shared-memory files exist while the library is open: SQLite gives them the
    # database's permissions.
    previous = os.umask(0o022)
    try:
        with Library.open(home) as library:
            library.store.set_meta("probe", "written")
            logs = {
                name: mode for name, mode in modes(home).items() if name.startswith("library.db-")
            }
    finally:
        os.umask(previous)
    assert logs == {"library.db-wal": 0o600, "library.db-shm": 0o600}


def test_a_download_is_private(tmp_path, https_server, client_context):
    data = os.urandom(100_000)
    https_server.files["/model.bin"] = data
    target = tmp_path / "downloads" / "model.bin"
    target.parent.mkdir()
    previous = os.umask(0o022)
    try:
        download(f"{https_server.base}/model.bin", target, size=len(data),
                 sha256=hashlib.sha256(data).hexdigest(), ssl_context=client_context)  # fmt: skip
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_an_existing_home_is_used_as_it_is(tmp_path, folder):
    """A home made by an older version (or by hand): 0755, its database 0644, with a file of
    its owner's beside it. No command changes a permission of what it did not create; reading
    ones (status, search, doctor --check) change none at all."""
    home = tmp_path / "home"
    run(home, "index", folder)
    for path in (home, home / "library.db", home / "config.toml"):
        if path.exists():
            path.chmod(0o755 if path.is_dir() else 0o644)
    (home / "README.txt").write_text("my notes about this library\n")
    (home / "README.txt").chmod(0o644)
    before = modes(home)

    run(home, "status")
    run(home, "search", "letter")
    checked = run(home, "doctor", "--check", expect=1)  # old files others may read: a problem
    assert "problem private files: " in checked.stdout and "library.db" in checked.stdout
    assert modes(home) == before

    run(home, "index", folder)
    after = modes(home)
    assert {name: after[name] for name in before} == before  # nothing that was there changed
    assert after["."] == 0o755  # the home: never chmod'ed

    # `doctor` makes the library's files private (it was asked to repair): not the home itself.
    assert "fixed   private files: made " in run(home, "doctor").stdout
    assert open_to_others(home) == {".": oct(0o755)}


def test_a_folder_with_other_files_is_not_taken_as_a_home(tmp_path, folder):
    """`--home /tmp` or `--home ~`: refused with what to do, and nothing written there."""
    other = tmp_path / "stuff"
    other.mkdir()
    other.chmod(0o755)
    (other / "holiday.jpg").write_bytes(b"\xff\xd8 someone's photo")
    before = modes(other)
    for command in (["status"], ["index", folder], ["doctor", "--check"]):
        result = run(other, *command, expect=1)
        assert result.stderr.startswith(
            f"error: {other} holds other files (holiday.jpg) and is not"
        )
        assert "nothing was written to it" in result.stderr
        assert "name a new or empty folder with --home DIR" in result.stderr
        assert modes(other) == before


def test_an_empty_folder_becomes_a_home_keeping_its_mode(tmp_path, folder):
    home = tmp_path / "empty"
    home.mkdir()
    home.chmod(0o750)
    run(home, "index", folder)
    assert stat.S_IMODE(home.stat().st_mode) == 0o750  # not the app's to change
    assert open_to_others(home) == {".": oct(0o750)}  # but all it put there is private


def test_make_tree_private_keeps_the_owners_bits(tmp_path):
    tree = tmp_path / "model"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "run.sh").write_text("#!/bin/sh\n")
    (tree / "sub" / "run.sh").chmod(0o755)
    (tree / "weights.bin").write_bytes(b"w")
    (tree / "weights.bin").chmod(0o644)
    private.make_tree_private(tree)
    assert modes(tree) == {".": 0o700, "sub": 0o700, "sub/run.sh": 0o700, "weights.bin": 0o600}
