"""E-mail files (.eml, mbox): one searchable item per passage of every message, plus attachments.

Each message becomes MESSAGE items whose text is the subject followed by (a passage of) the body,
titled with the subject, dated with the Date: header and attributed to the sender's name and
address. Attachments are handed back as bytes for the caller's dispatcher to run the PDF, text
and image extractors on: this module never interprets them.
"""

from __future__ import annotations

import email
import email.policy
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import PurePath

from desktop_search.errors import FileNotIndexableError
from desktop_search.extract.chunking import approximate_tokens, chunk_text
from desktop_search.extract.document import MAIL, MESSAGE, Document, TextItem
from desktop_search.extract.mail_parts import (
    addresses,
    attachment_parts,
    body_text,
    header_text,
    is_mbox,
    looks_like_mail,
    message_date,
    message_id,
    split_mbox,
)

log = logging.getLogger(__name__)

MAX_TOKENS = 200  # per item, subject included (the text model reads at most 256)
# A subject repeated on every passage is cut to this many tokens so the body keeps its room.
MAX_SUBJECT_TOKENS = 40


@dataclass
class Attachment:
    """A file attached to a message, with the message facts its index items should carry."""

    name: str  # file name as sent (path components removed)
    content_type: str  # e.g. "application/pdf", "image/jpeg", "message/rfc822"
    data: bytes  # transfer encoding undone
    message: int  # index of the message in the file (0-based)
    message_id: str | None
    title: str | None  # the message's subject
    started_at: str | None  # the message's date (ISO 8601 with offset)
    senders: tuple[str, ...]  # the sender's display name and address


@dataclass
class _Message:
    items: list[TextItem]
    attachments: list[Attachment]
    subject: str | None
    date: str | None


def extract_mail(data: bytes, name: str) -> Document:
    """The messages of an .eml or mbox file (attachments left out)."""
    return read_mail(data, name)[0]


def read_mail(data: bytes, name: str) -> tuple[Document, list[Attachment]]:
    """The messages of an .eml or mbox file, and every attachment of every message.

    ``.mbox`` files and anything starting with an mbox "From " line hold many messages; other
    files one. A message that cannot be read is skipped with a note; a file without any readable
    message raises FileNotIndexableError.
    """
    suffix = PurePath(name).suffix.lower()
    if not data.strip():
        return Document(kind=MAIL, title=PurePath(name).stem if suffix == ".mbox" else None), []
    mbox = is_mbox(data)
    raws = split_mbox(data) if mbox else [data]
    many = suffix == ".mbox" or (mbox and suffix != ".eml")
    document = Document(kind=MAIL, title=PurePath(name).stem if many else None)
    attachments: list[Attachment] = []
    read = 0
    for index, raw in enumerate(raws):
        message = _read_message(raw, index, document.notes)
        if message is None:
            continue
        if read == 0 and not many:
            document.title, document.created_at = message.subject, message.date
        read += 1
        document.items.extend(message.items)
        attachments.extend(message.attachments)
    if read == 0:
        raise FileNotIndexableError(f"not an e-mail file: {_no_message_reason(raws, document)}")
    return document, attachments


def _no_message_reason(raws: list[bytes], document: Document) -> str:
    if len(raws) > 1:
        return "no readable message in the mbox"
    unreadable = [note for note in document.notes if ": unreadable (" in note]
    return unreadable[0].split(": ", 1)[1] if unreadable else "no message headers found"


def _read_message(raw: bytes, index: int, notes: list[str]) -> _Message | None:
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        if not looks_like_mail(message):
            if len(raw.strip()) > 0:
                notes.append(f"message {index + 1}: no e-mail headers, skipped")
            return None
        return _message_items(message, index)
    except Exception as exc:  # the email package raises assorted errors on damaged MIME
        log.debug("message %d unreadable: %r", index, exc)
        notes.append(f"message {index + 1}: unreadable ({type(exc).__name__}: {exc})")
        return None


def _message_items(message: EmailMessage, index: int) -> _Message:
    subject = header_text(message, "subject")
    date = message_date(message)
    mid = message_id(message)
    senders = _senders(message)
    recipients = [str(a) for a in addresses(message, "to")]
    copied = [str(a) for a in addresses(message, "cc")]
    body, body_part = body_text(message)
    items = []
    for number, text in enumerate(_passages(subject or "", body)):
        locator = {"message": index, "message_id": mid, "chunk": number, "to": recipients}
        if copied:
            locator["cc"] = copied
        item = TextItem(MESSAGE, text, locator, title=subject, started_at=date, senders=senders)
        items.append(item)
    attachments = [
        Attachment(part.name, part.content_type, part.data, index, mid, subject, date, senders)
        for part in attachment_parts(message, body_part)
    ]
    return _Message(items, attachments, subject, date)


def _senders(message: EmailMessage) -> tuple[str, ...]:
    found = addresses(message, "from") or addresses(message, "sender")
    if not found:
        return ()
    first = found[0]
    return tuple(value for value in (first.name, first.address) if value)


def _passages(subject: str, body: str) -> list[str]:
    """The subject and the body in chunks, the subject heading every chunk for context."""
    if not body.strip():
        return [subject] if subject else []
    if not subject:
        return chunk_text(body, max_tokens=MAX_TOKENS)
    heading = _shorten(subject, MAX_SUBJECT_TOKENS)
    budget = MAX_TOKENS - approximate_tokens(heading)
    return [f"{heading}\n\n{chunk}" for chunk in chunk_text(body, max_tokens=budget)]


def _shorten(text: str, max_tokens: int) -> str:
    if approximate_tokens(text) <= max_tokens:
        return text
    words = text.split()[:max_tokens]
    while len(words) > 1 and approximate_tokens(" ".join(words) + " …") > max_tokens:
        words.pop()
    return " ".join(words)[: max_tokens * 8] + " …"
