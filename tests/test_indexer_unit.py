"""The Indexer built directly from small real parts: a Store on a SQLite file, spaces with small
deterministic encoders (tests/small_encoders.py), photos and notes in a temporary folder.

No Library and no model: what a run writes (rows, embeddings, the spaces' indices) is checked
against the store it wrote to.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from desktop_search.extract.images import read_file
from desktop_search.index.indexer import Indexer, IndexOptions
from desktop_search.index.report import IndexReport
from desktop_search.store.store import Store
from desktop_search.store.thumbnails import ThumbnailStore
from desktop_search.vectors.index import VectorIndex
from desktop_search.vectors.spaces import CLIP, TEXT, Space, Spaces, VectorCache
from tests.small_encoders import ColorEncoder, WordEncoder, write_color_photos

COLORS_MODEL = "colors-1"
WORDS_MODEL = "words-1"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "library.db")
    yield opened
    opened.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Three plain colours (PNG: exact colours), one real photo, and a note."""
    folder = tmp_path / "files"
    folder.mkdir()
    write_color_photos(folder)
    Image.fromarray(data.chelsea()).save(folder / "chelsea.jpg")
    (folder / "note.txt").write_text(
        "The plumber's invoice for the boiler repair, paid in March.\n", encoding="utf-8"
    )
    return folder


def clip_space(encoder: ColorEncoder | None = None) -> Space:
    return Space.holding(CLIP, encoder or ColorEncoder(), COLORS_MODEL, VectorIndex(4))


def text_space(encoder: WordEncoder | None = None) -> Space:
    return Space.holding(TEXT, encoder or WordEncoder(), WORDS_MODEL, VectorIndex(64))


def indexer(store: Store, tmp_path: Path, spaces: Spaces, **options: object) -> Indexer:
    """Files read and decoded in this process (``read``): the reader processes have their own
    test below."""
    chosen = IndexOptions(**{"read": read_file, "threads": 2, **options})  # type: ignore[arg-type]
    return Indexer(store, spaces, ThumbnailStore(tmp_path / "thumbnails"), chosen)


def held_ids(space: Space) -> list[int]:
    return sorted(space.vectors.ids().tolist())


def stored_ids(store: Store, model: str) -> list[int]:
    return sorted(store.embeddings.item_ids(model).tolist())


def test_a_run_writes_rows_embeddings_and_the_clip_index(store, tmp_path, folder):
    encoder = ColorEncoder()
    clip = clip_space(encoder)
    report = indexer(store, tmp_path, Spaces(clip=clip), documents=False).run([folder])
    assert (report.new, report.encoded, report.failed) == (4, 4, 0)
    assert encoder.images_encoded == 4  # one model run per photo, none twice
    states = store.files.file_states(str(folder), COLORS_MODEL)
    assert sorted(Path(path).name for path in states) == [
        "blue.png", "chelsea.jpg", "green.png", "red.png"  # documents=False: no note
    ]  # fmt: skip
    assert all(s.status == "indexed" and s.has_embedding for s in states.values())
    assert len(stored_ids(store, COLORS_MODEL)) == 4
    assert held_ids(clip) == stored_ids(store, COLORS_MODEL)
    # The vector held for red.png is its colour: the red query's nearest neighbour.
    red_item = clip.vectors.search(encoder.encode_texts(["red"])[0], 1)[0][0]
    assert store.reads.hits([red_item])[red_item]["path"] == str(folder / "red.png")


def test_without_a_clip_space_photos_are_catalogued_then_encoded_without_counting_as_changed(
    store, tmp_path, folder
):
    thumbnails = tmp_path / "thumbnails"
    first = indexer(store, tmp_path, Spaces(), documents=False).run([folder])
    assert (first.new, first.encoded) == (4, 0)
    assert store.embeddings.count(COLORS_MODEL) == 0
    states = store.files.file_states(str(folder), None)
    assert len(states) == 4 and all(s.thumbnail for s in states.values())
    assert all((thumbnails / s.thumbnail).is_file() for s in states.values())

    clip = clip_space()
    second = indexer(store, tmp_path, Spaces(clip=clip), documents=False).run([folder])
    assert (second.new, second.changed, second.caught_up, second.encoded) == (0, 0, 4, 4)
    assert held_ids(clip) == stored_ids(store, COLORS_MODEL) != []


