"""The pieces of an e-mail file: mbox splitting, header values, body text, attachment parts.

Mail in the wild is full of damage: headers with raw 8-bit text, undeclared or misspelt
charsets, dates nobody can parse, mbox files whose writer forgot to quote "From " lines. Every
reader here returns its best reading (or None) rather than raising, so one bad header never
costs the message.
"""

from __future__ import annotations

import codecs
import email.utils
import logging
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import PurePosixPath

from desktop_search.extract.mail_html import html_to_text

log = logging.getLogger(__name__)

# Headers that make a block of text an e-mail (a garbage file parses into a message without any).
MAIL_HEADERS = {
    "from", "to", "cc", "subject", "date", "message-id", "received", "mime-version",
    "return-path", "sender", "reply-to", "delivered-to", "in-reply-to",
}  # fmt: skip

_FROM_LINE_RE = re.compile(rb"^From [^\r\n]*", re.MULTILINE)
_TIME_OF_DAY_RE = re.compile(rb"\b\d{1,2}:\d{2}\b")
_HEADER_LINE_RE = re.compile(rb"[\x21-\x39\x3b-\x7e]+:")
_QUOTED_FROM_RE = re.compile(rb"^>(>*From )", re.MULTILINE)
_ESCAPED_BYTE_RE = re.compile("[\udc80-\udcff]")
_TEXT_FALLBACK = "cp1252"  # undeclared 8-bit mail text is far more often cp1252 than anything


def is_mbox(data: bytes) -> bool:
    """True when the bytes start like an mbox file (an envelope "From " line)."""
    return data.lstrip().startswith(b"From ")


def split_mbox(data: bytes) -> list[bytes]:
    """The raw messages of an mbox file, with ">From " quoting undone (mboxrd and mboxo).

    A "From " line separates messages when a header line follows it and it either follows a blank
    line or carries an envelope time of day: writers that forget to quote "From " in bodies
    would otherwise split messages in two.
    """
    data = data.lstrip()
    starts = [m for m in _FROM_LINE_RE.finditer(data) if m.start() == 0 or _is_separator(data, m)]
    messages = []
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(data)
        body_start = _line_end(data, match.end())
        messages.append(_QUOTED_FROM_RE.sub(rb"\1", data[body_start:end]))
    return messages


def _is_separator(data: bytes, match: re.Match[bytes]) -> bool:
    next_line_start = _line_end(data, match.end())
    if not _HEADER_LINE_RE.match(data, next_line_start):
        return False
    before = data[max(0, match.start() - 4) : match.start()]
    after_blank = before.endswith((b"\n\n", b"\r\n\r\n", b"\r\r"))
    return after_blank or bool(_TIME_OF_DAY_RE.search(match.group()))


def _line_end(data: bytes, position: int) -> int:
    if data.startswith(b"\r\n", position):
        return position + 2
    return position + 1 if data[position : position + 1] in (b"\n", b"\r") else position


def looks_like_mail(message: EmailMessage) -> bool:
    """True when the parsed message has at least one e-mail header."""
    return any(name.lower() in MAIL_HEADERS for name in message)


def unescape_bytes(text: str) -> str:
    """Text with raw 8-bit bytes (kept as surrogate escapes by the parser) decoded."""
    if not _ESCAPED_BYTE_RE.search(text):
        return text
    raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode(_TEXT_FALLBACK, errors="replace")


def header_text(message: EmailMessage, name: str) -> str | None:
    """A header's decoded value on one line, or None when missing or empty."""
    try:
        value = message[name]
    except Exception as exc:  # the header parser raises on some malformed values
        log.debug("unparseable %s header: %r", name, exc)
        value = _raw_header_text(message, name)
    if value is None:
        return None
    return " ".join(unescape_bytes(str(value)).split()) or None


def _raw_header_text(message: EmailMessage, name: str) -> str | None:
    raw = next((v for k, v in message.raw_items() if k.lower() == name.lower()), None)
    if raw is None:
        return None
    try:
        return str(make_header(decode_header(raw)))
    except Exception:  # broken encoded words: the raw value is still better than nothing
        return raw


@dataclass(frozen=True)
class MailAddress:
    name: str  # display name, "" when none
    address: str  # addr-spec, "" when unparseable

    def __str__(self) -> str:
        if self.name and self.address:
            return f"{self.name} <{self.address}>"
        return self.name or self.address


def addresses(message: EmailMessage, name: str) -> list[MailAddress]:
    """The mailboxes of an address header (groups flattened), in order."""
    try:
        header = message[name]
        parsed = [(a.display_name, a.addr_spec) for a in header.addresses] if header else []
    except Exception as exc:  # malformed address lists: fall back to the lenient old parser
        log.debug("unparseable %s header: %r", name, exc)
        raw = [v for k, v in message.raw_items() if k.lower() == name.lower()]
        parsed = email.utils.getaddresses([str(v) for v in raw])
    found = []
    for display, address in parsed:
        display = " ".join(unescape_bytes(display or "").split())
        address = unescape_bytes(address or "").strip().strip("<>")
        if display or address:
            found.append(MailAddress(display, address))
    return found


