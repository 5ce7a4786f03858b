"""The pieces of an e-mail message: header values, body text, attachment parts.

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import EmailPolicy
from pathlib import PurePosixPath
from typing import NamedTuple

from desktop_search.extract.chunking import cut_text
from desktop_search.extract.mail_html import html_to_text
from desktop_search.extract.mbox import is_mbox, iter_mbox  # noqa: F401 - lived here before

log = logging.getLogger(__name__)

# Headers that make a block of text an e-mail (a garbage file parses into a message without any).
# A message may carry only its MIME headers (a part saved on its own, a draft, a test message:
# "Content-Type: multipart/mixed" and nothing else) and is still a message.
MAIL_HEADERS = {
    "from", "to", "cc", "subject", "date", "message-id", "received", "mime-version",
    "return-path", "sender", "reply-to", "delivered-to", "in-reply-to",
    "content-type", "content-transfer-encoding", "content-disposition",
}  # fmt: skip

_ESCAPED_BYTE_RE = re.compile("[\udc80-\udcff]")
_TEXT_FALLBACK = "cp1252"  # undeclared 8-bit mail text is far more often cp1252 than anything
# HTML read for a body of at most N characters: N times this. Mail HTML is mostly markup
# (inline styles, layout tables): newsletters give 5-25% of their HTML as text, so 10x still
# fills N for most and bounds the slow conversion (2.5 MB of HTML took 6.7 s on a loaded 2-core
# machine).
HTML_CHARS_PER_TEXT_CHAR = 10
MAX_NAME_CHARS = 255  # an attachment's file name


# Long enough for the longest real headers (a References: line of a long thread, a To: line of
# hundreds of recipients); parsing one this long takes about 50 ms.
MAX_HEADER_SOURCE_CHARS = 32_768


class _BoundedPolicy(EmailPolicy):
    """``email.policy.default`` with header values cut at MAX_HEADER_SOURCE_CHARS when read:
    its header parser takes time quadratic in a value's length (a 200 KB subject took 2 s, so
    1 MB would take about a minute), and nothing worth indexing is in the rest of such a
    header."""

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        return name, value[:MAX_HEADER_SOURCE_CHARS]


POLICY = _BoundedPolicy()


# The email package holds a dozen copies' worth of a message while parsing it (a 50 MB one-line
# message took 620 MB beyond its bytes; 128 MB once cut), so what will not be read is cut from
# the raw bytes first:
# a header block is never this long (hundreds of Received: lines are some 100 KB) ...
MAX_HEADER_BLOCK_BYTES = 1_000_000
# ... and of a message without parts whose body is text, no more than a body of
# mail.MAX_MESSAGE_CHARS can use: HTML_CHARS_PER_TEXT_CHAR times 100,000 characters of HTML, up
# to 4 bytes a character in UTF-8, base64 adding a third: 5.3 MB.
MAX_TEXT_BODY_BYTES = 6_000_000
_HEADER_END_RE = re.compile(rb"\r?\n\r?\n")
_CONTENT_TYPE_RE = re.compile(rb"^content-type:\s*([^\s;]*)", re.IGNORECASE | re.MULTILINE)


def bounded_message(raw: bytes) -> bytes:
    """``raw`` without what would only cost memory to parse: a header block beyond
    MAX_HEADER_BLOCK_BYTES, and a text body (of a message without parts) beyond
    MAX_TEXT_BODY_BYTES; a message with parts (attachments) is left whole."""
    end = _HEADER_END_RE.search(raw, 0, MAX_HEADER_BLOCK_BYTES)
    if end is None:
        return raw[:MAX_HEADER_BLOCK_BYTES]
    if len(raw) - end.end() <= MAX_TEXT_BODY_BYTES:
        return raw
    content_type = _CONTENT_TYPE_RE.search(raw, 0, end.start())
    if content_type is None or content_type[1].lower().startswith(b"text/"):
        return raw[: _cut_point(raw, end.end(), end.end() + MAX_TEXT_BODY_BYTES)]
    return raw


def _cut_point(raw: bytes, start: int, limit: int) -> int:
    """Where to cut ``raw`` at most at ``limit``: after a line in the second half of the body
    kept, else between two UTF-8 characters (a body cut inside one would not decode as UTF-8
    and be read as cp1252 instead)."""
    line_end = raw.rfind(b"\n", (start + limit) // 2, limit)
    if line_end > 0:
        return line_end + 1
    while limit > start and 0x80 <= raw[limit] < 0xC0:  # a continuation byte
        limit -= 1
    return limit


def looks_like_mail(message: EmailMessage) -> bool:
    """True when the parsed message has at least one e-mail or MIME header."""
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


class Body(NamedTuple):
    text: str
    part: EmailMessage | None  # the part the text came from (None: no readable body)
    complete: bool  # False: cut at the length asked for


def body_text(message: EmailMessage, max_chars: int) -> Body:
    """The readable body (plain text preferred, else HTML as text) and the part it came from,
    cut to about ``max_chars`` characters (at a line or word end).

    Further inline text/plain parts outside multipart/alternative (Apple Mail splits the body
    around inline images; mailing lists append footers) are appended to it. A message with
    neither (only text/enriched, text/x-whatever parts) has those as its body.
    """
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except Exception as exc:  # defective MIME structure
        log.debug("no body found: %r", exc)
        part = None
    extras: Iterable[EmailMessage] = _extra_text_parts(message, part)
    if part is None:
        try:
            other_texts = _unnamed_text_parts(message)
        except Exception as exc:  # defective MIME structure: no body, the rest still counts
            log.debug("no text parts found: %r", exc)
            other_texts = []
        part, extras = (other_texts[0], other_texts[1:]) if other_texts else (None, ())
    texts = []
    complete = True
    if part is not None:
        text = part_text(part)
        if part.get_content_subtype() == "html":
            # Converting HTML is slow (about 1 MB a second): only so much of it is read.
            html_limit = max_chars * HTML_CHARS_PER_TEXT_CHAR
            complete = len(text) <= html_limit
            text = html_to_text(text[:html_limit])
        texts.append(text)
    for extra in extras:
        if sum(len(text) for text in texts) > max_chars:
            complete = False
            break
        texts.append(part_text(extra))
    text = "\n\n".join(t.strip() for t in texts if t.strip())
    if len(text) > max_chars:
        text, complete = cut_text(text, max_chars), False
    return Body(text, part, complete)


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


def _unnamed_text_parts(message: EmailMessage) -> list[EmailMessage]:
    """Text parts that are no attached file, in order (HTML aside: get_body finds that; an
    attached message's own parts aside: they are its body, not this one's)."""
    if message.is_multipart():
        if message.get_content_maintype() != "multipart":  # message/rfc822: attached
            return []
        return [found for part in message.iter_parts() for found in _unnamed_text_parts(part)]
    text = message.get_content_maintype() == "text" and message.get_content_subtype() != "html"
    return [message] if text and not _is_attachment(message) else []


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
    # No file system takes longer names; a longer one is damage, repeated in titles and notes.
    name = name[:MAX_NAME_CHARS]
    return name if name.strip(".") else "attachment"