def test_a_second_run_reads_only_what_changed_and_forgets_what_went(store, tmp_path, folder):
    encoder = ColorEncoder()
    clip = clip_space(encoder)
    indexer(store, tmp_path, Spaces(clip=clip), documents=False).run([folder])

    again = indexer(store, tmp_path, Spaces(clip=clip), documents=False).run([folder])
    assert (again.unchanged, again.decoded, again.encoded) == (4, 0, 0)

    Image.new("RGB", (96, 64), (240, 240, 20)).save(folder / "green.png")  # now yellow
    os.utime(folder / "green.png", ns=(1, 1))  # another modification time, surely
    (folder / "blue.png").unlink()
    third = indexer(store, tmp_path, Spaces(clip=clip), documents=False).run([folder])
    assert (third.changed, third.removed, third.unchanged, third.encoded) == (1, 1, 2, 1)
    assert encoder.images_encoded == 5
    assert held_ids(clip) == stored_ids(store, COLORS_MODEL)
    assert len(held_ids(clip)) == 3
    yellow = clip.vectors.search(encoder.encode_texts(["yellow"])[0], 1)[0][0]
    assert store.reads.hits([yellow])[yellow]["path"] == str(folder / "green.png")


def test_a_moved_photo_keeps_its_item_and_its_vector(store, tmp_path, folder):
    encoder = ColorEncoder()
    clip = clip_space(encoder)
    indexer(store, tmp_path, Spaces(clip=clip), documents=False).run([folder])
    before = store.files.file_states_of([str(folder / "red.png")], COLORS_MODEL)
    held = held_ids(clip)

    (folder / "old").mkdir()
    (folder / "red.png").rename(folder / "old" / "red.png")
    report = indexer(store, tmp_path, Spaces(clip=clip), documents=False).run([folder])
    assert (report.moved, report.new, report.removed, report.encoded) == (1, 0, 0, 0)
    after = store.files.file_states_of([str(folder / "old" / "red.png")], COLORS_MODEL)
    assert after[str(folder / "old" / "red.png")].id == before[str(folder / "red.png")].id
    assert held_ids(clip) == held == stored_ids(store, COLORS_MODEL)
    assert encoder.images_encoded == 4


def test_notes_become_passages_encoded_into_the_text_space(store, tmp_path, folder):
    words = WordEncoder()
    text = text_space(words)
    report = indexer(store, tmp_path, Spaces(clip=clip_space(), text=text)).run([folder])
    assert (report.new, report.documents) == (5, 1)
    assert report.passages >= 1 and words.texts_encoded == report.passages
    assert held_ids(text) == stored_ids(store, WORDS_MODEL) != []
    found = text.vectors.search(words.encode(["boiler repair invoice"])[0], 1)[0][0]
    assert store.reads.hits([found])[found]["path"] == str(folder / "note.txt")
    # Photos are not passages: the clip space has no note in it.
    assert len(stored_ids(store, COLORS_MODEL)) == 4


def test_without_a_text_space_notes_wait_for_a_text_model(store, tmp_path, folder):
    first = indexer(store, tmp_path, Spaces(clip=clip_space())).run([folder])
    assert (first.documents, first.passages) == (1, 0)
    waiting = store.texts.texts_to_embed_count(WORDS_MODEL)
    assert waiting >= 1

    text = text_space()
    later = indexer(store, tmp_path, Spaces(clip=clip_space(), text=text))
    assert later.embed_passages(IndexReport()) == waiting  # nothing extracted again
    assert held_ids(text) == stored_ids(store, WORDS_MODEL)
    assert len(held_ids(text)) == waiting


