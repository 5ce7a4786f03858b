"""Chat messages from a WhatsApp "Export chat" text file.

Each message starts with a timestamp header whose shape depends on the phone and its locale::

    12/31/23, 9:41 PM - Alice: hi           Android, US (U+202F before PM on newer phones)
    31/12/2023, 21:41 - Alice: hi           Android, most of Europe
    31.12.23, 21:41 - Alice: hi             Android, German
    [31/12/2023, 21:41:07] Alice: hi        iPhone (also [12/31/23, 9:41:07 PM])

One regex covers all of them; lines without a header continue the previous message. Whether
the date is day-first or month-first is decided once per file (see :func:`_day_first`), so a
100k-message export parses without any per-line format guessing.

System lines ("Alice created group ...") are kept with sender ""; the end-to-end-encryption
notice every chat starts with is dropped (identical boilerplate in every chat).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from pathlib import PurePath

from desktop_search.extract.chat_formats import ChatMessage

log = logging.getLogger(__name__)

_HEADER = re.compile(
    r"[\u200e\u200f\ufeff]*"  # iOS puts a left-to-right mark before some lines; BOM on line 1
    r"(\[)?"  # iOS wraps the timestamp in brackets
    r"(\d{1,4})([./-])(\d{1,2})\3(\d{2,4}),?[ \u00a0]"  # date: a/b/c in the locale's order
    r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?"  # time, seconds on iOS
    r"(?:[ \u202f\u00a0]?([AaPp])\.?[ \u202f\u00a0]?[Mm]\.?)?"  # AM/PM, "p. m." in Spanish
    r"(?(1)\][ \u00a0]|[ \u00a0][-\u2013][ \u00a0])"  # "] " after brackets, " - " otherwise
)
# Invisible formatting characters around names and texts (phone numbers come wrapped in
# U+202A ... U+202C, iOS marks attachments and system texts with U+200E).
_INVISIBLE = "\u200e\u200f\u202a\u202b\u202c\u2066\u2067\u2068\u2069\ufeff"
_ENCRYPTION_NOTICES = (
    "Messages and calls are end-to-end encrypted",
    "Messages to this group are now secured with end-to-end encryption",
    "Messages to this chat and calls are now secured with end-to-end encryption",
)
# A file name is at most 255 characters: the bound keeps the search linear in a long line
# holding many "<attached: " without a ">" (unbounded, each would scan to the line's end).
_ATTACHED = re.compile(r"<attached: ([^>]{1,255})>")
_FILE_ATTACHED = " (file attached)"
_OMITTED_WORDS = {
    "image omitted": "photo",
    "video omitted": "video",
    "audio omitted": "audio",
    "sticker omitted": "sticker",
    "gif omitted": "GIF",
    "document omitted": "file",
    "contact card omitted": "contact",
    "<media omitted>": "media",
}
_PHOTO_EXTENSIONS = {"jpg", "jpeg", "png", "heic", "heif", "gif", "bmp"}
_VIDEO_EXTENSIONS = {"mp4", "mov", "3gp", "avi", "mkv", "webm"}
_AUDIO_EXTENSIONS = {"opus", "ogg", "m4a", "mp3", "aac", "amr", "wav"}
_CHAT_NAME_FROM_FILE = re.compile(
    r"^(?:WhatsApp Chat (?:with|mit|avec|met|con|com|med|z|ze|с) "
    r"|Chat de WhatsApp con |Conversa do WhatsApp com |WhatsApp Chat - )(.+?)"
    r"(?: \(\d+\))?(?:\.txt|\.zip)?$",
    re.IGNORECASE,
)


def looks_like_whatsapp(text: str) -> bool:
    """Whether the text starts like a WhatsApp export: its first non-empty line has a header."""
    for line in text[:4096].split("\n"):
        if line.strip().strip(_INVISIBLE):
            match = _HEADER.match(line)
            return match is not None and _plausible(match)
    return False


def _plausible(match: re.Match[str]) -> bool:
    first, second, third = int(match[2]), int(match[4]), int(match[5])
    if len(match[2]) == 4:  # year first: 2023-12-31
        return 1 <= second <= 12 and 1 <= third <= 31 and int(match[6]) <= 24
    return 1 <= first <= 31 and 1 <= second <= 31 and int(match[6]) <= 24


def whatsapp_chat_name(file_name: str, messages: list[ChatMessage]) -> str:
    """The chat's name: from "WhatsApp Chat with Alice.txt", else its participants."""
    match = _CHAT_NAME_FROM_FILE.match(PurePath(file_name).name)
    if match:
        return match[1].strip()
    senders = list(dict.fromkeys(m.sender for m in messages if m.sender))
    if senders:
        return ", ".join(senders[:3]) + (", …" if len(senders) > 3 else "")
    return PurePath(file_name).stem or "WhatsApp chat"


