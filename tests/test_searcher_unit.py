"""The Searcher built directly from small real parts: a Store on a SQLite file that a real Indexer
filled, spaces with small deterministic encoders (tests/small_encoders.py), photos and notes in
a temporary folder. What a query must find first follows from the encoders: a colour names the
photo of that colour, shared words find the note."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from desktop_search.errors import NoModelError
from desktop_search.extract.images import read_file
from desktop_search.index.indexer import Indexer, IndexOptions
from desktop_search.search.query import KEYWORD, SEMANTIC, Filters
from desktop_search.search.searcher import Query, Searcher
from desktop_search.store.store import Store
from desktop_search.store.thumbnails import ThumbnailStore
from desktop_search.vectors.spaces import CLIP, TEXT, Spaces, VectorCache
from tests.small_encoders import ColorEncoder, WordEncoder, write_color_photos

COLORS_MODEL = "colors-1"
WORDS_MODEL = "words-1"


@dataclass
class Indexed:
    store: Store
    folder: Path
    cache: VectorCache  # the spaces' indices, as a Library's readers share them
    thumbnails: ThumbnailStore
    colors: ColorEncoder
    words: WordEncoder

    def spaces(self, *, clip: bool = True, text: bool = True) -> Spaces:
        cache, store = self.cache, self.store
        return Spaces(
            clip=cache.space(store, CLIP, self.colors, COLORS_MODEL, ColorEncoder.dim)
            if clip else None,
            text=cache.space(store, TEXT, self.words, WORDS_MODEL, WordEncoder.dim)
            if text else None,
        )  # fmt: skip

    def searcher(self, *, clip: bool = True, text: bool = True) -> Searcher:
        return Searcher(self.store, self.spaces(clip=clip, text=text), self.thumbnails)


@pytest.fixture
def indexed(tmp_path: Path) -> Iterator[Indexed]:
    folder = tmp_path / "files"
    folder.mkdir()
    write_color_photos(folder)
    Image.fromarray(data.chelsea()).save(folder / "chelsea.jpg")
    (folder / "invoice.txt").write_text(
        "The plumber's invoice for the boiler repair, paid in March.\n", encoding="utf-8"
    )
    (folder / "soup.txt").write_text("Tomato soup with basil: a recipe.\n", encoding="utf-8")
    store = Store.open(tmp_path / "library.db")
    (tmp_path / "vectors").mkdir()
    cache, thumbnails = VectorCache(tmp_path / "vectors"), ThumbnailStore(tmp_path / "thumbnails")
    parts = Indexed(store, folder, cache, thumbnails, ColorEncoder(), WordEncoder())
    with parts.cache.writing():
        options = IndexOptions(read=read_file, threads=2)
        Indexer(store, parts.spaces(), parts.thumbnails, options).run([folder])
        parts.cache.save(store, [COLORS_MODEL, WORDS_MODEL])
    # Searched as by another process: nothing loaded yet, no encoder used yet (deterministic
    # encoders: new ones embed as the indexer's did).
    parts.cache = VectorCache(tmp_path / "vectors")
    parts.colors, parts.words = ColorEncoder(), WordEncoder()
    yield parts
    store.close()


def names(hits) -> list[str]:
    return [Path(hit.path).name for hit in hits]


def test_a_colour_finds_its_photo_first(indexed):
    searcher = indexed.searcher()
    for color in ("red", "green", "blue"):
        hits = searcher.search(Query(text=color, mode=SEMANTIC, filters=Filters(types={"photo"})))
        assert names(hits)[0] == f"{color}.png"
        assert hits[0].kind == "photo" and hits[0].thumbnail is not None
        assert hits[0].thumbnail.is_file()
        assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    assert names(hits) and set(names(hits)) <= {"red.png", "green.png", "blue.png", "chelsea.jpg"}


def test_an_example_image_and_a_region_of_it(indexed, tmp_path):
    query = tmp_path / "query.png"
    Image.new("RGB", (80, 60), (200, 30, 30)).save(query)
    assert names(indexed.searcher().search(Query(image=query)))[0] == "red.png"

    halves = tmp_path / "halves.png"
    image = Image.new("RGB", (200, 100), (20, 200, 30))  # green on the left ...
    image.paste((20, 30, 220), (100, 0, 200, 100))  # ... blue on the right
    image.save(halves)
    right = Query(image=halves, region=(110.0, 10.0, 80.0, 80.0))
    left = Query(image=halves, region=(10.0, 10.0, 80.0, 80.0))
    assert names(indexed.searcher().search(right))[0] == "blue.png"
    assert names(indexed.searcher().search(left))[0] == "green.png"


def test_words_find_the_note_in_the_text_space(indexed):
    # Among text files: across spaces the top of each list ties in the fusion (the colour
    # encoder ranks some photo first for words naming no colour), and a tie goes by file order.
    query = Query(text="boiler repair invoice", mode=SEMANTIC, filters=Filters(types={"text"}))
    hits = indexed.searcher().search(query)
    assert names(hits)[0] == "invoice.txt"
    assert hits[0].kind == "text" and hits[0].snippet is not None
    # The clip space answered too (every photo is some colour), but below the note.
    assert "soup.txt" not in names(hits)[:1]


def test_a_keyword_search_loads_no_vector_index(indexed):
    hits = indexed.searcher().search(Query(text="tomato", mode=KEYWORD))
    assert names(hits) == ["soup.txt"]
    assert indexed.cache.loaded(COLORS_MODEL) is None
    assert indexed.cache.loaded(WORDS_MODEL) is None

    indexed.searcher().search(Query(text="tomato soup", mode=SEMANTIC))
    assert indexed.cache.loaded(COLORS_MODEL) is not None
    assert indexed.cache.loaded(WORDS_MODEL) is not None


def test_hybrid_search_fuses_the_spaces_and_the_keywords(indexed):
    hits = indexed.searcher().search(Query(text="basil soup", limit=3))
    assert names(hits)[0] == "soup.txt"  # first in the text space and by keywords
    assert len(hits) == 3 and len(set(names(hits))) == 3  # one hit per file


def test_without_models_names_and_keywords_still_find_files(indexed):
    searcher = indexed.searcher(clip=False, text=False)
    assert names(searcher.search(Query(text="invoice"))) == ["invoice.txt"]
    assert "red.png" in names(searcher.search(Query(text="red")))  # by its file name
    with pytest.raises(NoModelError):
        searcher.search(Query(image=indexed.folder / "red.png"))
    assert indexed.colors.texts_encoded == indexed.words.texts_encoded == 0


def test_a_ready_vector_searches_the_clip_space_alone(indexed):
    vector = indexed.colors.encode_texts(["blue"])[0]
    hits = indexed.searcher().search_vector(vector, 2)
    assert names(hits)[0] == "blue.png" and len(hits) == 2
    assert hits[0].score == pytest.approx(float(np.max([hit.score for hit in hits])))
