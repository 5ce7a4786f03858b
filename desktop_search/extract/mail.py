"""E-mail files (.eml, mbox): one searchable item per passage of every message, plus attachments.

Each message becomes MESSAGE items whose text is the subject followed by (a passage of) the body,
titled with the subject, dated with the Date: header and attributed to the sender's name and
address. Attachments are handed back as bytes for the caller's dispatcher to run the PDF, text
and image extractors on: this module never interprets them.
"""

from __future__ import annotations

import email
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import PurePath

from desktop_search.errors import FileNotIndexableError
from desktop_search.extract.chunking import approximate_tokens, chunk_text, cut_text
from desktop_search.extract.document import MAIL, MESSAGE, Document, TextItem
from desktop_search.extract.mail_parts import (
    POLICY,
    addresses,
    attachment_parts,
    body_text,
    bounded_message,
    header_text,
    looks_like_mail,
    message_date,
    message_id,
)
from desktop_search.extract.mbox import is_mbox, iter_mbox

log = logging.getLogger(__name__)

MAX_TOKENS = 200  # per item, subject included (the text model reads at most 256)
# A subject repeated on every passage is cut to this many tokens so the body keeps its room.
MAX_SUBJECT_TOKENS = 40
# Text of one message that is indexed: about 150 passages, a 30-page report pasted into a mail.
# Longer bodies are logs, data dumps or whole threads quoted again and again. Without caps a
# 50 MB mbox gave 110,610 passages, 2.85 GB of memory and ~25 minutes of indexing.
MAX_MESSAGE_CHARS = 100_000
# Passage text indexed from one mail file (attachments included): about 15,000 passages (a
# 50 MB mbox of 2 KB reports: its first 4,998 messages, read in 18 s of CPU with 20 MB of
# memory beyond the file's bytes), some 12 minutes of the text model on 2 cores
# (benchmarks/README.md: ~20 passages of 200 tokens a second). Five times a text file's
# 2 million: a mailbox is many documents, each worth finding. Later messages are not read.
MAX_MAIL_FILE_CHARS = 10_000_000
# ... and passages: a mailbox of a million one-line messages is few characters but as many
# items, each a database row, a model call and about 1.3 KB of memory until it is saved.
MAX_MAIL_FILE_PASSAGES = 20_000
# A subject or a name longer than this is damage or abuse; it is repeated on every passage.
MAX_HEADER_CHARS = 1_000
# Recipients kept in each passage's locator (a mailing-list blast can name thousands).
MAX_RECIPIENTS = 100
# A message without a subject is titled with the start of its body, cut to this many words.
TITLE_WORDS = 12

_NOT_BLANK_RE = re.compile(rb"\S")
# Thunderbird marks a deleted message in its mbox (flag 0x0008, "expunged") and removes it only
# when the folder is compacted: a message the user deleted is not to be found.
_MOZILLA_STATUS_RE = re.compile(rb"^X-Mozilla-Status:[ \t]*([0-9A-Fa-f]{1,4})", re.MULTILINE)
_MOZILLA_EXPUNGED = 0x0008
_HEADER_END_RE = re.compile(rb"\r?\n\r?\n")
# Called with the document being read and the attachments of each message as it is read.
TakeAttachments = Callable[[Document, list["Attachment"]], None]


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
    complete: bool  # False: the body was cut at MAX_MESSAGE_CHARS
    title: str | None  # the subject, else the start of the body, else the sender


def extract_mail(data: bytes, name: str) -> Document:
    """The messages of an .eml or mbox file (attachments left out)."""
    return read_mail(data, name)[0]


