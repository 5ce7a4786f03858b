"""The embedding change log: readers catch a saved vector index up instead of rebuilding it."""

import logging
import shutil

import numpy as np
import pytest
from PIL import Image
from skimage import data

from desktop_search.app.library import Library
from desktop_search.index.report import IndexReport
from desktop_search.store.records import PhotoRecord
from desktop_search.store.store import Store


def photo(path: str, content_hash: str) -> PhotoRecord:
    return PhotoRecord(path=path, root="/p", size=1, mtime_ns=1, content_hash=content_hash,
                       width=1, height=1)  # fmt: skip


def unit(n: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, 8)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def store(tmp_path):
    opened = Store.open(tmp_path / "log.db")
    yield opened
    opened.close()


def test_every_kind_of_change_is_logged_by_the_database_itself(store):
    ids, _ = store.files.save_photos([photo("/p/a.jpg", "1"), photo("/p/b.jpg", "2")], unit(2), "m")
    saved = store.generation("m")
    assert saved > 0 and store.vector_log.changed_since("m", 0) == ids
    store.files.save_photos([photo("/p/a.jpg", "1")], unit(1, seed=1), "m")  # replaced vector
    assert store.vector_log.changed_since("m", saved) == [ids[0]]
    replaced = store.generation("m")
    store.files.remove_paths(["/p/b.jpg"])  # cascades: file -> item -> embedding
    assert store.vector_log.changed_since("m", replaced) == [ids[1]]
    assert store.vector_log.changed_since("other-model", 0) == []


def test_trimming_keeps_what_a_saved_file_needs_and_older_files_are_refused(store):
    ids, _ = store.files.save_photos([photo("/p/a.jpg", "1")], unit(1), "m")
    old = store.generation("m")
    store.files.save_photos([photo("/p/b.jpg", "2")], unit(1, seed=2), "m")
    saved = store.generation("m")
    store.vector_log.trim("m", saved)
    store.files.remove_paths(["/p/a.jpg"])
    assert store.vector_log.changed_since("m", saved) == [ids[0]]
    assert store.vector_log.changed_since("m", old) is None  # trimmed away: rebuild
    store.invalidate_vector_files()
    assert store.vector_log.changed_since("m", store.generation("m")) is None


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("astronaut", "coffee", "chelsea"):
        Image.fromarray(getattr(data, name)()).save(folder / f"{name}.jpg")
    return folder


def index_without_saving(library: Library, photos) -> None:
    """What a busy writer in another process has committed but not saved to the index file."""
    Image.fromarray(data.rocket()).save(photos / "rocket.jpg")
    (photos / "coffee.jpg").unlink()
    with library.writer():
        indexer = library.indexer()
        report = IndexReport()
        vanished = indexer.reconcile(photos, report)
        indexer.drain(report)
        indexer.forget(list(vanished), report)
    assert (report.new, report.removed) == (1, 1)


def test_a_reader_catches_an_older_file_up_instead_of_rebuilding(model_home, photos, caplog):
    writer = Library.open(model_home)
    writer.index([photos])  # saved: three photos
    index_without_saving(writer, photos)
    caplog.set_level(logging.INFO, logger="desktop_search.vectors.spaces")
    reader = Library.open(model_home)  # another process
    try:
        clip = reader.clip()
        index = reader.vectors(clip)
        stored, _ = reader.store.embeddings.of_model(clip.info.id)
        assert sorted(index.ids().tolist()) == sorted(stored.tolist())
        assert "caught the vector index" in caplog.text and "rebuilding" not in caplog.text
    finally:
        reader.close()
        writer.close()


def test_a_long_lived_reader_follows_another_writer(model_home, photos):
    writer = Library.open(model_home)
    writer.index([photos])
    reader = Library.open(model_home)  # e.g. the app in reader mode while `watch` runs
    try:
        clip = reader.clip()
        assert len(reader.vectors(clip)) == 3
        index_without_saving(writer, photos)
        rocket = reader.store.reads.item_id_of_path(str(photos / "rocket.jpg"))
        followed = reader.vectors(clip)
        assert rocket in set(followed.ids().tolist()) and len(followed) == 3
    finally:
        reader.close()
        writer.close()


def test_a_file_older_than_the_kept_log_is_rebuilt(model_home, photos, tmp_path, caplog):
    library = Library.open(model_home)
    library.index([photos])
    saved = library.paths.vectors
    old_copy = tmp_path / "old-index"
    shutil.copytree(saved, old_copy)
    Image.fromarray(data.rocket()).save(photos / "rocket.jpg")
    library.index([photos])  # saves a newer file and trims the log up to it
    library.close()
    shutil.rmtree(saved)
    shutil.copytree(old_copy, saved)  # the older file is back (a restored backup, say)
    caplog.set_level(logging.INFO, logger="desktop_search.vectors.spaces")
    reader = Library.open(model_home)
    try:
        index = reader.vectors(reader.clip())
        assert len(index) == 4
        assert "too old to catch up" in caplog.text
    finally:
        reader.close()
