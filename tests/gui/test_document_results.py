"""Documents and messages in the window: cards with bold snippets, page and chat previews, Open.

A real library without any model (search by keywords, FTS5) over a PDF whose second page holds a
word found nowhere else in it, a WhatsApp export, an e-mail, a Markdown note and a photo. Every
document holds ``WORD``; "shed" is also in the photo's name (without a model, names match).
"""

from __future__ import annotations

import os
import stat
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from skimage import data as skdata

from desktop_search.app.library import Library
from desktop_search.extract.pdf import render_page
from desktop_search.gui import file_actions
from desktop_search.gui import main_window as mw
from desktop_search.gui.results import DATE, DateRole
from desktop_search.search.locators import describe_locator
from tests.gui.conftest import ready_window, save_photo, screenshot
from tests.make_chats import whatsapp_export
from tests.make_mail import eml
from tests.make_pdfs import text_pdf

TIMEOUT = 15_000
WORD = "zanzibarite"  # the word every document has somewhere; page 2 of the PDF
PAGES = [
    "Quarterly report on the garden. The roof needs new tiles before winter.",
    f"Payment terms for the shed. The {WORD} invoice is due in May; late fees apply after that.",
]


def make_documents(folder: Path) -> Path:
    """The test documents in ``folder`` (created); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.pdf").write_bytes(text_pdf(PAGES, title="Garden report"))
    (folder / "WhatsApp Chat with Alice.txt").write_text(whatsapp_export([
        (datetime(2023, 5, 1, 21, 41), "Alice", f"Did you pay the {WORD} invoice?"),
        (datetime(2023, 5, 1, 21, 42), "Bob", "Yes, yesterday <b>evening</b> at the shed"),
        (datetime(2023, 5, 1, 21, 43), "Alice", "Great, thanks!"),
    ]), encoding="utf-8")  # fmt: skip
    body = f"Hello Bob,\n\nhere is the {WORD} invoice for the shed you asked for.\n\nAnna"
    (folder / "invoice.eml").write_bytes(
        eml(f"Your {WORD} invoice", "Anna Berg <anna@example.com>", "bob@example.com", body)
    )
    (folder / "notes.md").write_text(f"# Shed notes\n\nBuy tiles.\nAsk about the {WORD} order.\n")
    save_photo(skdata.coffee(), folder / "shed-roof.jpg", "2019:05:01 08:30:00")
    return folder


@pytest.fixture(scope="session")
def documents_home_template(tmp_path_factory) -> Path:
    """A home without a model whose library indexed the test documents (built once)."""
    root = tmp_path_factory.mktemp("gui_documents")
    home = root / "home"
    home.mkdir()
    with Library.open(home) as library:
        report = library.index([make_documents(root / "Documents")])
    assert report.failed == 0 and report.new == 5
    return home


@pytest.fixture
def window(make_window, documents_home_template, tmp_path, qtbot):
    return ready_window(make_window, documents_home_template, tmp_path / "home", qtbot)


def search(qtbot, window, text: str, state=mw.RESULTS) -> None:
    window.search_box.setText(text)
    window.search.search_now()
    qtbot.waitUntil(lambda: not window.search.busy and window.state == state, timeout=TIMEOUT)


def hit_of(window, kind: str):
    return next(hit for hit in window.model.hits() if hit.kind == kind)


def select(qtbot, window, kind: str):
    row = next(r for r, hit in enumerate(window.model.hits()) if hit.kind == kind)
    window.view.setCurrentIndex(window.model.index(row))
    qtbot.waitUntil(lambda: not window.preview.is_loading(), timeout=TIMEOUT)
    return window.model.hit(row)


def bold_words(document) -> list[str]:
    """The runs of bold text in a QTextDocument (adjacent bold fragments joined: an anchor
    splits a run into fragments)."""
    found, block = [], document.begin()
    while block.isValid():
        iterator, run = block.begin(), ""
        while not iterator.atEnd():
            fragment = iterator.fragment()
            if fragment.charFormat().fontWeight() >= 700:
                run += fragment.text()
            elif run:
                found.append(run)
                run = ""
            iterator += 1
        if run:
            found.append(run)
        block = block.next()
    return found


def test_a_word_finds_the_pdf_page_the_chat_the_mail_and_the_note(qtbot, window):
    search(qtbot, window, WORD)
    kinds = sorted(hit.kind for hit in window.model.hits())
    assert kinds == ["chat", "mail", "pdf", "text"]
    pdf = hit_of(window, "pdf")
    assert describe_locator(pdf) == "page 2"
    assert pdf.snippet.marked().count(f"[{WORD}]") == 1
    row = window.model.hits().index(pdf)
    assert window.model.data(window.model.index(row)) == "Garden report"  # the title
    assert "page 2" in window.model.data(window.model.index(row), Qt.ToolTipRole)
    # The card's snippet is rich text with the word in bold (the delegate lays it out to paint).
    window.view.viewport().grab()
    documents = window.view.itemDelegate()._documents
    pdf_documents = [doc for (snippet, *_), doc in documents.items() if snippet is pdf.snippet]
    assert pdf_documents and bold_words(pdf_documents[0]) == [WORD]
    chat = hit_of(window, "chat")
    assert describe_locator(chat) == "2023-05-01 21:41 – 21:43 · Alice, Bob"
    # Newest first: a message by when it was sent (the e-mail's offset left out), a file without
    # a date of its own by its modification time (today, so first).
    window.search_panel.set_sort(DATE)
    dates = {hit.kind: window.model.data(window.model.index(row), DateRole)
             for row, hit in enumerate(window.model.hits())}  # fmt: skip
    assert dates["mail"] == "2024-03-05T14:30:00" and dates["chat"] == "2023-05-01T21:41:00"
    assert [hit.kind for hit in window.model.hits()][2:] == ["mail", "chat"]


def test_selecting_the_pdf_hit_renders_its_page_in_the_preview(qtbot, window):
    search(qtbot, window, WORD)
    hit = select(qtbot, window, "pdf")
    document = window.preview.document
    assert document.showing_page()
    assert document.page_label.text() == "Page 2 of 2"
    assert "Garden report" in document.heading.text() and "page 2" in document.heading.text()
    assert f">{WORD}</b>" in document.passage.text()  # the passage under the page, marked
    shown = document.page_pixmap().toImage()
    assert min(shown.width(), shown.height()) > 300
    # It is page 2, not page 1: compare with both pages rendered at the same size.
    data = Path(hit.path).read_bytes()
    size = (shown.width(), shown.height())
    pages = [np.asarray(render_page(data, n, max(size)).convert("L").resize(size)) for n in (1, 2)]
    shown_gray = np.asarray(_pil(shown).convert("L").resize(size))
    difference = [np.abs(shown_gray.astype(int) - page.astype(int)).mean() for page in pages]
    assert difference[1] < difference[0] / 10  # (pages are mostly white: small numbers)
    assert window.preview._captions["Where"].isVisible()
    assert window.preview._place.text() == "page 2"
    assert not window.preview._similar_button.isVisible()  # photos only


def _pil(image) -> Image.Image:
    image = image.convertToFormat(image.Format.Format_RGB888)
    buffer = bytes(image.constBits())[: image.bytesPerLine() * image.height()]
    return Image.frombytes("RGB", (image.width(), image.height()), buffer, "raw", "RGB",
                           image.bytesPerLine())  # fmt: skip


def test_the_chat_preview_shows_the_conversation_with_senders_in_bold(qtbot, window):
    search(qtbot, window, WORD)
    select(qtbot, window, "chat")
    document = window.preview.document
    assert not document.showing_page()
    lines = document.text().splitlines()
    assert lines == [
        f"Alice: Did you pay the {WORD} invoice?",
        "Bob: Yes, yesterday <b>evening</b> at the shed",  # as typed, not markup
        "Alice: Great, thanks!",
    ]
    bold = bold_words(document.text_view.document())
    assert bold.count("Alice:") == 2 and "Bob:" in bold and WORD in bold
    heading = document.heading.text()
    assert "Chat: Alice" in heading and "1 May 2023, 21:41 – 21:43" in heading
    assert window.preview._taken.text() == "1 May 2023, 21:41"
    assert window.preview._captions["Taken"].text() == "Date"


def test_the_mail_preview_shows_the_header_and_the_message(qtbot, window):
    search(qtbot, window, WORD)
    select(qtbot, window, "mail")
    document = window.preview.document
    heading = document.heading.text()
    assert f"<b>Your {WORD} invoice</b>" in heading
    assert "From: Anna Berg &lt;anna@example.com&gt;" in heading
    assert "To: bob@example.com" in heading and "Date: 5 Mar 2024, 14:30" in heading
    text = document.text()
    assert text.startswith("Hello Bob,") and f"the {WORD} invoice" in text
    assert not text.startswith("Your")  # the subject is the heading, not repeated
    assert WORD in bold_words(document.text_view.document())


def test_the_chats_filter_hides_the_pdf_and_typed_filters_still_work(qtbot, window):
    search(qtbot, window, WORD)
    started = []
    window.search.started.connect(lambda: started.append(1))
    window.filter_bar.type_buttons["chat"].click()
    qtbot.waitUntil(lambda: [h.kind for h in window.model.hits()] == ["chat"], timeout=TIMEOUT)
    assert started == [1]
    window.filter_bar.all_button.click()
    qtbot.waitUntil(lambda: len(window.model.hits()) == 4, timeout=TIMEOUT)
    search(qtbot, window, f"type:pdf {WORD}")
    assert [hit.kind for hit in window.model.hits()] == ["pdf"]


def test_a_bad_typed_filter_says_why_in_the_window(qtbot, window):
    search(qtbot, window, f"{WORD} type:spreadsheet", state=mw.ERROR)
    assert "unknown type 'spreadsheet'" in window.message_text()
    assert "types are photo, pdf, mail, chat, text" in window.message_text()
    assert QApplication.activeModalWidget() is None  # no dialog
    # Filters that exclude each other: the bar's and the typed one.
    window.filter_bar.type_buttons["chat"].click()
    search(qtbot, window, f"{WORD} type:pdf", state=mw.ERROR)
    assert "the type filters exclude each other" in window.message_text()


def test_filters_alone_list_the_newest_matching_items(qtbot, window):
    window.filter_bar.type_buttons["pdf"].click()
    window.filter_bar.type_buttons["mail"].click()
    qtbot.waitUntil(lambda: not window.search.busy and window.state == mw.RESULTS,
                    timeout=TIMEOUT)  # fmt: skip
    assert sorted(hit.kind for hit in window.model.hits()) == ["mail", "pdf"]
    window.filter_bar.set_sender("nobody-at-all")
    qtbot.waitUntil(lambda: not window.search.busy and window.state == mw.NO_MATCH,
                    timeout=TIMEOUT)  # fmt: skip
    assert window.message_text() == "Nothing matches the filters"
    # Esc clears the text first, then (nothing typed) the filters.
    window.search_panel.clear_query()
    assert window.filter_bar.is_empty() and window.state == mw.IDLE


def test_open_goes_to_the_page_or_falls_back_to_the_default_opener(qtbot, window):
    search(qtbot, window, WORD)
    places = []
    window.open_at = lambda path, locator: places.append((path, locator)) or True
    hit = select(qtbot, window, "pdf")
    window.preview.open_action.trigger()
    assert places == [(Path(hit.path), {"page": 2})] and window.opened_paths == []
    window.open_at = lambda path, locator: False  # no viewer can: the desktop's opener
    window.search_panel.open_selected()
    assert window.opened_paths == [Path(hit.path)]
    search(qtbot, window, "shed")
    photo = select(qtbot, window, "photo")  # a photo has no place: opened plainly
    window.preview.hit_actions.open()
    assert window.opened_paths[-1] == Path(photo.path)


def test_open_at_place_starts_the_viewer_with_the_page(monkeypatch, tmp_path):
    """A fake "evince" on the PATH records its arguments: the command really runs."""
    record = tmp_path / "args.txt"
    viewer = tmp_path / "bin" / "evince"
    viewer.parent.mkdir()
    viewer.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\n')
    viewer.chmod(viewer.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(viewer.parent))
    monkeypatch.setattr(file_actions.sys, "platform", "linux")
    monkeypatch.setattr(file_actions, "default_app", lambda mime: None)
    pdf = tmp_path / "My report.pdf"
    assert file_actions.open_at_place(pdf, {"page": 7})
    deadline = time.monotonic() + 10
    while not (record.exists() and record.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert record.read_text().splitlines() == ["--page-index=7", str(pdf)]
    assert not file_actions.open_at_place(pdf, None)  # no place: the caller opens it plainly
    monkeypatch.setenv("PATH", os.devnull)
    assert not file_actions.open_at_place(pdf, {"page": 7})  # no viewer installed


def test_screenshot_of_mixed_results_with_a_pdf_page(qtbot, window):
    window.resize(1280, 820)
    search(qtbot, window, "shed")
    assert sorted(hit.kind for hit in window.model.hits()) == [
        "chat",
        "mail",
        "pdf",
        "photo",
        "text",
    ]
    qtbot.waitUntil(
        lambda: all(window.thumbnails.is_loaded(h.thumbnail) for h in window.model.hits()
                    if h.thumbnail),
        timeout=TIMEOUT,
    )  # fmt: skip
    select(qtbot, window, "pdf")
    qtbot.wait(50)
    screenshot(window, "documents.png")


def test_the_preview_steps_through_the_other_pages_of_a_pdf(qtbot, window):
    # "garden" is on page 1 and in the title, which every page's passage carries: two places.
    search(qtbot, window, "garden")
    hit = select(qtbot, window, "pdf")
    assert [place.locator["page"] for place in hit.places] == [1, 2]
    row = window.model.hits().index(hit)
    assert "also on page 2" in window.model.data(window.model.index(row), Qt.ToolTipRole)
    document = window.preview.document
    assert document.places_bar.isVisible()
    assert document.places_label.text() == "Place 1 of 2 · also on page 2"
    assert not document.previous_place.isEnabled() and document.next_place.isEnabled()
    assert document.page_label.text() == "Page 1 of 2"
    document.next_place.click()
    qtbot.waitUntil(lambda: not window.preview.is_loading(), timeout=TIMEOUT)
    assert document.page_label.text() == "Page 2 of 2"
    assert document.places_label.text() == "Place 2 of 2 · also on page 1"
    assert document.previous_place.isEnabled() and not document.next_place.isEnabled()
    assert window.preview._place.text() == "page 2"
    places = []
    window.open_at = lambda path, locator: places.append(locator) or True
    window.preview.open_action.trigger()  # opens where the preview is
    assert places == [{"page": 2}]
    document.next_place.click()  # past the last: nothing happens
    assert window.preview.hit.locator == {"page": 2}
    document.previous_place.click()
    qtbot.waitUntil(lambda: not window.preview.is_loading(), timeout=TIMEOUT)
    assert document.page_label.text() == "Page 1 of 2"
    search(qtbot, window, WORD)  # one place: no bar
    select(qtbot, window, "pdf")
    assert not document.places_bar.isVisible()
