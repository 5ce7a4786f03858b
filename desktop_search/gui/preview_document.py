"""The preview of a document or message hit: the PDF page it is on, the chat around it, the e-mail.

``DocumentView(pool, passage_text)`` is the part of the preview pane that shows a hit that is not
a photo (``show_hit(hit, terms)``):

- a PDF: the page of the hit's locator, rendered on a worker (PDFium, ``extract.pdf``), with
  "Page 3 of 12" and the matching passage under it;
- a chat: the conversation window (the item's text from the index, one "Sender: text" line per
  message), senders in bold, under the chat's name and time range;
- an e-mail: subject, sender, recipients and date, then the message's text;
- a text file: the passage, under the file's title and line.

The query's words are marked throughout. Everything from the file is escaped in the HTML built
here (``highlight.py`` and the functions below; ``gui/plain_text.py`` says why): a subject
reading ``<img src=...>`` shows as typed, and the text view loads no resource at all. The text
comes from ``passage_text(item_id)`` (run on a worker; without it the hit's snippet is shown).
Loads that finish after another hit was selected are dropped (the pool's ``start_latest``); what
they find is written into the pane's ``PreviewState`` (``pages``, ``loaded``, ``busy``, and a file
that is gone or a page that cannot be shown as ``error``/``missing``), never raised.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_search.errors import DesktopSearchError
from desktop_search.extract.pdf import PDFIUM_LOCK, render_page
from desktop_search.gui.formatting import format_taken
from desktop_search.gui.highlight import MARKER, highlighted_html, marked_html, paragraphs_html
from desktop_search.gui.plain_text import TextDocument, plain_label
from desktop_search.gui.preview_widgets import ImageView, to_qimage
from desktop_search.gui.workers import WorkerPool
from desktop_search.search.hits import Hit
from desktop_search.search.locators import describe_locator, describe_other_places
from desktop_search.store.pathnames import readable_path
from desktop_search.viewmodels.preview import PreviewState

log = logging.getLogger(__name__)

# Pages are rendered for the pane's size, but never smaller than this (a pane still being laid
# out) nor larger (a 4K screen does not need a 40 MB bitmap per page).
MIN_PAGE_SIDE, MAX_PAGE_SIDE = 800, 2400
FIRST_MATCH = "first-match"  # the anchor the text view scrolls to


# ---------------------------------------------------------------------------------------------
# The worker side


@dataclass
class DocumentLoaded:
    """What a load hands back to the GUI thread (never raises: errors are data)."""

    image: QImage | None = None
    pages: int | None = None
    text: str | None = None
    missing: bool = False
    error: str | None = None


def page_count(data: bytes) -> int:
    """How many pages the PDF in ``data`` has (PDFium is not thread-safe: under its lock)."""
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(data)
        try:
            return len(document)
        finally:
            document.close()


def load_pdf_page(path: Path, page: int, side: int) -> tuple[QImage, int]:
    """Page ``page`` (1-based) of the PDF at ``path`` fitting ``side`` x ``side``, and the number
    of pages. Raises ``FileNotFoundError`` or ``FileNotIndexableError``."""
    data = Path(path).read_bytes()
    image = render_page(data, page, side)
    return to_qimage(image), page_count(data)


def _page_job(path: Path, page: int, side: int) -> DocumentLoaded:
    try:
        image, pages = load_pdf_page(path, page, side)
    except FileNotFoundError:
        return DocumentLoaded(missing=True)
    except DesktopSearchError as error:
        return DocumentLoaded(error=str(error))
    except Exception as error:  # noqa: BLE001 - shown in the pane, never crashes the app
        log.warning("rendering page %d of %s failed", page, path, exc_info=True)
        return DocumentLoaded(error=f"cannot show this page ({type(error).__name__})")
    return DocumentLoaded(image=image, pages=pages)


def _text_job(path: Path, item_id: int, passage_text: Callable[[int], str]) -> DocumentLoaded:
    try:
        text = passage_text(item_id)
    except Exception as error:  # noqa: BLE001 - e.g. the library closed under the app
        log.warning("reading the text of item %d failed", item_id, exc_info=True)
        return DocumentLoaded(error=f"cannot read the indexed text ({error})")
    return DocumentLoaded(text=text, missing=not Path(path).exists())


# ---------------------------------------------------------------------------------------------
# What is shown (plain functions of the hit and its text)


def mail_sender(senders: Sequence[str] | None) -> str:
    """("Anna", "anna@example.com") -> "Anna <anna@example.com>"."""
    senders = list(senders or [])
    if len(senders) == 2 and "@" in senders[1] and "@" not in senders[0]:
        return f"{senders[0]} <{senders[1]}>"
    return ", ".join(senders)


def heading_html(hit: Hit) -> str:
    """The lines above the page or text: what the document is and where the match is."""
    title = hit.title or os.path.basename(readable_path(hit.path))
    locator = hit.locator or {}
    lines: list[str] = []
    if hit.kind == "mail":
        lines.append(f"<b>{html.escape(hit.title or '(no subject)')}</b>")
        facts = [("From", mail_sender(hit.senders)), ("To", ", ".join(locator.get("to") or [])),
                 ("Cc", ", ".join(locator.get("cc") or [])),
                 ("Date", format_taken(hit.started_at) if hit.started_at else "")]  # fmt: skip
        if "attachment" in locator:
            facts.append(("Attachment", describe_locator(hit).removeprefix("attachment ")))
        lines += [f"{name}: {html.escape(value)}" for name, value in facts if value]
    elif hit.kind == "chat":
        lines.append(f"<b>Chat: {html.escape(title)}</b>")
        lines.append(html.escape(_chat_span(hit)))
    else:
        lines.append(f"<b>{html.escape(title)}</b>")
        place = describe_locator(hit)
        if place:
            lines.append(html.escape(place))
    return "<br>".join(lines)


def _chat_span(hit: Hit) -> str:
    start, end = format_taken(hit.started_at), format_taken(hit.ended_at)
    if hit.ended_at and end != start:
        same_day = (hit.started_at or "")[:10] == hit.ended_at[:10]
        start = f"{start} – {end.split(', ')[-1] if same_day else end}"
    who = ", ".join(hit.senders or [])
    return " · ".join(part for part in (start if hit.started_at else "", who) if part)


def chat_html(text: str, senders: Sequence[str], terms: Sequence[str]) -> str:
    """One paragraph per message line, the sender in bold, the query's words marked."""
    known = set(senders)
    paragraphs = []
    for line in text.splitlines():
        sender, colon, message = line.partition(": ")
        if colon and sender in known:
            body = f"<b>{html.escape(sender)}:</b> {highlighted_html(message, terms)}"
        else:  # a system line ("Alice added Bob") or a message without a sender
            body = f"<i>{highlighted_html(line, terms)}</i>"
        paragraphs.append(f'<p style="margin:0 0 6px 0;">{body}</p>')
    return _anchor_first_match("".join(paragraphs))


