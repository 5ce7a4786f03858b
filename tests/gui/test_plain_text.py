"""Text from files stays text in the window (issue 15): labels, tooltips and documents.

Qt reads a label's or a tooltip's text as HTML when it looks like some (``Qt.mightBeRichText``),
and its rich text loads the images it names from local paths: a sender named
``<img src='/dev/zero'>`` aborted the app, one as wide as 1500 px made the preview that wide.
Here every field of real indexed files holds markup: the folder and file names, a photo's EXIF
camera, a PDF's title and text, a chat's name, senders and messages, an e-mail's subject,
sender, recipients, body and attachment name, a note's title and text. The window shows each of
them (results grid, then the preview of the photo, the PDF, the chat, the mails, the note), and
every widget is walked: labels are plain text (or deliberately rich text whose file data is
escaped), tooltips Qt would read as HTML hold no markup from the data, the text views' documents
hold the data as escaped text, and no label grows wider than a window.

The widgets are checked before each hit is shown too: the camera's ``<img src='/dev/zero'>``
must never reach a label that would read it as markup (it would really load /dev/zero).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import re  # noqa: E402
import shutil  # noqa: E402
from datetime import datetime  # noqa: E402
from email.headerregistry import Address  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QColor, QImage, QTextDocument  # noqa: E402
from PySide6.QtGui import Qt as QtGui  # noqa: E402 - the Qt namespace of QtGui: mightBeRichText
from PySide6.QtWidgets import QAbstractButton, QLabel, QTextEdit, QWidget  # noqa: E402
from skimage import data as skdata  # noqa: E402

from desktop_search.app.library import Library  # noqa: E402
from desktop_search.gui import main_window as mw  # noqa: E402
from desktop_search.gui.plain_text import TextDocument, plain_tip  # noqa: E402
from desktop_search.gui.preview_document import DocumentView  # noqa: E402
from tests.make_chats import whatsapp_export  # noqa: E402
from tests.make_mail import eml  # noqa: E402
from tests.make_pdfs import text_pdf  # noqa: E402

pytestmark = pytest.mark.timeout(120)

TIMEOUT = 15_000
WORD = "zanzibarite"  # in every file: one search finds them all
BOLD = "<b>hostile</b>"
NAME = "<b>hostile"  # in file and folder names (which hold no "/")
WIDE = "<img src='/nonexistent/blue.png' width=1500 height=1500>"  # a missing file: no load
ZERO = "<img src='/dev/zero'>"  # must never be read as markup (guarded before it is shown)
LINK = "<a href='https://example.com/x'>click here</a>"
# What must never reach Qt as markup: any image, any link, the names' bold.
RAW = re.compile(r"<img|<a\s[^>]*href|<b>hostile", re.IGNORECASE)
MAX_SIDE = 800  # a label wider or taller than this grew with its text


def make_hostile_files(folder: Path) -> Path:
    """Real files whose every field holds markup, in ``folder`` (created)."""
    folder.mkdir(parents=True)
    photo = Image.fromarray(skdata.coffee()).convert("RGB")
    exif = Image.Exif()
    exif[0x0110] = ZERO  # Model: the camera the preview shows
    photo.save(folder / f"{NAME} {WORD}.jpg", quality=90, exif=exif.tobytes())
    pages = [f"First page {LINK}", f"The {WORD} invoice {WIDE} {LINK} is due in May."]
    (folder / f"{NAME} report.pdf").write_bytes(text_pdf(pages, title=f"{BOLD} {WIDE}"))
    chat = whatsapp_export([
        (datetime(2023, 5, 1, 21, 41), WIDE, f"Did you pay the {WORD} invoice? {LINK}"),
        (datetime(2023, 5, 1, 21, 42), BOLD, f"Yes {WIDE} {BOLD}"),
    ])  # fmt: skip
    (folder / f"WhatsApp Chat with {NAME}.txt").write_text(chat, encoding="utf-8")
    sender = str(Address(display_name=WIDE, addr_spec="anna@example.com"))
    to = str(Address(display_name=BOLD, addr_spec="bob@example.com"))
    body = f"Hello,\n\nthe {WORD} invoice {WIDE} and {LINK}.\n\n{BOLD}"
    (folder / f"{NAME} invoice.eml").write_bytes(
        eml(f"{BOLD} {WORD} {WIDE}", sender, to, body, cc=to)
    )
    attachment = f"{WIDE.replace('/nonexistent/', '')}.txt"  # a name holds no "/"
    (folder / f"{NAME} attached.eml").write_bytes(eml(
        f"{BOLD} files", sender, to, "See attached.",
        attachments=[(attachment, f"The {WORD} list {LINK} {WIDE}".encode(), "text", "plain")],
    ))  # fmt: skip
    (folder / f"{NAME} notes.md").write_text(f"# {BOLD} {WIDE}\n\nAsk about {WORD} {LINK}.\n")
    (folder / f"{NAME} broken.jpg").write_bytes(b"not a photo")  # listed under Problems
    return folder


@pytest.fixture(scope="session")
def hostile_home_template(tmp_path_factory) -> Path:
    """A home without a model whose library indexed the files (in a folder named with markup)."""
    root = tmp_path_factory.mktemp("gui_hostile")
    home = root / "home"
    home.mkdir()
    with Library.open(home) as library:
        report = library.index([make_hostile_files(root / f"{NAME} Documents")])
    assert report.failed == 1 and report.new == 6
    return home


@pytest.fixture
def window(make_window, hostile_home_template, tmp_path, qtbot):
    """The window over a copy of the home, its search warm and its live index idle."""
    home = tmp_path / "home"
    shutil.copytree(hostile_home_template, home)
    win = make_window(home)
    qtbot.waitUntil(lambda: win.status is not None and win.search.warmed_up, timeout=30_000)
    qtbot.waitUntil(lambda: win.progress_label.text().startswith("Watching 1 folder · up to"),
                    timeout=30_000)  # fmt: skip
    return win


def describe_widget(widget: QWidget) -> str:
    return f"{type(widget).__name__} {widget.objectName()!r} {widget.parent()!r}"


def assert_not_markup(html: str, where: str) -> None:
    """``html`` reaches Qt as rich text: the data's markup must be escaped in it."""
    found = RAW.search(html)
    assert found is None, f"{where}: markup from a file would be rendered: {html!r}"


