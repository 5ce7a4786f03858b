"""The kinds of file in the retrieval corpus, and how each one is written to disk.

Texts are written indented inside the data modules and cleaned with ``inspect.cleandoc``. PDFs
are drawn with fpdf2's core fonts, which only know Latin-1: a PDF text outside Latin-1 is a
mistake in the data and raises at write time rather than producing a PDF with missing glyphs.
"""

from __future__ import annotations

import html
import inspect
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

log = logging.getLogger(__name__)

# Every PDF gets the same creation date so that the corpus is byte-for-byte reproducible.
PDF_CREATED = datetime(2024, 11, 1, 9, 0, tzinfo=UTC)


def clean(text: str) -> str:
    return inspect.cleandoc(text)


@dataclass(frozen=True)
class PdfFile:
    """A PDF with one entry per page; paragraphs are separated by blank lines."""

    path: str
    title: str
    pages: tuple[str, ...]

    def text(self) -> str:
        return "\n\n".join([self.title, *(clean(page) for page in self.pages)])

    def render(self) -> bytes:
        from fpdf import FPDF
        from fpdf.enums import XPos, YPos

        pdf = FPDF(format="A4")
        pdf.set_creation_date(PDF_CREATED)
        pdf.set_title(self.title)
        pdf.set_auto_page_break(True, margin=15)
        for number, page in enumerate(self.pages, start=1):
            pdf.add_page()
            if number == 1:
                pdf.set_font("Helvetica", "B", 14)
                pdf.multi_cell(0, 8, _latin1(self.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.ln(3)
            pdf.set_font("Helvetica", size=10)
            for paragraph in clean(page).split("\n\n"):
                pdf.multi_cell(0, 5, _latin1(paragraph), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.ln(2)
            if pdf.page_no() != number:
                raise ValueError(f"{self.path}: page {number} does not fit on one page")
        return bytes(pdf.output())

    def write(self, target: Path) -> None:
        target.write_bytes(self.render())


@dataclass(frozen=True)
class NoteFile:
    """A plain-text or Markdown note (``.txt`` / ``.md``)."""

    path: str
    body: str

    def text(self) -> str:
        return clean(self.body)

    def write(self, target: Path) -> None:
        target.write_text(self.text() + "\n", encoding="utf-8")


@dataclass(frozen=True)
class MailFile:
    """One e-mail saved as ``.eml``.

    ``html``: "" plain text only; "alternative" plain text and an HTML version of it;
    "only" HTML only, as many booking confirmations are sent.
    """

    path: str
    sender: str
    to: str
    subject: str
    date: str  # ISO 8601 with offset
    body: str
    html: str = ""
    attachment: PdfFile | None = None

    def text(self) -> str:
        parts = [self.sender, self.to, self.subject, clean(self.body)]
        if self.attachment is not None:
            parts.append(self.attachment.text())
        return "\n\n".join(parts)

    def message(self) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = self.to
        message["Subject"] = self.subject
        message["Date"] = format_datetime(datetime.fromisoformat(self.date))
        message["Message-ID"] = f"<{hash_text(self.path):x}@mail.example>"
        body = clean(self.body)
        if self.html == "only":
            message.set_content(_as_html(body), subtype="html")
        else:
            message.set_content(body)
            if self.html == "alternative":
                message.add_alternative(_as_html(body), subtype="html")
        if self.attachment is not None:
            name = Path(self.attachment.path).name
            message.add_attachment(
                self.attachment.render(), maintype="application", subtype="pdf", filename=name
            )
        return message

    def write(self, target: Path) -> None:
        target.write_bytes(self.message().as_bytes())


@dataclass(frozen=True)
class ChatFile:
    """A WhatsApp chat export (Android format: ``31/12/2023, 21:41 - Alice: text``).

    In ``body`` a line indented deeper than the others only wraps the source code: it is joined
    to the line before. A line that is not indented is a real second line of a message, as
    WhatsApp writes messages with line breaks.
    """

    path: str
    body: str

    def text(self) -> str:
        lines: list[str] = []
        for line in clean(self.body).splitlines():
            if line.startswith(" ") and lines:
                lines[-1] += " " + line.strip()
            else:
                lines.append(line)
        return "\n".join(lines)

    def write(self, target: Path) -> None:
        target.write_text(self.text() + "\n", encoding="utf-8")


CorpusFile = PdfFile | NoteFile | MailFile | ChatFile


def hash_text(text: str) -> int:
    """A stable (unsalted) hash, for reproducible Message-IDs."""
    value = 0
    for char in text:
        value = (value * 131 + ord(char)) % 2**61
    return value


def _latin1(text: str) -> str:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError as error:
        raise ValueError(f"PDF text outside Latin-1: {text[error.start : error.end]!r}") from None
    return text


def _as_html(body: str) -> str:
    paragraphs = "\n".join(
        "<p>" + "<br>".join(html.escape(line) for line in paragraph.splitlines()) + "</p>"
        for paragraph in body.split("\n\n")
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
        f'<body style="font-family: Arial, sans-serif">\n{paragraphs}\n</body></html>\n'
    )
