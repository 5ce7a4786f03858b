"""The persistent queue: resuming, bounded retries, parking, moves and copies by content."""

from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from skimage import data

from desktop_search.app.library import Library
from desktop_search.errors import FileNotIndexableError, IndexCancelled
from desktop_search.extract.images import REASON_IO, read_file
from desktop_search.index.control import IndexControl
from desktop_search.index.decode import REASON_CHANGING
from desktop_search.index.report import IndexReport
from desktop_search.search.searcher import Query
from desktop_search.store.queue import MAX_ATTEMPTS
from desktop_search.store.store import Store


@pytest.fixture
def store(tmp_path):
    opened = Store.open(tmp_path / "queue.db")
    yield opened
    opened.close()


@pytest.fixture
def library(model_library):
    return model_library


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for number, name in enumerate(["astronaut", "coffee", "chelsea", "rocket", "camera"]):
        Image.fromarray(getattr(data, name)()).save(folder / f"{number}_{name}.jpg")
    return folder


def test_queue_keeps_order_and_retry_counts(store):
    store.queue.add([("/p/b.jpg", "/p"), ("/p/a.jpg", "/p")])
    assert [q.path for q in store.queue.ready(10)] == ["/p/b.jpg", "/p/a.jpg"]
    assert store.queue.retry_later("/p/b.jpg", "I/O error")
    assert [q.path for q in store.queue.ready(10)] == ["/p/a.jpg"]  # b waits for its delay
    assert store.queue.waiting() == (1, 1)
    store.queue.add([("/p/b.jpg", "/p")])  # a rescan keeps the count...
    assert store.db.execute("SELECT attempts FROM queue WHERE path='/p/b.jpg'").fetchone() == (1,)
    store.queue.add([("/p/b.jpg", "/p")], fresh=True)  # ...a new change starts afresh
    assert store.db.execute("SELECT attempts FROM queue WHERE path='/p/b.jpg'").fetchone() == (0,)
    for _ in range(MAX_ATTEMPTS - 1):
        assert store.queue.retry_later("/p/a.jpg", "I/O error")
    assert not store.queue.retry_later("/p/a.jpg", "I/O error")  # used up: caller parks it


def indexer_for(library: Library, **overrides):
    """The library's indexer, with some of its options (``IndexOptions``) changed."""
    control = overrides.pop("control", None)
    return library.indexer(control, options=replace(library.index_options(), **overrides))


def test_a_cancelled_run_resumes_from_the_queue_without_redoing_work(library, photos):
    control = IndexControl()
    seen = []

    def cancel_after_two(done, total):
        seen.append(done)
        if done == 2:
            control.cancel()

    with library.writer():
        indexer = indexer_for(library, control=control, batch_size=1)
        report = IndexReport()
        indexer.reconcile(photos, report)
        assert len(library.store.queue) == 5
        with pytest.raises(IndexCancelled):
            indexer.drain(report, cancel_after_two)
        assert len(library.store.queue) == 3  # exactly the ones not recorded yet
        resumed = IndexReport()
        indexer_for(library).drain(resumed)
    assert (resumed.new, resumed.encoded) == (3, 3)
    assert len(library.store.queue) == 0
    assert library.store.embeddings.count(library.active_model_name) == 5


def test_a_passing_failure_is_retried_then_parked_with_its_reason(library, photos):
    flaky = photos / "0_astronaut.jpg"

    def read(path: Path) -> bytes:
        if path == flaky:
            raise FileNotIndexableError(REASON_IO, transient=True)
        return read_file(path)

    library.store.queue.retry_delays = (0.0, 0.0, 0.0)
    with library.writer():
        reports = []
        for _ in range(MAX_ATTEMPTS):
            report = IndexReport()
            indexer = indexer_for(library, read=read)
            indexer.reconcile(photos, report)
            indexer.drain(report)
            reports.append(report)
    assert [r.retrying for r in reports] == [1] * (MAX_ATTEMPTS - 1) + [0]
    assert reports[-1].failures == [
        (str(flaky), f"{REASON_IO} (gave up after {MAX_ATTEMPTS} attempts)")
    ]
    assert len(library.store.queue) == 0
    again = library.index([photos])  # parked: waits for the file to change
    assert (again.failed, again.still_failing, again.decoded) == (0, 1, 0)
    flaky.touch()
    retried = library.index([photos])  # a change gets it a new chance
    assert (retried.changed, retried.encoded, retried.failed) == (1, 1, 0)
    assert library.status().failures == []


def test_a_file_that_changes_while_being_read_is_retried_not_indexed_half(library, photos):
    growing = photos / "1_coffee.jpg"
    complete = growing.read_bytes()
    growing.write_bytes(complete[: len(complete) // 2])  # still being copied

    def read_while_the_copy_finishes(path: Path) -> bytes:
        data = read_file(path)
        if path == growing and len(data) < len(complete):
            growing.write_bytes(complete)
        return data

    library.store.queue.retry_delays = (0.0, 0.0, 0.0)
    with library.writer():
        indexer = indexer_for(library, read=read_while_the_copy_finishes)
        first = IndexReport()
        indexer.reconcile(photos, first)
        indexer.drain(first)
        assert first.retrying == 1 and first.failed == 0
        assert library.store.queue.ready(10)[0].path == str(growing)
        last_error = library.store.db.execute(
            "SELECT last_error FROM queue WHERE path = ?", [str(growing)]
        ).fetchone()
        assert last_error == (REASON_CHANGING,)
        second = IndexReport()
        indexer.drain(second)
    assert (second.new, second.failed) == (1, 0)
    assert library.store.reads.item_id_of_path(str(growing)) is not None


def test_a_queued_file_deleted_before_its_turn_just_leaves_the_queue(library, photos):
    with library.writer():
        indexer = indexer_for(library)
        report = IndexReport()
        indexer.reconcile(photos, report)
        (photos / "2_chelsea.jpg").unlink()
        indexer.drain(report)
    assert (report.new, report.failed, report.removed) == (4, 0, 0)
    assert len(library.store.queue) == 0


def test_moves_and_copies_found_by_a_rescan_reuse_embeddings(library, photos):
    library.index([photos])
    rocket = library.store.reads.item_id_of_path(str(photos / "3_rocket.jpg"))
    (photos / "moved").mkdir()
    (photos / "3_rocket.jpg").rename(photos / "moved" / "rocket.jpg")
    (photos / "copy.jpg").write_bytes((photos / "4_camera.jpg").read_bytes())
    report = library.index([photos])
    assert (report.moved, report.copied, report.encoded, report.decoded) == (1, 1, 0, 0)
    assert report.removed == 0  # the old name was claimed by the move, not dropped
    assert library.store.reads.item_id_of_path(str(photos / "moved" / "rocket.jpg")) == rocket
    clip = library.clip()
    index = library.vectors(clip)
    assert len(index) == library.store.embeddings.count(clip.info.id) == 6
    hits = library.search(Query(image=photos / "copy.jpg", limit=2))
    assert {hit.path for hit in hits} == {str(photos / "copy.jpg"), str(photos / "4_camera.jpg")}
