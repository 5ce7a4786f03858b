"""Which files are documents, and the one entry point that extracts any of them.

Dispatches on the file name (and, for ``.txt``, on the content: a WhatsApp export is a chat),
and for mail on where the file lies: Maildir messages and Thunderbird's mbox files have no
telling name (``extract/mail_folders.py``). E-mail attachments are extracted here with the same
extractors and become items of the e-mail, linked to their message through the locator.

Mailboxes (``.mbox``, Thunderbird folders) are never read whole: ``open_streamed`` hashes one
in chunks and ``extract_mailbox`` reads it message by message (``extract/mbox.py``); every other
document is read whole and handed to ``extract_document`` as bytes.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path

from desktop_search.errors import FileNotIndexableError
from desktop_search.extract.chat import extract_chat, extract_chat_text
from desktop_search.extract.chat_whatsapp import looks_like_whatsapp
from desktop_search.extract.clean import clean_document, clean_text
from desktop_search.extract.document import (
    ATTACHMENT,
    CHUNK,
    Document,
    ImageItem,
    ReadText,
    TextItem,
)
from desktop_search.extract.images import IMAGE_EXTENSIONS, load_photo
from desktop_search.extract.mail import Attachment, read_mail, read_mailbox
from desktop_search.extract.mail_folders import (
    MailFile,
    is_maildir_message,
    is_thunderbird_mailbox,
    mail_file,
)
from desktop_search.extract.mbox import MailboxFile, iter_mailbox, open_mailbox
from desktop_search.extract.pdf import extract_pdf
from desktop_search.extract.text import decode_text, extract_text_file, text_document

log = logging.getLogger(__name__)

TEXT_EXTENSIONS = frozenset({".txt", ".md", ".markdown"})
MAIL_EXTENSIONS = frozenset({".eml", ".mbox"})
DOCUMENT_EXTENSIONS = TEXT_EXTENSIONS | MAIL_EXTENSIONS | {".pdf", ".json"}
# JSON files are only chat exports under these names (Telegram Desktop, Facebook/Instagram):
# other JSON (settings, code) is not a document and must not be reported as unreadable.
_CHAT_JSON = re.compile(r"^(result|message_\d+)\.json$", re.IGNORECASE)
ATTACHED_PICTURE_SIDE = 224  # attachments are decoded just large enough for the image model


def is_document(path: str) -> bool:
    """Is this file one the document extractors take? By its name, and for mail files without
    a telling name by where it lies (a Maildir's ``cur/``, a ``.msf`` beside it)."""
    name = os.path.basename(path)
    extension = os.path.splitext(name)[1].lower()
    if is_maildir_message(path):
        return True
    if extension == ".json":
        return bool(_CHAT_JSON.match(name))
    return extension in DOCUMENT_EXTENSIONS or mail_file(path, extension) is not None


def is_indexed_name(path: str) -> bool:
    """Photos and documents: what the scanner and the watcher pick up."""
    return os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS or is_document(path)


def is_streamed(path: str) -> bool:
    """Is ``path`` a mailbox, read message by message rather than whole (``open_streamed``)?"""
    return _mail_file(path) is MailFile.MAILBOX


def open_streamed(path: str) -> MailboxFile:
    """A mailbox opened and hashed in chunks, for ``extract_mailbox``; the caller closes it."""
    return open_mailbox(path)


def extract_document(path: str, data: bytes, read_text: ReadText | None = None) -> Document:
    """The document in ``data`` (the bytes of ``path``), every string in it valid UTF-8 without
    control characters: this is the boundary between the extractors and the store, and the one
    place their output is cleaned (see :mod:`desktop_search.extract.clean`). A failure's reason
    is cleaned too: it can quote the file (a header, an attachment name) and is stored."""
    try:
        return clean_document(_extract(path, data, read_text))
    except FileNotIndexableError as error:
        raise _cleaned(error) from error


def extract_mailbox(path: str, mailbox: MailboxFile, read_text: ReadText | None = None) -> Document:
    """The document of a mailbox opened by ``open_streamed``, read one message at a time in
    bounded memory, cleaned as ``extract_document`` cleans. Does not close ``mailbox``."""
    try:
        notes: list[str] = []
        raws = iter_mailbox(mailbox, notes)
        document = read_mailbox(raws, os.path.basename(path), notes, _attachment_taker(read_text))
        return clean_document(document)
    except FileNotIndexableError as error:
        raise _cleaned(error) from error


def _cleaned(error: FileNotIndexableError) -> FileNotIndexableError:
    reason = clean_text(error.reason)
    if reason == error.reason:
        return error
    return FileNotIndexableError(reason, transient=error.transient)


def _mail_file(path: str) -> MailFile | None:
    return mail_file(path, os.path.splitext(path)[1].lower())


def _extract(path: str, data: bytes, read_text: ReadText | None) -> Document:
    name = os.path.basename(path)
    extension = os.path.splitext(name)[1].lower()
    if is_maildir_message(path):
        return _mail(data, name, read_text, single=True)
    if extension in MAIL_EXTENSIONS:
        return _mail(data, name, read_text)
    if extension == ".pdf":
        return extract_pdf(data, read_text=read_text)
    if extension == ".json":
        return extract_chat(data, name)
    if extension not in TEXT_EXTENSIONS and is_thunderbird_mailbox(path):
        return _mail(data, name, read_text, single=False)
    text = decode_text(data)
    if extension == ".txt" and looks_like_whatsapp(text):
        return extract_chat_text(text, name)
    return text_document(text, name)


def _mail(
    data: bytes, name: str, read_text: ReadText | None, *, single: bool | None = None
) -> Document:
    return read_mail(data, name, _attachment_taker(read_text), single=single)[0]


def _attachment_taker(read_text: ReadText | None) -> Callable[[Document, list[Attachment]], None]:
    def take(document: Document, attachments: list[Attachment]) -> None:
        # Each message's attachments as it is read: their bytes go with the message.
        for attachment in attachments:
            try:
                _add_attachment(document, attachment, read_text)
            except FileNotIndexableError as error:
                document.notes.append(f"attachment {attachment.name}: {error.reason}")

    return take


def _add_attachment(document: Document, attachment: Attachment, read_text: ReadText | None) -> None:
    """Index what can be read of an attachment as items of its e-mail."""
    extension = Path(attachment.name).suffix.lower()
    link = {"message": attachment.message, "attachment": attachment.name}
    if attachment.message_id:
        link["message_id"] = attachment.message_id
    if extension in IMAGE_EXTENSIONS or attachment.content_type.startswith("image/"):
        photo = load_photo(attachment.data, min_side=ATTACHED_PICTURE_SIDE)
        document.images.append(
            ImageItem(
                photo.image, link, attachment.title, attachment.started_at, attachment.senders
            )  # fmt: skip
        )
        return
    if extension == ".pdf" or attachment.content_type == "application/pdf":
        inner = extract_pdf(attachment.data, read_text=read_text)
    elif extension in TEXT_EXTENSIONS or attachment.content_type.startswith("text/"):
        inner = extract_text_file(attachment.data, attachment.name)
    else:
        return  # other types (archives, calendars, ...) are not read
    for item in inner.items:
        document.items.append(_attached(item, link, attachment))
    document.notes += [f"attachment {attachment.name}: {note}" for note in inner.notes]


def _attached(item: TextItem, link: dict, attachment: Attachment) -> TextItem:
    kind = ATTACHMENT if item.kind == CHUNK else item.kind
    title = f"{attachment.title} · {attachment.name}" if attachment.title else attachment.name
    return TextItem(
        kind=kind, text=item.text, locator={**link, **item.locator}, title=title,
        started_at=attachment.started_at, senders=attachment.senders,
    )  # fmt: skip


def kind_from_name(path: str) -> str:
    """The kind a file will most likely have, from its name alone (for files that failed)."""
    extension = os.path.splitext(path)[1].lower()
    if is_maildir_message(path):
        return "mail"
    if extension == ".pdf":
        return "pdf"
    if extension in MAIL_EXTENSIONS or mail_file(path, extension) is not None:
        return "mail"
    if extension == ".json":
        return "chat"
    if extension in TEXT_EXTENSIONS:
        return "text"
    return "photo"