def message_date(message: EmailMessage) -> str | None:
    """The Date: header as ISO 8601 with its UTC offset, or None when missing or garbled."""
    raw = next((v for k, v in message.raw_items() if k.lower() == "date"), None)
    if raw is None:
        return None
    try:
        when = email.utils.parsedate_to_datetime(" ".join(str(raw).split()))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": the time is UTC, the sender's zone unknown (RFC 5322)
        when = when.replace(tzinfo=UTC)
    return when.isoformat(timespec="seconds")


def message_id(message: EmailMessage) -> str | None:
    """The Message-ID without angle brackets."""
    value = header_text(message, "message-id")
    if value is None:
        return None
    return value.strip("<>").strip() or None


def body_text(message: EmailMessage) -> tuple[str, EmailMessage | None]:
    """The readable body (plain text preferred, else HTML as text) and the part it came from.

    Further inline text/plain parts outside multipart/alternative (Apple Mail splits the body
    around inline images; mailing lists append footers) are appended to it.
    """
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except Exception as exc:  # defective MIME structure
        log.debug("no body found: %r", exc)
        part = None
    text = ""
    if part is not None:
        text = part_text(part)
        if part.get_content_subtype() == "html":
            text = html_to_text(text)
    extra = [part_text(p) for p in _extra_text_parts(message, part)]
    return "\n\n".join(t.strip() for t in [text, *extra] if t.strip()), part


def _extra_text_parts(part: EmailMessage, body: EmailMessage | None) -> Iterator[EmailMessage]:
    if body is None or part.get_content_maintype() != "multipart":
        return
    if part.get_content_subtype() == "alternative":
        # Versions of one text: the body's own is read already; another one adds its plain text.
        if not _contains(part, body):
            plain = (p for p in part.iter_parts() if p.get_content_type() == "text/plain")
            first = next(plain, None)
            if first is not None:
                yield first
        return
    for sub in part.iter_parts():
        if sub.get_content_maintype() == "multipart":
            yield from _extra_text_parts(sub, body)
        elif sub is not body and sub.get_content_type() == "text/plain" and not _is_attachment(sub):
            yield sub


def _contains(part: EmailMessage, wanted: EmailMessage) -> bool:
    if part is wanted:
        return True
    return part.get_content_maintype() == "multipart" and any(
        _contains(sub, wanted) for sub in part.iter_parts()
    )


def part_text(part: EmailMessage) -> str:
    """A leaf part's payload as text: transfer encoding undone, charset decoded leniently."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = (part.get_content_charset() or "").strip()
    if charset and charset not in ("us-ascii", "ascii"):
        try:
            return payload.decode(codecs.lookup(charset).name, errors="replace")
        except (LookupError, ValueError):  # unknown, not a text codec, or a codec that fails
            log.debug("unusable charset %r", charset)
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode(_TEXT_FALLBACK, errors="replace")


@dataclass(frozen=True)
class AttachmentPart:
    name: str
    content_type: str
    data: bytes


def attachment_parts(message: EmailMessage, body: EmailMessage | None) -> list[AttachmentPart]:
    """Every attached file: parts with a filename or a non-text type (inline images too).

    Attached e-mails (message/rfc822) come back whole as ``.eml`` data rather than opened up.
    """
    found: list[AttachmentPart] = []
    _collect(message, body, found)
    return found


def _collect(part: EmailMessage, body: EmailMessage | None, found: list[AttachmentPart]) -> None:
    content_type = part.get_content_type()
    if part is body:
        return
    if content_type == "message/rfc822":
        _collect_attached_message(part, found)
        return
    if part.is_multipart():
        for sub in part.iter_parts():
            _collect(sub, body, found)
        return
    filename = _filename(part)
    if not (filename or _is_attachment(part) or part.get_content_maintype() != "text"):
        return
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes) or not data:
        return
    if not filename:
        extension = mimetypes.guess_extension(content_type) or ".bin"
        filename = f"attachment-{len(found) + 1}{extension}"
    found.append(AttachmentPart(_safe_name(filename), content_type, data))


def _collect_attached_message(part: EmailMessage, found: list[AttachmentPart]) -> None:
    inner = part.get_payload()
    if not isinstance(inner, list) or not inner:
        return
    try:
        data = inner[0].as_bytes()
    except Exception as exc:  # re-serialising a damaged message can fail; skip just that one
        log.debug("attached message could not be re-serialised: %r", exc)
        return
    name = _filename(part) or f"{header_text(inner[0], 'subject') or 'message'}.eml"
    found.append(AttachmentPart(_safe_name(name), "message/rfc822", data))


def _is_attachment(part: EmailMessage) -> bool:
    try:
        return part.get_content_disposition() == "attachment" or bool(_filename(part))
    except Exception:
        return False


def _filename(part: EmailMessage) -> str | None:
    try:
        name = part.get_filename()
    except Exception as exc:  # broken RFC 2231 parameters
        log.debug("unreadable attachment name: %r", exc)
        return None
    if not name:
        return None
    return unescape_bytes(str(name)).strip() or None


def _safe_name(name: str) -> str:
    # Only the last path component: senders' clients sometimes leak "C:\\Users\\..." paths.
    name = " ".join(PurePosixPath(name.replace("\\", "/")).name.split())
    return name if name.strip(".") else "attachment"
