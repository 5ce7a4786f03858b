"""The doctor and the salvage of a damaged database with documents: the keyword index too."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_search.app.doctor import run_doctor
from desktop_search.app.library import Library
from desktop_search.app.salvage import rebuild_database
from desktop_search.search.searcher import Query
from tests.make_pdfs import text_pdf


@pytest.fixture
def library(tmp_path: Path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "report.pdf").write_bytes(text_pdf(["The pelican budget.", "The heron plan."]))
    (folder / "beach.txt").write_text("Sand castles and a lighthouse.")
    with Library.open(tmp_path / "home") as opened:
        opened.index([folder])
        yield opened


def found(library: Library, word: str) -> list[str]:
    return [Path(hit.path).name for hit in library.search(Query(text=word))]


def keyword_check(library: Library, repair: bool):
    report = run_doctor(library, repair=repair)
    return next(r for r in report.checks if r.name == "keyword index")


def test_a_clean_keyword_index_is_ok(library: Library) -> None:
    assert keyword_check(library, repair=False).status == "ok"


def test_lost_keyword_entries_are_read_again_and_strays_deleted(library: Library) -> None:
    db = library.store.db
    heron = db.execute("SELECT rowid FROM item_text WHERE item_text MATCH 'heron'").fetchone()[0]
    db.execute("DELETE FROM item_text WHERE rowid = ?", [heron])
    db.execute("INSERT INTO item_text(rowid, name, title, body) VALUES (99999, 'x', '', 'ghost')")
    assert found(library, "heron") == [] and found(library, "ghost") == []  # stray: no item
    check = keyword_check(library, repair=False)
    assert check.status == "problem" and "1 item(s) missing" in check.detail
    check = keyword_check(library, repair=True)
    assert check.status == "fixed" and "1 document(s) queued" in check.detail
    assert db.execute("SELECT count(*) FROM item_text WHERE rowid = 99999").fetchone()[0] == 0
    assert library.index([]).documents == 1
    assert found(library, "heron") == ["report.pdf"]
    assert keyword_check(library, repair=False).status == "ok"


def test_salvage_keeps_the_keyword_index(library: Library) -> None:
    database = library.paths.database
    library.store.close()
    rebuild_database(database)
    with Library.open(library.paths.home) as rebuilt:
        assert found(rebuilt, "lighthouse") == ["beach.txt"]
        assert found(rebuilt, "heron") == ["report.pdf"]
        assert keyword_check(rebuilt, repair=False).status == "ok"
