"""Search by meaning and keywords together, with the real all-MiniLM-L6-v2 (int8 ONNX).

The sentence model is converted once per session (tests/conftest_models.py: ``minilm_dir``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from desktop_search.app.library import Library
from desktop_search.search.searcher import Query
from tests.conftest_models import MINILM_NAME
from tests.make_pdfs import text_pdf

DOCUMENTS = {
    "lipids.pdf": [
        "Laboratory results. Your lipid panel shows an LDL of 162 mg/dl; "
        "we recommend a follow-up appointment in three months."
    ],
    "boiler.md": "# Boiler service\n\nThe technician replaced the pressure valve of the heating.",
    "garden.txt": "Tomatoes and courgettes need watering every evening in July.",
    "car.txt": "Invoice 7731: brake pads and discs replaced on the hatchback, 420 euros.",
}


def write_documents(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in DOCUMENTS.items():
        if name.endswith(".pdf"):
            (folder / name).write_bytes(text_pdf(content))
        else:
            (folder / name).write_text(content)


def install_text_model(home: Path, minilm_dir: Path) -> None:
    shutil.copytree(minilm_dir, home / "models" / MINILM_NAME)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, minilm_dir: Path):
    home = tmp_path_factory.mktemp("home")
    install_text_model(home, minilm_dir)
    folder = tmp_path_factory.mktemp("docs")
    write_documents(folder)
    opened = Library.open(home)
    report = opened.index([folder])
    assert report.documents == 4 and report.passages == 4
    yield opened
    opened.close()


def names(hits) -> list[str]:
    return [Path(hit.path).name for hit in hits]


def test_a_paraphrase_is_found_by_meaning_not_by_keywords(library: Library) -> None:
    text = "letter from the doctor about my cholesterol"
    assert names(library.search(Query(text=text, mode="semantic")))[0] == "lipids.pdf"
    assert "lipids.pdf" not in names(library.search(Query(text=text, mode="keyword")))
    hybrid = library.search(Query(text=text))
    assert names(hybrid)[0] == "lipids.pdf"
    assert hybrid[0].locator == {"page": 1}


def test_a_rare_token_is_found_by_keywords_and_kept_by_fusion(library: Library) -> None:
    assert names(library.search(Query(text="7731", mode="keyword"))) == ["car.txt"]
    assert names(library.search(Query(text="7731")))[0] == "car.txt"


def test_filters_apply_to_the_semantic_list(library: Library) -> None:
    hits = library.search(Query(text="heating repair", mode="semantic"))
    assert names(hits)[0] == "boiler.md"
    filtered = library.search(Query(text="heating repair type:pdf", mode="semantic"))
    assert names(filtered) == ["lipids.pdf"]


def test_status_has_no_passages_waiting(library: Library) -> None:
    status = library.status()
    assert status.text_model == MINILM_NAME
    assert status.passages_pending == 0


def test_a_text_model_installed_later_encodes_without_reading_again(
    tmp_path: Path, minilm_dir: Path
) -> None:
    folder = tmp_path / "docs"
    write_documents(folder)
    home = tmp_path / "home"
    with Library.open(home) as library:
        assert library.index([folder]).passages == 0
        assert library.status().text_model is None
    install_text_model(home, minilm_dir)
    with Library.open(home) as library:
        assert library.status().passages_pending == 4
        report = library.index([])
        assert report.documents == 0 and report.passages == 4
        hits = library.search(Query(text="vegetable patch", mode="semantic"))
        assert names(hits)[0] == "garden.txt"
    with Library.open(home) as library:  # the saved text index is found again, not rebuilt
        path = library.paths.vectors / f"{MINILM_NAME}.index"
        assert path.is_file()
        assert names(library.search(Query(text="vegetable patch", mode="semantic")))[0] == (
            "garden.txt"
        )