def body_html(hit: Hit, text: str, terms: Sequence[str]) -> str:
    """An e-mail's or a text file's passage (the e-mail's subject, which heads every passage
    in the index, is dropped: the heading shows it)."""
    if hit.kind == "mail" and hit.title and text.startswith(hit.title):
        text = text[len(hit.title) :].lstrip("\n")
    if not text.strip():
        if hit.item_kind == "picture":
            return "<p><i>A picture attached to this e-mail.</i></p>"
        return "<p><i>No text.</i></p>"
    return _anchor_first_match(paragraphs_html(text, terms))


def _anchor_first_match(body: str) -> str:
    at = body.find(MARKER[0])
    return body if at < 0 else f'{body[:at]}<a name="{FIRST_MATCH}"></a>{body[at:]}'


# ---------------------------------------------------------------------------------------------
# The widget


class DocumentView(QWidget):
    """The heading, then the rendered page (PDF) or the text (anything else) of one hit.

    What its loads find goes into ``state`` (the pane's ``PreviewState``; one of its own when
    none is given)."""

    loaded = Signal(object)  # the hit's Path, once its page or text is shown

    def __init__(
        self,
        pool: WorkerPool,
        passage_text: Callable[[int], str] | None = None,
        parent: QWidget | None = None,
        *,
        state: PreviewState | None = None,
    ) -> None:
        super().__init__(parent)
        self._pool = pool
        self._passage_text = passage_text
        self.state = state if state is not None else PreviewState()
        self._hit: Hit | None = None
        self._terms: tuple[str, ...] = ()
        self._load_key = (self, "load")  # the page or the text: one load at a time
        self._build()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.heading = QLabel(self)
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.RichText)  # heading_html: the data escaped
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.heading)
        layout.addWidget(self._build_places())
        self._body = QStackedWidget(self)
        layout.addWidget(self._body, 1)

        self._page_box = QWidget(self._body)
        page_layout = QVBoxLayout(self._page_box)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.setSpacing(4)
        self.page = ImageView(self._page_box)
        self.page.setFrameShape(QFrame.Shape.StyledPanel)
        page_layout.addWidget(self.page, 1)
        self.page_label = plain_label(parent=self._page_box)
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.page_label.setEnabled(False)  # greyed: a caption
        page_layout.addWidget(self.page_label)
        self.passage = QLabel(self._page_box)
        self.passage.setWordWrap(True)
        self.passage.setTextFormat(Qt.TextFormat.RichText)  # marked_html: the data escaped
        self.passage.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        page_layout.addWidget(self.passage)
        self._body.addWidget(self._page_box)

        self.text_view = QTextBrowser(self._body)
        self.text_view.setDocument(TextDocument(self.text_view))  # loads no image, no file
        self.text_view.setOpenLinks(False)
        self.text_view.setOpenExternalLinks(False)
        self._body.addWidget(self.text_view)

    def _build_places(self) -> QWidget:
        """"Place 1 of 3 · also on pages 37, 112" between two arrows: a long document's other
        matching places, stepped through here (Alt+Left / Alt+Right)."""
        self.places_bar = QWidget(self)
        row = QHBoxLayout(self.places_bar)
        row.setContentsMargins(0, 0, 0, 0)
        self.previous_place = QToolButton(self.places_bar)
        self.previous_place.setArrowType(Qt.ArrowType.LeftArrow)
        self.previous_place.setToolTip("Previous place in this file (Alt+Left)")
        self.previous_place.setShortcut("Alt+Left")
        self.previous_place.clicked.connect(lambda: self.state.step(-1))
        self.next_place = QToolButton(self.places_bar)
        self.next_place.setArrowType(Qt.ArrowType.RightArrow)
        self.next_place.setToolTip("Next place in this file (Alt+Right)")
        self.next_place.setShortcut("Alt+Right")
        self.next_place.clicked.connect(lambda: self.state.step(1))
        self.places_label = plain_label(parent=self.places_bar)
        row.addWidget(self.previous_place)
        row.addWidget(self.places_label, 1)
        row.addWidget(self.next_place)
        self.places_bar.setVisible(False)
        return self.places_bar

    def _show_places(self, hit: Hit) -> None:
        count, index = hit.place_count, hit.place_index()
        self.places_bar.setVisible(count > 1)
        if count > 1:
            others = describe_other_places(hit)
            self.places_label.setText(f"Place {index + 1} of {count} · {others}")
            self.previous_place.setEnabled(index > 0)
            self.next_place.setEnabled(index < count - 1)

    # -- public API ----------------------------------------------------------------------

    def is_loading(self) -> bool:
        return self._pool.busy(self._load_key)

    def showing_page(self) -> bool:
        return self._body.currentWidget() is self._page_box

    def page_pixmap(self) -> QPixmap:
        return self.page.source()

    def text(self) -> str:
        """The text view's content as plain text (for tests and copy)."""
        return self.text_view.toPlainText()

    def clear(self) -> None:
        self._pool.drop(self._load_key)
        self._hit = None

    def show_hit(self, hit: Hit, terms: Sequence[str] = ()) -> None:
        self.clear()
        self._hit, self._terms = hit, tuple(terms)
        self.heading.setText(heading_html(hit))
        self._show_places(hit)
        page = (hit.locator or {}).get("page")
        if hit.kind == "pdf" and isinstance(page, int):
            self._show_page(hit, page)
        else:
            self._show_text(hit)

    # -- a PDF page ----------------------------------------------------------------------

    def _show_page(self, hit: Hit, page: int) -> None:
        self._body.setCurrentWidget(self._page_box)
        self.page_label.setText(f"Page {page}")
        self.passage.setText(marked_html(hit.snippet, MARKER) if hit.snippet else "")
        self.passage.setVisible(hit.snippet is not None)
        # The index keeps the first page small: a placeholder while the page renders.
        placeholder = QPixmap(str(hit.thumbnail)) if page == 1 and hit.thumbnail else QPixmap()
        if placeholder.isNull():
            self.page.show_message(f"Rendering page {page}…")
        else:
            self.page.set_source(placeholder)
        self.layout().activate()
        box = self.page.contentsRect().size() * self.page.devicePixelRatioF()
        side = min(max(box.width(), box.height(), MIN_PAGE_SIDE), MAX_PAGE_SIDE)
        self.state.busy = True
        self._pool.start_latest(
            self._load_key, _page_job, Path(hit.path), page, side, on_result=self._page_loaded
        )

    def _page_loaded(self, loaded: DocumentLoaded) -> None:
        if self._hit is None:
            return
        page = self._hit.locator["page"]
        if loaded.missing:
            self.page.show_message("This file no longer exists.")
            self.state.update(busy=False, missing=True,
                              error=f"File not found: {readable_path(self._hit.path)}")  # fmt: skip
            return
        if loaded.error is not None:
            self.page.show_message(f"Cannot show page {page}.")
            self.state.update(busy=False, error=f"Cannot show this page: {loaded.error}")
            return
        self.page.set_source(QPixmap.fromImage(loaded.image))
        self.page_label.setText(f"Page {page} of {loaded.pages}")
        self.state.update(busy=False, pages=loaded.pages, loaded=True)
        self.loaded.emit(Path(self._hit.path))

    # -- text ----------------------------------------------------------------------------

    def _show_text(self, hit: Hit) -> None:
        self._body.setCurrentWidget(self.text_view)
        if self._passage_text is None:  # no library at hand: the snippet is all there is
            self._text_loaded(DocumentLoaded(text=hit.snippet.text if hit.snippet else ""))
            return
        self.text_view.setHtml("<p><i>Loading…</i></p>")
        self.state.busy = True
        self._pool.start_latest(
            self._load_key, _text_job, Path(hit.path), hit.item_id, self._passage_text,
            on_result=self._text_loaded,
        )  # fmt: skip

    def _text_loaded(self, loaded: DocumentLoaded) -> None:
        hit = self._hit
        if hit is None:
            return
        if loaded.error is not None:
            self.text_view.setHtml("")
            self.state.update(busy=False, error=loaded.error)
            return
        text = loaded.text or ""
        if hit.kind == "chat":
            self.text_view.setHtml(chat_html(text, hit.senders or [], self._terms))
        else:
            self.text_view.setHtml(body_html(hit, text, self._terms))
        self.text_view.scrollToAnchor(FIRST_MATCH)
        self.state.update(busy=False, loaded=True)
        if loaded.missing:
            shown = readable_path(hit.path)
            self.state.update(
                missing=True, error=f"File not found: {shown} (the text shown is the index's)"
            )
        self.loaded.emit(Path(hit.path))
