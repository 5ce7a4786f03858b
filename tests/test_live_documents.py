"""Documents in the live index: a PDF saved into a watched folder becomes searchable by its
words at once and by meaning once the background pass has encoded its passages; a renamed one
keeps its passages; text in a new photo is read after everything else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from desktop_search.app.library import Library
from desktop_search.app.live import LiveIndex
from desktop_search.search.searcher import Query
from tests.conftest_models import MINILM_NAME
from tests.documents_corpus import photo_with_text
from tests.make_pdfs import text_pdf
from tests.test_live_index import wait_for

SETTLE = 0.3


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "old.txt").write_text("An older note about the attic.")
    return docs


@pytest.fixture
def library(tmp_path: Path, minilm_dir: Path):
    home = tmp_path / "home"
    shutil.copytree(minilm_dir, home / "models" / MINILM_NAME)
    with Library.open(home) as opened:
        yield opened


@pytest.fixture
def live(library: Library, folder: Path):
    library.index([folder])
    service = LiveIndex(library, settle=SETTLE)
    service.start()
    wait_for(lambda: service.status().state == "idle")
    yield service
    service.stop()
    assert not service.running


def paths(library: Library, text: str, mode: str = "hybrid") -> list[str]:
    with library.reader() as reader:
        return [Path(hit.path).name for hit in reader.search(Query(text=text, mode=mode))]


def test_a_new_pdf_is_found_by_words_then_by_meaning(library, live, folder) -> None:
    (folder / "plumber.pdf").write_bytes(
        text_pdf(["Invoice from the plumber for fixing the leaking kitchen tap: 85 euros."])
    )
    wait_for(lambda: paths(library, "plumber", mode="keyword") == ["plumber.pdf"])
    wait_for(lambda: library.status().passages_pending == 0, timeout=20)
    wait_for(lambda: live.status().state == "idle")
    assert paths(library, "a dripping faucet was repaired", mode="semantic")[0] == "plumber.pdf"


def test_a_renamed_document_keeps_its_passages(library, live, folder) -> None:
    item = library.store.reads.item_id_of_path(str(folder / "old.txt"))
    (folder / "old.txt").rename(folder / "attic.txt")
    wait_for(lambda: paths(library, "attic", mode="keyword") == ["attic.txt"])
    assert library.store.reads.item_id_of_path(str(folder / "attic.txt")) == item


def test_text_in_a_new_photo_is_read_in_the_background(library, live, folder) -> None:
    (folder / "sign.jpg").write_bytes(photo_with_text("BAKERY OPEN"))
    wait_for(lambda: paths(library, "bakery", mode="keyword") == ["sign.jpg"], timeout=30)
    assert library.status().photos_to_read == 0