def test_a_file_that_cannot_be_read_is_parked_with_its_reason(store, tmp_path, folder):
    (folder / "broken.jpg").write_bytes(b"not a photo at all")
    clip = clip_space()
    report = indexer(store, tmp_path, Spaces(clip=clip), documents=False).run([folder])
    assert (report.new, report.failed) == (4, 1)
    assert [path for path, _ in report.failures] == [str(folder / "broken.jpg")]
    state = store.files.file_states_of([str(folder / "broken.jpg")], COLORS_MODEL)
    assert state[str(folder / "broken.jpg")].status == "failed"
    assert len(held_ids(clip)) == 4

    again = indexer(store, tmp_path, Spaces(clip=clip), documents=False).run([folder])
    assert (again.failed, again.still_failing) == (0, 1)  # parked until it changes


def test_excluded_paths_are_left_out(store, tmp_path, folder):
    (folder / "private").mkdir()
    Image.new("RGB", (96, 64), (250, 250, 250)).save(folder / "private" / "white.png")
    options = {"documents": False, "exclude": ("*/private",)}
    report = indexer(store, tmp_path, Spaces(clip=clip_space()), **options).run([folder])
    assert report.new == 4
    assert str(folder / "private" / "white.png") not in store.files.file_states(str(folder), None)


def test_reader_processes_decode_the_same_as_this_one(store, tmp_path, folder):
    """The default: each file is read and decoded in a reader process (index/readers.py)."""
    encoder = ColorEncoder()
    clip = clip_space(encoder)
    spaces = Spaces(clip=clip)
    options = IndexOptions(threads=1, documents=False)
    report = Indexer(store, spaces, ThumbnailStore(tmp_path / "thumbnails"), options).run([folder])
    assert (report.new, report.encoded, report.failed) == (4, 4, 0)
    blue = clip.vectors.search(encoder.encode_texts(["blue"])[0], 1)[0][0]
    assert store.reads.hits([blue])[blue]["path"] == str(folder / "blue.png")


def test_spaces_from_a_vector_cache_are_saved_and_loaded_again(store, tmp_path, folder):
    """The spaces the Library hands out: their indices come from a VectorCache, which saves
    them and gives a new process (a new cache) the saved file, caught up with the store."""
    cache = VectorCache(tmp_path / "vectors")
    (tmp_path / "vectors").mkdir()
    encoder = ColorEncoder()
    with cache.writing():
        spaces = Spaces(clip=cache.space(store, CLIP, encoder, COLORS_MODEL, ColorEncoder.dim))
        spaces.load()  # as the Library does: built from the (empty) store and saved, at once
        assert VectorIndex.saved_generation(cache.path(COLORS_MODEL)) == 0
        indexer(store, tmp_path, spaces, documents=False).run([folder])
        cache.save(store, [COLORS_MODEL])
    assert VectorIndex.saved_generation(cache.path(COLORS_MODEL)) == store.generation(COLORS_MODEL)

    (folder / "red.png").unlink()
    with cache.writing():  # this process writes on: its index gets the change, no file is saved
        spaces = Spaces(clip=cache.space(store, CLIP, encoder, COLORS_MODEL, ColorEncoder.dim))
        indexer(store, tmp_path, spaces, documents=False).run([folder])
    fresh = VectorCache(tmp_path / "vectors").index(store, COLORS_MODEL, ColorEncoder.dim)
    assert sorted(fresh.ids().tolist()) == stored_ids(store, COLORS_MODEL)
    assert len(fresh) == 3 and fresh.generation == store.generation(COLORS_MODEL)
    assert np.array_equal(
        np.sort(cache.index(store, COLORS_MODEL, ColorEncoder.dim).ids()), np.sort(fresh.ids())
    )