def assert_all_text_stays_text(window) -> None:
    """Every widget of the window: labels plain (or rich with the data escaped), tooltips that
    Qt would read as HTML free of the data's markup, text views holding it escaped."""
    for widget in [window, *window.findChildren(QWidget)]:
        where = describe_widget(widget)
        tip = widget.toolTip()
        if QtGui.mightBeRichText(tip):
            assert_not_markup(tip, f"tooltip of {where}")
        if isinstance(widget, QLabel):
            text_format = widget.textFormat()
            if text_format != Qt.TextFormat.PlainText:
                # Rich text only where the code builds HTML itself (escaping the data).
                assert text_format == Qt.TextFormat.RichText, f"{where} guesses: {text_format}"
                assert_not_markup(widget.text(), where)
        if isinstance(widget, QTextEdit):
            assert_not_markup(widget.document().toHtml(), where)


def assert_small(window) -> None:
    for widget in window.findChildren(QWidget):
        if isinstance(widget, QLabel | QAbstractButton) and widget.text():
            hint = widget.sizeHint()
            assert hint.width() < MAX_SIDE and hint.height() < MAX_SIDE, (
                f"{describe_widget(widget)} grew to {hint.width()}x{hint.height()} "
                f"with {widget.text()!r}"
            )


def test_every_field_from_files_shows_as_text(qtbot, window):
    window.resize(1200, 800)
    assert_all_text_stays_text(window)
    window.search_box.setText(WORD)
    window.search.search_now()
    qtbot.waitUntil(lambda: not window.search.busy and window.state == mw.RESULTS,
                    timeout=TIMEOUT)  # fmt: skip
    hits = window.model.hits()
    assert sorted(hit.kind for hit in hits) == ["chat", "mail", "mail", "pdf", "photo", "text"]
    # The grid: tooltips, and the cards' snippets (laid out as rich text to paint them).
    for row in range(len(hits)):
        tip = window.model.data(window.model.index(row), Qt.ToolTipRole)
        if QtGui.mightBeRichText(tip):  # read as HTML: the data must be escaped in it
            assert_not_markup(tip, f"tooltip of {hits[row].kind} result")
            assert "&lt;b&gt;hostile" in tip
        else:
            assert NAME in tip
    window.view.viewport().grab()
    cards = list(window.view.itemDelegate()._documents.values())
    assert len(cards) == 5  # every hit but the photo has a snippet
    for document in cards:
        html = document.toHtml()
        assert_not_markup(html, "a card's snippet")
        assert "&lt;a href=" in html or "&lt;img" in html  # the data is there, escaped
    assert_small(window)

    shown: dict[str, str] = {}
    for row, hit in enumerate(hits):
        assert_all_text_stays_text(window)  # before the hit's data reaches the widgets
        window.view.setCurrentIndex(window.model.index(row))
        qtbot.waitUntil(lambda: not window.preview.is_loading(), timeout=TIMEOUT)
        assert_all_text_stays_text(window)
        assert_small(window)
        preview = window.preview
        shown[hit.kind + ("+" if hit.kind in shown else "")] = preview._place.text()
        assert NAME in preview._name.text() and NAME in preview._folder.text()
        if hit.kind == "photo":
            assert preview._camera.text() == ZERO  # shown, as the text it is
        else:
            heading = preview.document.heading.text()
            assert "&lt;" in heading and "<b>" in heading  # escaped data in our own bold
        if hit.kind in ("chat", "mail", "text") and preview.document.text():
            assert "&lt;a href=" in preview.document.text_view.document().toHtml()
    # The "Where" row holds senders and attachment names, as typed.
    assert WIDE in shown["chat"]
    assert any(WIDE in place for kind, place in shown.items() if kind.startswith("mail"))
    assert any("attachment <img src='blue.png'" in place for place in shown.values())


