"""The live index: real watchdog observers on temporary folders, a real tiny CLIP model."""

import os
import shutil
import time
from pathlib import Path

import pytest
from PIL import Image
from skimage import data

from desktop_search.app.library import Library
from desktop_search.app.live import LiveIndex
from desktop_search.app.status import QueueCounts
from desktop_search.errors import WriterLockedError
from desktop_search.index.progress import Heartbeat
from desktop_search.search.searcher import Query

SETTLE = 0.3


def save_photo(path: Path, name: str = "coffee") -> Path:
    Image.fromarray(getattr(data, name)()).save(path, quality=90)
    return path


def wait_for(condition, timeout: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not true within {timeout} s: {condition.__doc__ or condition}")


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("astronaut", "chelsea", "rocket"):
        save_photo(folder / f"{name}.jpg", name)
    return folder


@pytest.fixture
def library(model_library):
    return model_library


@pytest.fixture
def live(library, photos):
    """A running live index over ``photos`` that has finished its first reconcile."""
    library.index([photos])
    service = LiveIndex(library, settle=SETTLE)
    service.start()
    wait_for(lambda: service.status().state == "idle")
    yield service
    service.stop()
    assert not service.running


def indexed(library: Library, path: Path) -> int | None:
    with library.reader() as reader:
        return reader.store.reads.item_id_of_path(str(path))


def in_vector_index(library: Library, item_id: int) -> bool:
    clip = library.clip()
    return item_id in set(library.vectors(clip).ids().tolist())


def test_a_new_photo_becomes_searchable_and_a_deleted_one_goes(library, live, photos):
    new = save_photo(photos / "new.jpg", "coffee")
    item = wait_for(lambda: indexed(library, new))
    wait_for(lambda: in_vector_index(library, item))  # the store commits first, then the index
    with library.reader() as reader:
        hits = reader.search(Query(image=new, limit=1))
    assert hits[0].path == str(new)
    new.unlink()
    wait_for(lambda: indexed(library, new) is None)
    wait_for(lambda: not in_vector_index(library, item))


def test_a_rename_and_a_folder_move_keep_the_embeddings(library, live, photos):
    before = indexed(library, photos / "chelsea.jpg")
    (photos / "chelsea.jpg").rename(photos / "cat.jpg")
    assert wait_for(lambda: indexed(library, photos / "cat.jpg")) == before
    assert indexed(library, photos / "chelsea.jpg") is None

    album = photos / "album"
    album.mkdir()
    (photos / "cat.jpg").rename(album / "cat.jpg")
    assert wait_for(lambda: indexed(library, album / "cat.jpg")) == before
    album.rename(photos / "holiday")
    assert wait_for(lambda: indexed(library, photos / "holiday" / "cat.jpg")) == before
    assert in_vector_index(library, before)
    report = live.status().last_report
    assert report is not None and report.encoded == 0  # nothing was re-encoded


def test_a_file_still_being_written_is_indexed_once_complete(library, live, photos):
    payload = (photos / "astronaut.jpg").read_bytes()
    target = photos / "slow.jpg"
    with open(target, "wb") as out:
        for start in range(0, len(payload), len(payload) // 4):
            out.write(payload[start : start + len(payload) // 4])
            out.flush()
            time.sleep(SETTLE / 2)  # pauses shorter than the settle time
    wait_for(lambda: indexed(library, target))
    failures = [f.path for f in library.status().failures]
    assert str(target) not in failures  # never parked as truncated on the way


def test_changes_while_not_running_are_found_at_start_without_reencoding(library, photos):
    library.index([photos])
    rocket = indexed(library, photos / "rocket.jpg")
    (photos / "rocket.jpg").rename(photos / "launch.jpg")
    save_photo(photos / "offline.jpg", "coffee")
    (photos / "astronaut.jpg").unlink()
    reports = []
    service = LiveIndex(library, settle=SETTLE)
    service.subscribe(lambda status: status.last_report and reports.append(status.last_report))
    service.start()
    try:
        wait_for(lambda: indexed(library, photos / "offline.jpg"))
        wait_for(lambda: indexed(library, photos / "astronaut.jpg") is None)
    finally:
        service.stop()
    assert indexed(library, photos / "launch.jpg") == rocket  # moved: same item, same vector
    first = reports[0]
    assert (first.new, first.moved, first.removed, first.encoded) == (1, 1, 1, 1)


def test_a_second_writer_is_refused_with_a_clear_message(library, live):
    other = Library.open(library.paths.home)
    try:
        with pytest.raises(WriterLockedError, match="another desktop-search process"):
            LiveIndex(other).start()
        with pytest.raises(WriterLockedError):
            other.index([])
        assert other.status().indexer.pid == os.getpid()  # it can still read
    finally:
        other.close()


def test_pause_holds_new_work_until_resumed(library, live, photos):
    live.pause()
    new = save_photo(photos / "while_paused.jpg", "coffee")
    time.sleep(SETTLE * 4)
    assert indexed(library, new) is None
    assert live.status().state == "paused"
    live.resume()
    wait_for(lambda: indexed(library, new))


def test_searches_during_indexing_never_fail(library, photos, tmp_path):
    many = photos / "many"
    many.mkdir()
    source = photos / "astronaut.jpg"
    for number in range(60):
        image = Image.open(source).rotate(number * 6)
        image.save(many / f"{number:03}.jpg", quality=80)
    service = LiveIndex(library, settle=SETTLE)
    service.start()
    service.rescan([photos])
    answered = []
    deadline = time.monotonic() + 60
    try:
        with library.reader() as reader:
            while not indexed(library, many / "059.jpg") and time.monotonic() < deadline:
                started = time.perf_counter()
                reader.search(Query(text="a person", limit=5))
                answered.append(time.perf_counter() - started)
    finally:
        service.stop()
    assert indexed(library, many / "059.jpg")
    assert max(answered) < 2.0, answered
    assert len(answered) > 10


def test_stop_saves_the_vector_index_and_releases_the_lock(library, live, photos):
    save_photo(photos / "late.jpg", "coffee")
    wait_for(lambda: indexed(library, photos / "late.jpg"))
    live.stop()
    with library.writer():  # free again
        pass
    fresh = Library.open(library.paths.home)
    try:
        clip = fresh.clip()
        assert len(fresh.vectors(clip)) == fresh.store.embeddings.count(clip.info.id)
        assert Heartbeat(fresh.store).read() is None
    finally:
        fresh.close()


def test_status_of_another_process_shows_the_watcher(library, live, photos):
    other = Library.open(library.paths.home)
    try:
        indexer = wait_for(lambda: other.status().indexer)
        assert indexer.state in ("idle", "indexing")
        assert other.status().queue == QueueCounts(waiting=0, retrying=0, parked=0)
    finally:
        other.close()


def test_a_copied_photo_reuses_the_embedding(library, live, photos):
    copy = photos / "copy_of_rocket.jpg"
    shutil.copyfile(photos / "rocket.jpg", copy)
    item = wait_for(lambda: indexed(library, copy))
    assert item != indexed(library, photos / "rocket.jpg")
    report = wait_for(lambda: live.status().state == "idle" and live.status().last_report)
    assert (report.copied, report.encoded) == (1, 0)
    wait_for(lambda: in_vector_index(library, item))


def test_a_deleted_folder_takes_its_photos_with_it(library, live, photos):
    album = photos / "album"
    album.mkdir()
    for name in ("coffee", "camera"):
        save_photo(album / f"{name}.jpg", name)
    items = [wait_for(lambda n=name: indexed(library, album / f"{n}.jpg")) for name in
             ("coffee", "camera")]  # fmt: skip
    shutil.rmtree(album)
    wait_for(
        lambda: all(indexed(library, album / f"{n}.jpg") is None for n in ("coffee", "camera"))
    )
    wait_for(lambda: not any(in_vector_index(library, item) for item in items))
    assert indexed(library, photos / "rocket.jpg") is not None  # the rest stays


def test_a_folder_inside_an_indexed_one_is_not_a_second_root(library, live, photos):
    album = photos / "album"
    album.mkdir()
    save_photo(album / "coffee.jpg", "coffee")
    wait_for(lambda: indexed(library, album / "coffee.jpg"))
    live.rescan([album])  # e.g. "Add folder" on a folder that is indexed already
    wait_for(lambda: live.status().state == "idle")
    time.sleep(SETTLE)
    assert library.roots() == [str(photos)]
    with library.reader() as reader:
        root = reader.store.db.execute(
            "SELECT root FROM files WHERE path = ?", [str(album / "coffee.jpg")]
        ).fetchone()
    assert root == (str(photos),)


def test_switching_the_model_while_the_live_index_encodes(library, photos, tiny_clip_dir):
    import json

    other = library.paths.models / "tiny-clip-2"
    shutil.copytree(tiny_clip_dir, other)
    info = json.loads((other / "model.json").read_text())
    (other / "model.json").write_text(json.dumps({**info, "id": "tiny-clip-2"}))
    first = library.active_model_name
    many = photos / "many"
    many.mkdir()
    for number in range(40):
        Image.open(photos / "rocket.jpg").rotate(number * 9).save(many / f"{number:02}.jpg")
    service = LiveIndex(library, settle=SETTLE)
    errors = []
    service.subscribe(lambda status: status.error and errors.append(status.error))
    service.start()
    try:
        service.rescan([photos])
        wait_for(lambda: library.store.embeddings.count(first) > 5)
        library.use_model("tiny-clip-2")  # mid-run, as the settings dialog would
        service.rescan()
        wait_for(lambda: library.store.reads.pending_count("tiny-clip-2") == 0
                 and library.store.embeddings.count("tiny-clip-2") == 43, timeout=60)  # fmt: skip
    finally:
        service.stop()
    assert errors == []
    assert len(library.vectors(library.clip())) == 43


def test_a_failing_step_waits_longer_each_time_up_to_a_cap():
    from desktop_search.app.live import BACKOFF_FIRST, BACKOFF_MAX, backoff_delay

    delays = [backoff_delay(n) for n in range(1, 12)]
    assert delays[0] == BACKOFF_FIRST and delays[1] == 2 * BACKOFF_FIRST
    assert delays == sorted(delays) and max(delays) == BACKOFF_MAX
    # A failure that lasts an hour is tried a handful of times, not in a loop.
    elapsed, tries = 0.0, 0
    while elapsed < 3600:
        tries += 1
        elapsed += backoff_delay(tries)
    assert tries < 20
