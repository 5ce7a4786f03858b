"""Turning file-system events into settled changes; folders that cannot be watched."""

import errno
import os
import threading

import pytest
from watchdog.events import (
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
)

from desktop_search.extract.images import IMAGE_EXTENSIONS
from desktop_search.index.scan import is_wanted
from desktop_search.index.watch import (
    CLOSED_SETTLE,
    ChangeCollector,
    FolderWatcher,
    _Handler,
    root_of,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def collector(clock):
    return ChangeCollector(settle=1.0, clock=clock)


def test_a_file_is_handed_out_once_after_it_settles(tmp_path, clock, collector):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"12")
    collector.file_changed(str(photo))
    collector.file_changed(str(photo))  # many events, one change
    clock.now += 0.5
    assert not collector.take()
    clock.now += 0.6
    assert collector.take().paths == {str(photo)}
    assert not collector.take()


def test_a_file_still_growing_waits_for_another_quiet_period(tmp_path, clock, collector):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"12")
    collector.file_changed(str(photo))
    photo.write_bytes(b"1234")  # written on without a new event reaching us (yet)
    clock.now += 1.1
    assert not collector.take()
    clock.now += 1.1
    assert collector.take().paths == {str(photo)}


def test_closing_after_writing_shortens_the_wait(tmp_path, clock, collector):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"12")
    collector.file_changed(str(photo), closed=True)
    clock.now += CLOSED_SETTLE + 0.01
    assert collector.take().paths == {str(photo)}


def test_moves_are_handed_out_at_once_and_temporary_names_are_followed(tmp_path, collector):
    collector.file_moved("/p/old.jpg", "/p/new.jpg")
    collector.folder_moved("/p/a", "/p/b")
    (tmp_path / "part.jpg").write_bytes(b"x")
    collector.file_changed(str(tmp_path / "part.jpg"))
    collector.file_moved(str(tmp_path / "part.jpg"), str(tmp_path / "final.jpg"))
    changes = collector.take()
    assert changes.moves == [("/p/old.jpg", "/p/new.jpg")]
    assert changes.folder_moves == [("/p/a", "/p/b")]
    assert changes.paths == set()  # final.jpg still settles
    assert collector.waiting == 1


def test_the_handler_drops_what_indexing_would_skip(tmp_path, clock, collector):
    root = str(tmp_path)
    latin1 = os.fsdecode(os.fsencode(root) + b"/caf\xe9.jpg")
    handler = _Handler(root, collector, lambda p, r: is_wanted(p, r, IMAGE_EXTENSIONS))
    for event in (
        FileCreatedEvent(f"{root}/notes.txt"),
        FileModifiedEvent(f"{root}/.git/x.jpg"),
        FileCreatedEvent(f"{root}/._a.jpg"),
        FileCreatedEvent(f"{root}/good.JPG"),
        FileClosedEvent(f"{root}/closed.png"),
        FileDeletedEvent(f"{root}/gone.jpg"),
        FileMovedEvent(f"{root}/download.part", f"{root}/arrived.jpg"),
        FileMovedEvent(f"{root}/was.jpg", f"{root}/now.txt"),
        FileMovedEvent(f"{root}/x.jpg", f"{root}/y.jpg"),
        DirMovedEvent(f"{root}/a", f"{root}/b"),
        FileCreatedEvent(latin1),  # a name that is not UTF-8 is indexed like any other
    ):
        handler.dispatch(event)
    clock.now += 5
    changes = collector.take()
    names = ("good.JPG", "closed.png", "gone.jpg", "arrived.jpg", "was.jpg")
    assert changes.paths == {f"{root}/{n}" for n in names} | {latin1}
    assert changes.moves == [(f"{root}/x.jpg", f"{root}/y.jpg")]
    assert changes.folder_moves == [(f"{root}/a", f"{root}/b")]


def test_events_from_many_threads_are_all_collected(tmp_path, clock, collector):
    def burst(offset: int) -> None:
        for number in range(200):
            collector.file_changed(str(tmp_path / f"{offset}_{number}.jpg"))

    threads = [threading.Thread(target=burst, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    clock.now += 2
    assert len(collector.take().paths) == 800


class FullObserver:
    """An observer on a system whose inotify watch limit is used up (cannot happen on demand)."""

    def __init__(self) -> None:
        self.started = False

    def start(self) -> None:
        self.started = True

    def schedule(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    def stop(self) -> None:
        pass

    def is_alive(self) -> bool:
        return False


def test_a_root_that_cannot_be_watched_falls_back_to_rescans_with_the_reason(tmp_path):
    watcher = FolderWatcher(ChangeCollector(), IMAGE_EXTENSIONS, observer_factory=FullObserver)
    watcher.start()
    unwatched = watcher.watch(str(tmp_path))
    assert unwatched is not None and "max_user_watches" in unwatched.reason
    assert watcher.unwatched == {str(tmp_path): unwatched}
    watcher.stop()


def test_the_live_index_rescans_folders_it_cannot_watch(model_home, tmp_path):
    import time

    from PIL import Image
    from skimage import data

    from desktop_search.app.library import Library
    from desktop_search.app.live import LiveIndex

    photos = tmp_path / "photos"
    photos.mkdir()
    library = Library.open(model_home)
    library.store.files.add_roots([str(photos)])
    live = LiveIndex(library, rescan_interval=0.5, observer_factory=FullObserver)
    live.start()
    try:
        Image.fromarray(data.coffee()).save(photos / "coffee.jpg")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not library.reader().store.reads.item_id_of_path(
            str(photos / "coffee.jpg")
        ):
            time.sleep(0.1)
        assert library.store.reads.item_id_of_path(str(photos / "coffee.jpg"))
        assert "max_user_watches" in live.status().unwatched[str(photos)]
        assert library.status().indexer.unwatched == live.status().unwatched
    finally:
        live.stop()
        library.close()


def test_root_of_picks_the_innermost_root():
    assert root_of("/a/b/c.jpg", ["/a", "/a/b"]) == "/a/b"
    assert root_of("/ab/c.jpg", ["/a"]) is None


def test_folders_on_network_drives_are_rescanned_instead_of_watched():
    from desktop_search.index.watch import network_filesystem

    mounts = (
        "/dev/sda1 / ext4 rw 0 0\n"
        "server:/photos /mnt/nas nfs4 rw 0 0\n"
        "//pc/share /mnt/my\\040share cifs rw 0 0\n"
        "/dev/sdb1 /mnt/nas/local ext4 rw 0 0\n"
    )
    assert "nfs4" in network_filesystem("/mnt/nas/2024/beach.jpg", mounts)
    assert "cifs" in network_filesystem("/mnt/my share/x", mounts)
    assert network_filesystem("/mnt/nas/local/x", mounts) is None  # innermost mount wins
    assert network_filesystem("/home/me/Pictures", mounts) is None
    assert network_filesystem("/mnt/nasty", mounts) is None  # a prefix is not a parent