def test_the_problems_list_shows_names_as_text(qtbot, window):
    window.show_problems()
    view = window._problems_view
    qtbot.waitUntil(lambda: not view.busy and view.tree.topLevelItemCount() > 0, timeout=TIMEOUT)
    for grouped in (True, False):
        view.group_check.setChecked(grouped)
        items = [view.tree.topLevelItem(i) for i in range(view.tree.topLevelItemCount())]
        items += [item.child(i) for item in items for i in range(item.childCount())]
        tips = [item.toolTip(column) for item in items for column in range(3)]
        assert any(NAME in tip or "&lt;b&gt;hostile" in tip for tip in tips)  # the name is there
        for tip in tips:
            if QtGui.mightBeRichText(tip):
                assert_not_markup(tip, "a tooltip of the problems list")
        assert_all_text_stays_text(view)
        assert_small(view)


def test_a_tooltip_qt_would_read_as_html_shows_the_text_as_typed():
    for text in (f"{NAME} notes.md\nscore 0.5\n{ZERO}", f"from {WIDE}  twice", "a &lt; b"):
        tip = plain_tip(text)
        assert QtGui.mightBeRichText(tip)  # Qt reads it as HTML: it must be escaped
        assert_not_markup(tip, "a plain tooltip")
        document = QTextDocument()
        document.setHtml(tip)
        assert document.toPlainText() == text  # what the user sees: the text, its lines
    plain = f"notes.md\nby {BOLD}"  # markup after the first line: Qt shows it as text
    assert not QtGui.mightBeRichText(plain) and plain_tip(plain) == plain


def test_the_documents_the_window_builds_load_no_file(qtbot, pool, tmp_path):
    """Should markup ever reach them unescaped, the text view and the cards read no file."""
    picture = tmp_path / "blue.png"
    image = QImage(300, 200, QImage.Format.Format_RGB32)
    image.fill(QColor("blue"))
    assert image.save(str(picture))
    html = f"<img src='{picture}'>"
    loads = QTextDocument()
    loads.setHtml(html)
    assert loads.size().width() >= 300  # a document of Qt's own reads the file
    document = TextDocument()
    document.setHtml(html)
    assert document.size().width() < 50
    view = DocumentView(pool)
    qtbot.addWidget(view)
    assert isinstance(view.text_view.document(), TextDocument)
    view.text_view.setHtml(html)
    view.show()
    qtbot.waitExposed(view)
    assert view.text_view.document().size().height() < 100