def parse_whatsapp(text: str) -> list[ChatMessage]:
    """The messages of a WhatsApp export, in file order (lines before the first header ignored)."""
    headers: list[re.Match[str]] = []
    bodies: list[list[str]] = []  # each message's lines
    starts: list[int] = []  # each message's first line (1-based): a text editor opens there
    max_first = max_second = 0
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        match = _HEADER.match(line)
        if match is None:
            if bodies:
                bodies[-1].append(line)
            continue
        headers.append(match)
        starts.append(number)
        bodies.append([line[match.end() :]])
        if len(match[2]) <= 2:  # not year-first
            first, second = int(match[2]), int(match[4])
            if first > max_first:
                max_first = first
            if second > max_second:
                max_second = second
    if not headers:
        return []
    day_first = _day_first(headers[0], max_first, max_second)
    messages: list[ChatMessage] = []
    for match, lines, start in zip(headers, bodies, starts, strict=True):
        message = _message(len(messages), _header_time(match, day_first), lines)
        if message is not None:
            message.line = start
            messages.append(message)
    return messages


def _day_first(first_header: re.Match[str], max_first: int, max_second: int) -> bool:
    """Day/month order of the whole file.

    A first field above 12 anywhere proves day-first; otherwise a second field above 12 proves
    month-first; otherwise (every date has both fields <= 12) the format's convention decides:
    a 12-hour clock means a US phone (month-first), a 24-hour clock day-first.
    """
    if max_first > 12:
        return True
    if max_second > 12:
        return False
    return first_header[9] is None


def _header_time(match: re.Match[str], day_first: bool) -> datetime | None:
    first, second, third = int(match[2]), int(match[4]), int(match[5])
    if len(match[2]) == 4:
        year, month, day = first, second, third
    elif day_first:
        day, month, year = first, second, third
    else:
        month, day, year = first, second, third
    if year < 100:
        year += 2000
    hour = int(match[6])
    meridiem = match[9]
    if meridiem is not None:
        hour = hour % 12 + (12 if meridiem in "Pp" else 0)  # 12 AM is midnight, 12 PM noon
    try:
        return datetime(year, month, day, hour, int(match[7]), int(match[8] or 0))
    except ValueError:  # a date that does not exist (hand-edited export, mixed formats)
        return None


def _message(index: int, time: datetime | None, lines: list[str]) -> ChatMessage | None:
    body = lines[0]
    sender, separator, first_line = body.partition(": ")
    # A system line has no "Sender: " prefix, but may quote text with a colon in it
    # (Alice changed the subject to "Trip: June"), so a quote in the prefix means no sender.
    if not separator or '"' in sender or "\u201c" in sender or len(sender) > 100:
        sender, first_line = "", body
    else:
        sender = sender.strip(_INVISIBLE)
    first_line = first_line.lstrip(_INVISIBLE)
    if first_line.startswith(_ENCRYPTION_NOTICES):
        return None
    media = None
    if "omitted" in first_line or "attached" in first_line:
        media, first_line = _media(first_line)
    # Continuation lines belong to this message; trailing blank lines are the file's end.
    text = "\n".join([first_line, *lines[1:]]).rstrip() if len(lines) > 1 else first_line
    return ChatMessage(index, time, sender, text, media)


def _media(line: str) -> tuple[str | None, str]:
    """(media name, text with a readable word for the attachment) of a message's first line."""
    stripped = line.strip().rstrip(_INVISIBLE)
    word = _OMITTED_WORDS.get(stripped.lower())
    if word is not None:
        return stripped, f"[{word}]"
    attached = _ATTACHED.search(line)
    if attached:  # iPhone: "<attached: 00000012-PHOTO-2023-12-31-21-41-07.jpg>", maybe a caption
        name = attached[1].strip()
        caption = (line[: attached.start()] + line[attached.end() :]).strip(" " + _INVISIBLE)
        return name, _media_text(name, caption)
    if stripped.endswith(_FILE_ATTACHED):  # Android: "IMG-20231231-WA0001.jpg (file attached)"
        name = stripped[: -len(_FILE_ATTACHED)].strip(_INVISIBLE)
        return name, _media_text(name, "")
    return None, line


def _media_text(file_name: str, caption: str) -> str:
    word = _media_word(file_name)
    if word == "file":  # a document's name says what it is: keep it searchable
        word = f"file {file_name}"
    return f"[{word}] {caption}".rstrip()


def _media_word(file_name: str) -> str:
    upper = file_name.upper()
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if "STICKER" in upper or upper.startswith("STK-"):
        return "sticker"
    if upper.startswith("PTT-") or "-AUDIO-" in upper:
        return "voice message"
    if "-GIF-" in upper:
        return "GIF"
    if extension in _PHOTO_EXTENSIONS or "-PHOTO-" in upper:
        return "photo"
    if extension in _VIDEO_EXTENSIONS or "-VIDEO-" in upper:
        return "video"
    if extension in _AUDIO_EXTENSIONS:
        return "audio"
    if extension == "vcf":
        return "contact"
    return "file"
