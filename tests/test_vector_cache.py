"""VectorCache (vectors/spaces.py) on its own: a real Store on a SQLite file filled by a real
Indexer with the small colour encoder, two caches standing for two processes on one home."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from desktop_search.extract.images import read_file
from desktop_search.index.indexer import Indexer, IndexOptions
from desktop_search.store.store import Store
from desktop_search.store.thumbnails import ThumbnailStore
from desktop_search.vectors.index import VectorIndex
from desktop_search.vectors.spaces import CLIP, Spaces, VectorCache
from tests.small_encoders import ColorEncoder, write_color_photos

MODEL = "colors-1"
DIM = ColorEncoder.dim


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "library.db")
    yield opened
    opened.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    write_color_photos(folder)
    (tmp_path / "vectors").mkdir()
    return folder


def index_folder(store: Store, cache: VectorCache, folder: Path) -> None:
    """One indexing run of the writer whose indices ``cache`` holds (nothing saved)."""
    with cache.writing():
        spaces = Spaces(clip=cache.space(store, CLIP, ColorEncoder(), MODEL, DIM))
        spaces.load()
        options = IndexOptions(read=read_file, threads=1, documents=False)
        thumbnails = ThumbnailStore(folder.parent / "thumbnails")
        Indexer(store, spaces, thumbnails, options).run([folder])


def stored_ids(store: Store) -> list[int]:
    return sorted(store.embeddings.item_ids(MODEL).tolist())


def held(index: VectorIndex) -> list[int]:
    return sorted(index.ids().tolist())


def test_a_reader_follows_what_the_writer_commits(store, folder, tmp_path, caplog):
    writer, reader = VectorCache(tmp_path / "vectors"), VectorCache(tmp_path / "vectors")
    index_folder(store, writer, folder)
    writer.save(store, [MODEL])
    index = reader.index(store, MODEL, DIM)
    assert held(index) == stored_ids(store) and len(index) == 3

    (folder / "red.png").unlink()
    Image.new("RGB", (96, 64), (250, 250, 250)).save(folder / "white.png")
    index_folder(store, writer, folder)  # committed, not saved
    caplog.set_level(logging.INFO, logger="desktop_search.vectors.spaces")
    followed = reader.index(store, MODEL, DIM)
    assert followed is index  # caught up in place, not rebuilt
    assert held(followed) == stored_ids(store) and len(followed) == 3
    assert followed.generation == store.generation(MODEL)
    assert "caught the vector index" in caplog.text and "rebuilding" not in caplog.text


def test_while_this_process_writes_its_index_is_not_caught_up(store, folder, tmp_path):
    """A writer's own index gets every change as it commits it: reading the log again would
    cost a query per use; an index changed behind its back stays as it was meanwhile."""
    mine, other = VectorCache(tmp_path / "vectors"), VectorCache(tmp_path / "vectors")
    index_folder(store, mine, folder)
    (folder / "red.png").unlink()
    index_folder(store, other, folder)
    with mine.writing():
        assert mine.writer_active
        assert len(mine.index(store, MODEL, DIM)) == 3
    assert not mine.writer_active
    assert len(mine.index(store, MODEL, DIM)) == 2


def test_a_corrupt_file_is_rebuilt_from_the_store(store, folder, tmp_path):
    writer = VectorCache(tmp_path / "vectors")
    index_folder(store, writer, folder)
    writer.save(store, [MODEL])
    path = writer.path(MODEL)
    path.write_bytes(b"\0" * 64)  # a torn write under an intact sidecar

    index = VectorCache(tmp_path / "vectors").index(store, MODEL, DIM)
    assert held(index) == stored_ids(store) and len(index) == 3
    # The next save after a change replaces the file (one of the same generation is not
    # replaced: saves go only over older files).
    (folder / "red.png").unlink()
    index_folder(store, writer, folder)
    writer.save(store, [MODEL])
    reloaded = VectorIndex.load(path, dim=DIM, generation=store.generation(MODEL))
    assert held(reloaded) == stored_ids(store) and len(reloaded) == 2


def test_a_rebuild_is_saved_only_over_an_older_file(store, folder, tmp_path):
    cache = VectorCache(tmp_path / "vectors")
    index_folder(store, cache, folder)
    cache.save(store, [MODEL])
    newest = VectorIndex.saved_generation(cache.path(MODEL))
    assert newest == store.generation(MODEL) > 0

    older = VectorIndex.build(DIM, *store.embeddings.of_model(MODEL))
    older.generation = newest - 1  # a reader's snapshot from before the last commit
    cache.save_index(store, older, MODEL, current=False)
    assert VectorIndex.saved_generation(cache.path(MODEL)) == newest


def test_forgetting_rebuilds_the_files_without_the_forgotten(store, folder, tmp_path):
    cache = VectorCache(tmp_path / "vectors")
    index_folder(store, cache, folder)
    cache.save(store, [MODEL])
    loaded = cache.loaded(MODEL)
    assert loaded is not None

    with store.transaction():
        removed = store.files.remove_paths([str(folder / "red.png")])
    cache.forget(store, removed)
    rebuilt = cache.loaded(MODEL)
    assert rebuilt is not None and rebuilt is not loaded  # replaced by the rebuild
    assert held(rebuilt) == stored_ids(store) and len(rebuilt) == 2
    saved = VectorIndex.load(cache.path(MODEL), dim=DIM, generation=None)
    assert held(saved) == stored_ids(store)

    with store.transaction():
        removed = store.files.remove_under(str(folder))
    cache.forget(store, removed)  # no vector of the model is left: its files go
    assert not cache.path(MODEL).exists() and cache.loaded(MODEL) is None
