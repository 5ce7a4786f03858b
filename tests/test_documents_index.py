"""Indexing documents and messages: every kind, its items and locators, keyword search, filters,
reindexing, renames and changes. Real files (tests/documents_corpus.py), a real SQLite library,
real OCR; no sentence model here (keyword search; tests/test_hybrid_search.py has the model).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from desktop_search.app.library import Library
from desktop_search.search.query import Filters
from desktop_search.search.searcher import Query
from tests.documents_corpus import SCANNED_WORD, write_corpus
from tests.make_pdfs import text_pdf


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("corpus")
    paths = write_corpus(folder)
    library = Library.open(tmp_path_factory.mktemp("home"))
    report = library.index([folder])
    yield library, paths, report
    library.close()


def search(library: Library, text: str, **kwargs) -> list:
    return library.search(Query(text=text, limit=kwargs.pop("limit", 10), **kwargs))


def rows(library: Library, sql: str, params=()) -> list[tuple]:
    return library.store.db.execute(sql, params).fetchall()


def test_every_kind_is_indexed_or_has_a_reason(indexed) -> None:
    library, paths, report = indexed
    kinds = dict(rows(library, "SELECT path, kind FROM files WHERE status = 'indexed'"))
    assert {os.path.basename(p): k for p, k in kinds.items()} == {
        "lease.pdf": "pdf", "scan.pdf": "pdf", "owner-only.pdf": "pdf",
        "camping notes.md": "text", "letter.txt": "text", "booking.eml": "mail",
        "archive.mbox": "mail", "WhatsApp Chat with Alice.txt": "chat", "result.json": "chat",
        "message_1.json": "chat", "sign.jpg": "photo",
    }  # fmt: skip
    failures = dict(library.store.reads.failures())
    assert "encrypted" in failures[str(paths["locked"])]
    assert failures[str(paths["broken"])].startswith("damaged PDF")
    assert len(failures) == 2
    assert str(paths["settings"]) not in kinds and str(paths["settings"]) not in failures
    assert report.documents == 10 and report.failed == 2


def test_a_word_on_page_two_is_found_there_with_the_word_marked(indexed) -> None:
    library, paths, _ = indexed
    hits = search(library, "zanzibarite")
    assert [hit.path for hit in hits] == [str(paths["lease"])]
    hit = hits[0]
    assert hit.kind == "pdf" and hit.item_kind == "chunk" and hit.locator == {"page": 2}
    assert hit.title == "Tenancy agreement"
    start, end = hit.snippet.spans[0]
    assert hit.snippet.text[start:end] == "zanzibarite"
    assert hit.thumbnail is not None and hit.thumbnail.is_file()  # page 1, rendered


def test_scanned_pages_are_read_by_ocr(indexed) -> None:
    library, paths, _ = indexed
    hits = search(library, SCANNED_WORD.lower())
    assert [hit.path for hit in hits] == [str(paths["scan"])]
    assert hits[0].locator == {"page": 1, "ocr": True}


def test_an_owner_password_only_pdf_is_read(indexed) -> None:
    library, paths, _ = indexed
    assert [hit.path for hit in search(library, "marmalade")] == [str(paths["open_locked"])]


def test_mail_attachments_are_items_of_their_message(indexed) -> None:
    library, paths, _ = indexed
    hits = search(library, "boiler")
    assert [hit.path for hit in hits] == [str(paths["booking"])]
    hit = hits[0]
    assert hit.item_kind == "attachment"
    assert hit.locator["attachment"] == "invoice.pdf" and hit.locator["page"] == 1
    assert hit.locator["message"] == 0
    assert hit.senders == ["Skyways", "noreply@skyways.example"]
    pictures = rows(
        library,
        "SELECT i.locator FROM items i JOIN files f ON f.id = i.file_id "
        "WHERE i.kind = 'picture' AND f.path = ?",
        [str(paths["booking"])],
    )
    assert [json.loads(p[0])["attachment"] for p in pictures] == ["beach.jpg"]


def test_messages_carry_sender_time_and_place(indexed) -> None:
    library, paths, _ = indexed
    (hit,) = search(library, "kayak")
    assert hit.path == str(paths["whatsapp"]) and hit.item_kind == "window"
    assert hit.senders == ["Alice", "Bob"]
    assert hit.started_at == "2023-08-14T19:00:00" and hit.ended_at == "2023-08-14T19:02:00"
    assert hit.locator["first"] == 0 and hit.locator["last"] == 1
    assert hit.locator["line"] == 2  # under the encryption notice: where an editor opens
    (mail,) = search(library, "aquarium")
    assert mail.path == str(paths["archive"]) and mail.locator["message"] == 1
    assert mail.started_at == "2024-03-04T08:00:00+00:00"
    assert [hit.path for hit in search(library, "trattoria")] == [str(paths["telegram"])]
    assert [hit.path for hit in search(library, "bouldering")] == [str(paths["messenger"])]
    assert [hit.path for hit in search(library, "café")] == [str(paths["letter"])]  # cp1252


def test_text_in_photos_is_found(indexed) -> None:
    library, paths, report = indexed
    (hit,) = search(library, "hardware")
    assert hit.path == str(paths["sign"]) and hit.kind == "photo" and hit.item_kind == "ocr"
    assert report.photo_texts == 1


def test_file_names_are_keywords(indexed) -> None:
    library, paths, _ = indexed
    assert str(paths["notes"]) in [hit.path for hit in search(library, "camping")]


@pytest.mark.parametrize(
    ("text", "filters", "expected"),
    [
        ("type:chat", Filters(), {"whatsapp", "telegram", "messenger"}),
        ("", Filters(types={"mail"}), {"booking", "archive"}),
        ("from:alice", Filters(), {"whatsapp"}),
        ("from:bob@example.com", Filters(), {"archive"}),
        ("type:mail after:2024", Filters(), {"archive"}),  # the 2024 message only
        ("type:chat before:2022", Filters(), {"messenger"}),
        ("in:Mail", Filters(), {"booking", "archive"}),
        (
            "",
            Filters(
                types={"chat"},
                after=__import__("datetime").date(2023, 8, 15),
                before=__import__("datetime").date(2023, 8, 21),
            ),
            {"whatsapp"},
        ),
    ],
)
def test_filters_alone_list_what_matches(indexed, text, filters, expected) -> None:
    library, paths, _ = indexed
    hits = library.search(Query(text=text, filters=filters, limit=50))
    names = {key for key, path in paths.items() if str(path) in {hit.path for hit in hits}}
    assert names == expected


def test_filters_narrow_a_keyword_search(indexed) -> None:
    library, paths, _ = indexed
    assert {h.path for h in search(library, "tent")} == {str(paths["notes"])}
    assert search(library, "tent type:pdf") == []
    found = search(library, "the in:Chats")
    assert found and all(hit.kind == "chat" for hit in found)


def test_quoted_phrases_must_occur_as_written(indexed) -> None:
    library, paths, _ = indexed
    (hit,) = search(library, '"blue tent"')
    assert hit.path == str(paths["notes"])
    assert "blue tent" in hit.snippet.text.lower()
    assert search(library, '"tent blue"') == []


def test_keyword_mode_needs_no_model_and_the_cli_prints_locators(indexed) -> None:
    from click.testing import CliRunner

    from desktop_search.cli.root import cli

    library, paths, _ = indexed
    home = str(library.paths.home)
    result = CliRunner().invoke(cli, ["--home", home, "search", "zanzibarite", "--json"])
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    data = json.loads(line)
    assert data["path"] == str(paths["lease"]) and data["locator"] == {"page": 2}
    assert data["snippet"]["text"][slice(*data["snippet"]["spans"][0])] == "zanzibarite"
    result = CliRunner().invoke(cli, ["--home", home, "search", "kayak", "--type", "pdf"])
    assert "no results" in result.output
    result = CliRunner().invoke(cli, ["--home", home, "search", "zanzibarite"])
    assert "page 2" in result.output and "[zanzibarite]" in result.output
    result = CliRunner().invoke(cli, ["--home", home, "search", "x", "--after", "2023-13"])
    assert result.exit_code != 0 and "after:" in result.output


def test_reindexing_reads_nothing_again_and_changes_replace_passages(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    report_pdf = folder / "report.pdf"
    report_pdf.write_bytes(text_pdf(["The annual report mentions the pelican budget."]))
    (folder / "todo.md").write_text("# Todo\n\nBuy a new accordion.\n")
    with Library.open(tmp_path / "home") as library:
        first = library.index([folder])
        assert first.documents == 2
        again = library.index([folder])
        assert again.documents == 0 and again.unchanged == 2
        report_pdf.write_bytes(text_pdf(["The annual report now covers the flamingo budget."]))
        changed = library.index([folder])
        assert changed.documents == 1 and changed.changed == 1
        assert search(library, "pelican") == []
        assert [h.path for h in search(library, "flamingo")] == [str(report_pdf)]
        renamed = folder / "minutes.pdf"
        os.rename(report_pdf, renamed)
        moved = library.index([folder])
        assert moved.moved == 1 and moved.documents == 0  # same bytes: nothing read again
        assert [h.path for h in search(library, "minutes")] == [str(renamed)]
        assert [h.path for h in search(library, "flamingo")] == [str(renamed)]
        assert all(h.path != str(report_pdf) for h in search(library, "report"))
        copy = folder / "minutes copy.pdf"
        copy.write_bytes(renamed.read_bytes())  # a copy of a document is read as its own file
        copied = library.index([folder])
        assert copied.new == 1 and copied.documents == 1 and len(library.store.queue) == 0
        assert {h.path for h in search(library, "flamingo")} == {str(renamed), str(copy)}
        for path in folder.iterdir():
            path.unlink()
        assert library.index([]).removed == 3
        assert rows(library, "SELECT count(*) FROM item_text") == [(0,)]


def test_documents_can_be_switched_off(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "note.txt").write_text("a note")
    with Library.open(tmp_path / "home") as library:
        library.settings_service.set_index_documents(False)
        assert library.index([folder]).documents == 0
        assert rows(library, "SELECT count(*) FROM files") == [(0,)]