def read_mail(
    data: bytes, name: str, take_attachments: TakeAttachments | None = None,
    *, single: bool | None = None,
) -> tuple[Document, list[Attachment]]:  # fmt: skip
    """The messages of an .eml or mbox file, and every attachment of every message.

    ``.mbox`` files and anything starting with an mbox "From " line hold many messages; other
    files one (``single`` True: one message whatever the bytes look like, a Maildir file; False:
    a mailbox whatever its name, a Thunderbird folder). A message that cannot be read is
    skipped with a note; a file without any readable message raises FileNotIndexableError.
    Messages are read one at a time; with ``take_attachments`` each message's attachments go to
    it right away (and are not returned), so a large mbox's attachments are never all in memory
    at once. A message's text is cut at MAX_MESSAGE_CHARS, and no message is read once the file
    has MAX_MAIL_FILE_CHARS of passages or MAX_MAIL_FILE_PASSAGES of them (with a note).
    """
    suffix = PurePath(name).suffix.lower()
    by_name = suffix == ".mbox" or (is_mbox(data) and suffix != ".eml")
    many = by_name if single is None else not single
    if not _NOT_BLANK_RE.search(data):
        return Document(kind=MAIL, title=mailbox_title(name) if many else None), []
    document = Document(kind=MAIL, title=mailbox_title(name) if many else None)
    raws = iter_mbox(data) if is_mbox(data) and not single else [data]
    attachments: list[Attachment] = []

    def take(reading: Document, found: list[Attachment]) -> None:
        if take_attachments is None:
            attachments.extend(found)
        else:
            take_attachments(reading, found)

    _read_messages(raws, document, many=many, take_attachments=take)
    return document, attachments


def read_mailbox(
    raws: Iterable[bytes], name: str, notes: list[str],
    take_attachments: TakeAttachments | None = None,
) -> Document:  # fmt: skip
    """The messages of a mailbox given one raw message at a time (``mbox.iter_mailbox``: a
    mailbox streamed from its file), with ``notes`` (the stream's) as the document's notes.
    An empty mailbox is an empty document; one without any readable message raises
    FileNotIndexableError, as ``read_mail`` does."""
    document = Document(kind=MAIL, title=mailbox_title(name), notes=notes)
    _read_messages(raws, document, many=True, take_attachments=take_attachments)
    return document


def mailbox_title(name: str) -> str:
    """A mailbox's title: its file name without ``.mbox`` (Thunderbird's "Sent v1.2" stays)."""
    name = PurePath(name).name
    return name[: -len(".mbox")] if name.lower().endswith(".mbox") else name


def _read_messages(
    raws: Iterable[bytes], document: Document, *, many: bool,
    take_attachments: TakeAttachments | None,
) -> None:  # fmt: skip
    """Read ``raws`` into ``document`` under the file caps (see ``read_mail``)."""
    read = seen = deleted = indexed_chars = 0
    for index, raw in enumerate(raws):
        if indexed_chars >= MAX_MAIL_FILE_CHARS or len(document.items) >= MAX_MAIL_FILE_PASSAGES:
            document.notes.append(f"only the first {index:,} messages are indexed (the limit of "
                                  f"{MAX_MAIL_FILE_CHARS:,} characters or "
                                  f"{MAX_MAIL_FILE_PASSAGES:,} passages was reached)")  # fmt: skip
            break
        if _deleted_in_thunderbird(raw):
            deleted += 1
            continue
        seen += 1
        message = _read_message(raw, index, document.notes)
        if message is None:
            continue
        if read == 0 and not many:
            document.title, document.created_at = message.title, message.date
        read += 1
        before = len(document.items)
        document.items.extend(message.items)
        if take_attachments is not None:
            take_attachments(document, message.attachments)
        indexed_chars += sum(len(item.text) for item in document.items[before:])
    if deleted:
        document.notes.append(f"{deleted:,} messages deleted in Thunderbird (kept until the "
                              "folder is compacted) are not indexed")  # fmt: skip
    if read == 0 and (seen or not many):
        raise FileNotIndexableError(f"not an e-mail file: {_no_message_reason(seen, document)}")


