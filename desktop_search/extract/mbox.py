"""mbox files split into their messages: from bytes in memory, or streamed from an open file.

An mbox is messages one after another, each after an envelope line ("From sender date"), with
"From " at the start of a body line quoted as ">From " (mboxrd; mboxo quotes only some). A
mailbox lives for years: Thunderbird keeps each folder as one mbox file, often of several GB.
Such a file is never read whole: ``open_mailbox`` hashes it in chunks and keeps it open, and
``iter_mailbox`` reads it a line at a time, holding one message at most (and that one cut at
MAX_STREAMED_MESSAGE_BYTES), so a mailbox of any size is read in bounded memory.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from desktop_search.extract.images import file_read_error

log = logging.getLogger(__name__)

_FROM_LINE_RE = re.compile(rb"^From [^\r\n]*", re.MULTILINE)
_MBOX_START_RE = re.compile(rb"\s*From ")
_LINE_REST_RE = re.compile(rb"[^\r\n]*")
_TIME_OF_DAY_RE = re.compile(rb"\b\d{1,2}:\d{2}\b")
_HEADER_LINE_RE = re.compile(rb"[\x21-\x39\x3b-\x7e]+:")
_QUOTED_FROM_RE = re.compile(rb"^>(>*From )", re.MULTILINE)
_QUOTED_FROM_LINE_RE = re.compile(rb">+From ")
_BLANK_LINES = (b"\n", b"\r\n")

# One message of a streamed mailbox is held in memory at most this far; the rest of it is
# skipped up to the next message, with a note. Mail servers refuse messages beyond 25-50 MB
# (a third more once base64-encoded), and parsing one costs a dozen times its size
# (mail_parts.py): 100 MB stays well inside a reader's 3 GB.
MAX_STREAMED_MESSAGE_BYTES = 100 * 1024**2
# Bytes asked of the file at a time: a line longer than this (a file without line breaks)
# comes in pieces instead of all at once.
READ_BYTES = 1024**2


def is_mbox(data: bytes) -> bool:
    """True when the bytes start like an mbox file (an envelope "From " line)."""
    return _MBOX_START_RE.match(data) is not None


def iter_mbox(data: bytes) -> Iterator[bytes]:
    """The raw messages of an mbox file one by one, with ">From " quoting undone (mboxrd and
    mboxo). Each is copied out only when it is asked for, so a large mbox is never held twice
    (its messages are parsed and dropped one at a time).

    A "From " line separates messages when a header line follows it and it either follows a blank
    line or carries an envelope time of day: writers that forget to quote "From " in bodies
    would otherwise split messages in two.
    """
    first = _MBOX_START_RE.match(data)
    if first is None:
        return
    start = first.end() - len(b"From ")  # the first envelope line, after leading blank space
    envelope_end = _LINE_REST_RE.match(data, start).end()
    for match in _FROM_LINE_RE.finditer(data, envelope_end):
        if _is_separator(data, match):
            yield _QUOTED_FROM_RE.sub(rb"\1", data[_line_end(data, envelope_end) : match.start()])
            envelope_end = match.end()
    yield _QUOTED_FROM_RE.sub(rb"\1", data[_line_end(data, envelope_end) :])


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


# -- streamed from a file ---------------------------------------------------------------------


@dataclass
class MailboxFile:
    """An mbox file opened and hashed, to be read message by message (``iter_mailbox``).

    The file stays open from its hash to its reading, so what is read is the file that was
    hashed even if a mail client replaces it meanwhile (Thunderbird compacts a folder into a
    new file); messages appended after the hash (past ``length``) wait for the next run.
    """

    path: str
    file: BinaryIO
    length: int  # bytes hashed, and read
    digest: str  # sha256 hex digest of those bytes

    def close(self) -> None:
        self.file.close()


def open_mailbox(path: str) -> MailboxFile:
    """``path`` opened and hashed in chunks (never read whole). Raises FileNotIndexableError
    with the reason a whole read would give (permission, vanished, I/O error)."""
    try:
        file = open(path, "rb")  # noqa: SIM115 - kept open until the mailbox is read
    except OSError as error:
        raise file_read_error(error) from None
    try:
        digest = hashlib.file_digest(file, "sha256")
        length = file.tell()
        file.seek(0)
    except OSError as error:
        file.close()
        raise file_read_error(error) from None
    except BaseException:
        file.close()
        raise
    return MailboxFile(path, file, length, digest.hexdigest())


def iter_mailbox(mailbox: MailboxFile, notes: list[str]) -> Iterator[bytes]:
    """The raw messages of an open mbox, read a line at a time, split and unquoted as
    ``iter_mbox`` does. A file that does not start with a "From " line is one message. A
    message beyond MAX_STREAMED_MESSAGE_BYTES is cut there (noted in ``notes``)."""
    mailbox.file.seek(0)
    return split_mbox_lines(_pieces(mailbox.file, mailbox.length), notes)


def _pieces(file: BinaryIO, length: int) -> Iterator[bytes]:
    """The file's first ``length`` bytes as lines (their line break kept), a line longer than
    READ_BYTES in several pieces."""
    left = length
    while left > 0:
        piece = file.readline(min(READ_BYTES, left))
        if not piece:  # the file was cut short since it was hashed
            log.debug("mailbox ended %d bytes early", left)
            return
        left -= len(piece)
        yield piece


def split_mbox_lines(pieces: Iterable[bytes], notes: list[str]) -> Iterator[bytes]:
    """Raw messages from the lines of an mbox (each line with its line break; a long line may
    come in pieces, only the first of which starts a line). See ``iter_mailbox``."""
    lines = iter(pieces)
    first = next((piece for piece in lines if piece.strip()), None)
    if first is None:  # empty, or only blank space
        return
    message = _MessageBuffer(notes)
    if not first.lstrip().startswith(b"From "):  # not an mbox: the whole file is one message
        message.add(first, line_start=False)
        for piece in lines:
            message.add(piece, line_start=False)
        yield message.take()
        return
    at_line_start = first.endswith(b"\n")  # the first envelope line is dropped
    envelope: bytes | None = None  # a "From " line that may start the next message
    envelope_after_blank = False
    previous_blank = False
    for piece in lines:
        starts_line, at_line_start = at_line_start, piece.endswith(b"\n")
        if envelope is not None:
            if (
                starts_line
                and _HEADER_LINE_RE.match(piece)
                and (envelope_after_blank or _TIME_OF_DAY_RE.search(envelope))
            ):
                yield message.take()
            else:  # a body line that happens to start with "From ": part of the message
                message.add(envelope, line_start=True)
            envelope = None
        if starts_line and piece.startswith(b"From ") and at_line_start:
            envelope, envelope_after_blank = piece, previous_blank
            previous_blank = False
            continue
        message.add(piece, line_start=starts_line)
        previous_blank = starts_line and piece in _BLANK_LINES
    if envelope is not None:
        message.add(envelope, line_start=True)
    yield message.take()


class _MessageBuffer:
    """The lines of the message being read, unquoted, cut at MAX_STREAMED_MESSAGE_BYTES."""

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes
        self.lines: list[bytes] = []
        self.size = 0
        self.cut = False
        self.number = 1  # of the message being read, as notes count them

    def add(self, piece: bytes, *, line_start: bool) -> None:
        if self.cut:
            return
        if line_start and _QUOTED_FROM_LINE_RE.match(piece):
            piece = piece[1:]
        if self.size + len(piece) > MAX_STREAMED_MESSAGE_BYTES:
            self.cut = True
            self.notes.append(f"message {self.number}: only its first "
                              f"{MAX_STREAMED_MESSAGE_BYTES / 1024**2:g} MB are read")  # fmt: skip
            return
        self.lines.append(piece)
        self.size += len(piece)

    def take(self) -> bytes:
        data = b"".join(self.lines)
        self.lines, self.size, self.cut = [], 0, False
        self.number += 1
        return data
