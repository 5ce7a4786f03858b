"""Thumbnails go with the files that used them: real library homes, real SQLite files.

Thumbnails are named by content hash, so copies of the same bytes share one: a thumbnail is
deleted only once no file row names it, and only after the change that dropped it committed.
``doctor`` finds thumbnails no row names (planted here, as a crash or an older version leaves
them) and deletes them on repair.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from desktop_search.app.library import Library
from desktop_search.app.live import LiveIndex
from desktop_search.cli.root import cli


def photo(path: Path, colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", (96, 64), colour).save(path, quality=90)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    photos = tmp_path / "photos"
    photos.mkdir()
    photo(photos / "red.jpg", (200, 20, 20))
    photo(photos / "green.jpg", (20, 200, 20))
    shutil.copyfile(photos / "red.jpg", photos / "red copy.jpg")  # the same bytes
    return photos


@pytest.fixture
def library(tmp_path: Path, folder: Path):
    """A library (no model: photos are catalogued with their thumbnails) over ``folder``."""
    opened = Library.open(tmp_path / "home")
    opened.index([folder])
    yield opened
    opened.close()


def thumbnail_of(library: Library, path: Path) -> Path | None:
    row = library.store.db.execute(
        "SELECT thumbnail FROM files WHERE path = ?", [str(path)]
    ).fetchone()
    return library.thumbnails.path(row[0]) if row and row[0] else None


def on_disk(library: Library) -> set[str]:
    """Every thumbnail file in the folder, relative to it."""
    folder = library.paths.thumbnails
    return {str(path.relative_to(folder)) for path in folder.rglob("*.jpg")}


def doctor(home: Path, *args: str, expect: int = 0) -> dict:
    result = CliRunner().invoke(cli, ["--home", str(home), "doctor", "--json", *args])
    assert result.exit_code == expect, result.output
    return {check["name"]: check for check in json.loads(result.stdout)["checks"]}


def test_a_deleted_photo_takes_its_thumbnail_along(library, folder):
    green = thumbnail_of(library, folder / "green.jpg")
    assert green.is_file()
    (folder / "green.jpg").unlink()
    report = library.index([folder])
    assert report.removed == 1
    assert not green.exists()
    assert len(on_disk(library)) == 1  # red's, which two files share


def test_the_next_run_deletes_what_a_killed_run_was_writing(library, folder):
    shard = thumbnail_of(library, folder / "green.jpg").parent
    abandoned = shard / f".{'cd' * 32}.jpg.999999-140.tmp"  # named as ThumbnailStore.put names it
    abandoned.write_bytes(b"half a JPEG")
    someone_elses = shard / "notes.tmp"  # not a name the store writes: not its to judge
    someone_elses.write_bytes(b"keep")
    library.index([folder])
    assert not abandoned.exists()
    assert someone_elses.exists()
    assert len(on_disk(library)) == 2


def test_a_shared_thumbnail_stays_while_a_copy_uses_it(library, folder):
    red = thumbnail_of(library, folder / "red.jpg")
    assert red == thumbnail_of(library, folder / "red copy.jpg")
    (folder / "red.jpg").unlink()
    library.index([folder])
    assert red.is_file()  # "red copy.jpg" still shows it
    assert thumbnail_of(library, folder / "red copy.jpg") == red
    (folder / "red copy.jpg").unlink()
    library.index([folder])
    assert not red.exists()


def test_a_shared_thumbnail_stays_when_another_folder_is_forgotten(library, folder, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    shutil.copyfile(folder / "green.jpg", other / "green again.jpg")
    library.index([other])
    green = thumbnail_of(library, other / "green again.jpg")
    assert green == thumbnail_of(library, folder / "green.jpg")
    assert library.remove_root(str(folder)) == 3
    assert green.is_file()  # the other folder's copy uses it
    assert on_disk(library) == {str(green.relative_to(library.paths.thumbnails))}
    assert library.remove_root(str(other)) == 1
    assert on_disk(library) == set()


def test_a_changed_or_unreadable_photo_drops_its_old_thumbnail(library, folder):
    green = thumbnail_of(library, folder / "green.jpg")
    time.sleep(0.01)  # a new modification time
    photo(folder / "green.jpg", (20, 20, 200))  # now blue: other bytes, another thumbnail
    library.index([folder])
    blue = thumbnail_of(library, folder / "green.jpg")
    assert blue.is_file() and blue != green and not green.exists()
    (folder / "green.jpg").write_bytes(b"not a photo any more")
    report = library.index([folder])
    assert report.failed == 1
    assert thumbnail_of(library, folder / "green.jpg") is None and not blue.exists()


def test_nothing_is_deleted_before_the_change_commits(library, folder):
    green = thumbnail_of(library, folder / "green.jpg")
    store = library.store
    with library.writer():
        with pytest.raises(ZeroDivisionError), store.db.atomic():
            store.files.remove_paths([str(folder / "green.jpg")])
            with pytest.raises(RuntimeError, match="inside a transaction"):
                library.clean_up()  # the drop is not committed: nothing may go yet
            raise ZeroDivisionError  # and it never will be
        library.clean_up()
    assert green.is_file()  # the row came back with the rollback, and names it
    assert thumbnail_of(library, folder / "green.jpg") == green


def test_the_live_index_deletes_the_thumbnail_of_a_deleted_photo(library, folder):
    green = thumbnail_of(library, folder / "green.jpg")
    live = LiveIndex(library, settle=0.2)
    live.start()
    try:
        (folder / "green.jpg").unlink()
        deadline = time.monotonic() + 30  # forgotten at once, cleaned up once quiet (5 s)
        while green.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        live.stop()
    assert not green.exists()
    assert len(on_disk(library)) == 1


def test_doctor_finds_unused_thumbnails_and_deletes_them(library, folder):
    home, used = library.paths.home, on_disk(library)
    planted = [
        library.paths.thumbnails / "ab" / f"ab{'0' * 62}.jpg",  # a shard of its own
        library.paths.thumbnails / next(iter(used))[:2] / f"{next(iter(used))[:2]}{'1' * 62}.jpg",
    ]
    for path in planted:
        path.parent.mkdir(exist_ok=True, mode=0o700)
        path.write_bytes(b"\xff\xd8 a thumbnail of a file forgotten long ago")
        path.chmod(0o600)
    library.close()

    check = doctor(home, "--check")["unused thumbnails"]
    assert check["status"] == "normal"  # not a problem: the next index run deletes them
    assert check["detail"].startswith("2 thumbnail(s) no file in the library uses")
    assert all(path.is_file() for path in planted)  # --check changes nothing

    fixed = doctor(home)["unused thumbnails"]
    assert fixed == {
        "name": "unused thumbnails",
        "status": "fixed",
        "detail": "deleted 2 thumbnail(s) no file in the library uses",
    }
    assert not any(path.exists() for path in planted)
    reopened = Library.open(home)
    try:
        assert on_disk(reopened) == used  # the ones files use stay
    finally:
        reopened.close()
    assert doctor(home, "--check")["unused thumbnails"]["status"] == "ok"


def test_an_index_run_deletes_unused_thumbnails_a_crash_left(library, folder):
    """Written, then the process died before the row committed: the next run deletes it."""
    leftover = library.paths.thumbnails / "cd" / f"cd{'2' * 62}.jpg"
    leftover.parent.mkdir(exist_ok=True)
    leftover.write_bytes(b"\xff\xd8")
    library.index([folder])
    assert not leftover.exists()