def _deleted_in_thunderbird(raw: bytes) -> bool:
    """Is this message marked deleted by Thunderbird (X-Mozilla-Status in its header block)?"""
    header_end = _HEADER_END_RE.search(raw)
    status = _MOZILLA_STATUS_RE.search(raw, 0, header_end.start() if header_end else len(raw))
    return status is not None and bool(int(status[1], 16) & _MOZILLA_EXPUNGED)


def _no_message_reason(seen: int, document: Document) -> str:
    if seen > 1:
        return "no readable message in the mbox"
    unreadable = [note for note in document.notes if ": unreadable (" in note]
    if unreadable:
        return unreadable[0].split(": ", 1)[1]
    return "no message headers found (a message starts with lines like From:, Subject: or " \
           "Content-Type:)"  # fmt: skip


def _read_message(raw: bytes, index: int, notes: list[str]) -> _Message | None:
    bounded = bounded_message(raw)
    try:
        message = email.message_from_bytes(bounded, policy=POLICY)
        if not looks_like_mail(message):
            if _NOT_BLANK_RE.search(raw):
                notes.append(f"message {index + 1}: no e-mail headers, skipped")
            return None
        found = _message_items(message, index)
    except Exception as exc:  # the email package raises assorted errors on damaged MIME
        log.debug("message %d unreadable: %r", index, exc)
        notes.append(f"message {index + 1}: unreadable ({type(exc).__name__}: {exc})")
        return None
    if not found.complete or len(bounded) < len(raw):
        notes.append(f"message {index + 1}: only the first {MAX_MESSAGE_CHARS:,} characters "
                     "are indexed")  # fmt: skip
    return found


def _message_items(message: EmailMessage, index: int) -> _Message:
    subject = _header(header_text(message, "subject"))
    date = message_date(message)
    mid = _header(message_id(message))
    senders = _senders(message)
    recipients = _recipients(message, "to")
    copied = _recipients(message, "cc")
    body = body_text(message, MAX_MESSAGE_CHARS)
    items = []
    for number, text in enumerate(_passages(subject or "", body.text)):
        locator = {"message": index, "message_id": mid, "chunk": number, "to": recipients}
        if copied:
            locator["cc"] = copied
        item = TextItem(MESSAGE, text, locator, title=subject, started_at=date, senders=senders)
        items.append(item)
    attachments = [
        Attachment(part.name, part.content_type, part.data, index, mid, subject, date, senders)
        for part in attachment_parts(message, body.part)
    ]
    title = subject or _opening_words(body.text) or (" ".join(senders[:1]) or None)
    return _Message(items, attachments, subject, date, body.complete, title)


def _opening_words(text: str) -> str | None:
    """The first TITLE_WORDS words of a body's first line, for a message without a subject."""
    line = next((line for line in text.splitlines() if line.strip()), "")
    words = line.split()
    if not words:
        return None
    opening = " ".join(words[:TITLE_WORDS])
    return _short(opening + (" …" if len(words) > TITLE_WORDS else ""))


def _header(text: str | None) -> str | None:
    return None if text is None else _short(text)


def _short(text: str) -> str:
    return cut_text(text, MAX_HEADER_CHARS)


def _senders(message: EmailMessage) -> tuple[str, ...]:
    found = addresses(message, "from") or addresses(message, "sender")
    if not found:
        return ()
    first = found[0]
    return tuple(_short(value) for value in (first.name, first.address) if value)


def _recipients(message: EmailMessage, name: str) -> list[str]:
    return [_short(str(a)) for a in addresses(message, name)[:MAX_RECIPIENTS]]


def _passages(subject: str, body: str) -> list[str]:
    """The subject and the body in chunks, the subject heading every chunk for context."""
    if not body.strip():
        return chunk_text(subject, max_tokens=MAX_TOKENS)  # [subject] unless it is absurd
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
    shortened = " ".join(words)[: max_tokens * 8]
    if approximate_tokens(shortened + " …") > max_tokens:  # one long code or URL: cut by tokens
        shortened = chunk_text(shortened, max_tokens=max(1, max_tokens - 1), overlap_tokens=0)[0]
    return shortened + " …"
