"""What the document extractors (PDF, text, mail, chat) hand to the indexer.

A file becomes one :class:`Document` holding the *items* that get embedded and keyword-indexed:
text chunks with their page, mail messages, chat conversation windows, and images found inside
(mail attachments) for the ``clip`` space. Extractors are pure functions of the file's bytes;
they raise :class:`~desktop_search.errors.FileNotIndexableError` with a reason a user can act on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

# Reads the text in an image (OCR), or None when no OCR engine is available.
ReadText = Callable[[Image.Image], str]

# Document kinds (``files.kind``); photos are "photo".
PDF, TEXT, MAIL, CHAT = "pdf", "text", "mail", "chat"
DOCUMENT_KINDS = (PDF, TEXT, MAIL, CHAT)

# Item kinds (``items.kind``).
CHUNK = "chunk"  # a passage of a PDF or text file (locator: page for PDFs)
MESSAGE = "message"  # (a passage of) one e-mail (locator: message index, message id)
ATTACHMENT = "attachment"  # a passage of a PDF or text attached to an e-mail
WINDOW = "window"  # consecutive chat messages (locator: first/last message, time range)
PHOTO_TEXT = "ocr"  # the text read in a photo
PICTURE = "picture"  # an image inside a document (clip space), e.g. an attached photo


@dataclass
class TextItem:
    """One passage that gets a ``text``-space embedding and a keyword-index entry."""

    kind: str
    text: str
    locator: dict[str, Any] = field(default_factory=dict)  # JSON-able: where in the file
    title: str | None = None  # mail subject, chat name, PDF title
    started_at: str | None = None  # ISO 8601 (local time as written, or with offset)
    ended_at: str | None = None
    senders: tuple[str, ...] = ()


@dataclass
class ImageItem:
    """An image inside a document (e.g. a photo attached to an e-mail), for the ``clip`` space."""

    image: Image.Image  # decoded, RGB, orientation applied
    locator: dict[str, Any] = field(default_factory=dict)
    title: str | None = None
    started_at: str | None = None
    senders: tuple[str, ...] = ()


@dataclass
class Document:
    """Everything indexed from one document file."""

    kind: str  # one of DOCUMENT_KINDS
    title: str | None = None
    items: list[TextItem] = field(default_factory=list)
    images: list[ImageItem] = field(default_factory=list)
    thumbnail: Image.Image | None = None  # e.g. the first page, rendered
    created_at: str | None = None  # ISO 8601, when the file says
    pages: int | None = None  # PDFs
    # Parts that could not be read (a damaged attachment, a page OCR could not read), for the log
    # and the file's notes; the rest of the document is still indexed.
    notes: list[str] = field(default_factory=list)
