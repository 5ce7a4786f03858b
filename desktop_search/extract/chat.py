"""Chat exports (WhatsApp, Telegram, Messenger) as conversation windows.

Single chat messages are too short to embed or to show alone ("ok", "see you there"), so
consecutive messages are grouped into *windows* of a few hundred tokens: a window ends at a
pause in the conversation (a gap longer than ``max_gap``) or when it is full. A window's text is
one "Sender: text" line per message, without timestamps (they would only add noise to the
embedding); the time range and the message indices go into the item's fields and locator.

The parsers are in ``chat_whatsapp`` and ``chat_formats``; this module picks the format
(:func:`detect_chat_format`) and turns every chat of a file into windows.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import PurePath

from desktop_search.errors import FileNotIndexableError
from desktop_search.extract.chat_formats import (
    ChatMessage,
    ParsedChat,
    parse_messenger,
    parse_telegram,
)
from desktop_search.extract.chat_whatsapp import (
    looks_like_whatsapp,
    parse_whatsapp,
    whatsapp_chat_name,
)
from desktop_search.extract.chunking import approximate_tokens, chunk_text, cut_text
from desktop_search.extract.document import CHAT, WINDOW, Document, TextItem

log = logging.getLogger(__name__)

_SNIFF_BYTES = 8192
_WHITESPACE = re.compile(r"\s+")
_MESSENGER_FILE = re.compile(r"^message_\d+\.json$", re.IGNORECASE)
# Keys only Telegram's export writes, near the top of the file (first message or account info).
_TELEGRAM_MARKERS = (
    '"date_unixtime"',
    '"from_id"',
    '"actor_id"',
    '"personal_information"',
    '"text_entities"',
)
_MESSENGER_MARKERS = ('"sender_name"', '"senderName"', '"timestamp_ms"')

# Text of one message that is indexed: WhatsApp's own limit on a message (Telegram's is 4,096).
# A longer "message" is damage, such as an export whose message headers stop, leaving the rest
# of the file as one message's continuation lines.
MAX_CHAT_MESSAGE_CHARS = 65_536
# Message text indexed from one export file: about 12,500 windows, some 4 minutes of the text
# model on 2 cores (benchmarks/README.md: 54.5 windows a second). A 100,000-message WhatsApp
# export (8.9 MiB) fits whole; five times a text file's 2 million, as a chat is many
# conversations, each worth finding. Later messages (and chats) are not indexed.
MAX_CHAT_FILE_CHARS = 10_000_000
# Chat names and senders are repeated on every window; longer ones are damage (Telegram allows
# 128 characters for a group's name, WhatsApp 100).
MAX_NAME_CHARS = 200


def detect_chat_format(name: str, data: bytes) -> str | None:
    """The chat app that wrote the file ("whatsapp", "telegram", "messenger"), or None.

    Decided from the file name and the first 8 KB, so it is cheap to call on every file.
    """
    file_name = PurePath(name).name
    suffix = PurePath(file_name).suffix.lower()
    head = data[:_SNIFF_BYTES].decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if suffix == ".txt":
        return "whatsapp" if looks_like_whatsapp(head) else None
    if suffix != ".json" or not head.startswith("{"):
        return None
    if '"participants"' in head and any(marker in head for marker in _MESSENGER_MARKERS):
        return "messenger"
    if any(marker in head for marker in _TELEGRAM_MARKERS):
        return "telegram"
    # An export too small (or too unusual) to show its keys: trust the name the app gives it.
    if _MESSENGER_FILE.match(file_name) and '"participants"' in head:
        return "messenger"
    if file_name.lower() == "result.json" and '"messages"' in head:
        return "telegram"
    return None


def extract_chat(data: bytes, name: str) -> Document:
    """The conversation windows of a chat export file (all chats of a multi-chat export).

    Raises FileNotIndexableError when the file is no chat export or holds no messages.
    """
    chat_format = detect_chat_format(name, data)
    if chat_format is None:
        raise FileNotIndexableError(
            f"not a chat export: {PurePath(name).name} is no WhatsApp, Telegram or Messenger export"
        )
    text = data.decode("utf-8", "replace")  # a few broken bytes must not lose the whole chat
    if chat_format == "whatsapp":
        return extract_chat_text(text, name)
    try:
        export = json.loads(text.lstrip("\ufeff"))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise FileNotIndexableError(f"not a chat export: damaged JSON ({exc})") from exc
    chats = parse_telegram(export) if chat_format == "telegram" else [parse_messenger(export)]
    return _document(chats, name)


def extract_chat_text(text: str, name: str) -> Document:
    """The conversation windows of a WhatsApp export already decoded to text (only its first
    MAX_CHAT_FILE_CHARS are read, like a text file's)."""
    notes = []
    if len(text) > MAX_CHAT_FILE_CHARS:
        text = cut_text(text, MAX_CHAT_FILE_CHARS)
        notes.append(_file_cut_note())
    messages = parse_whatsapp(text)
    if not messages:
        raise FileNotIndexableError("not a chat export: no WhatsApp messages found")
    document = _document([ParsedChat(whatsapp_chat_name(name, messages), messages)], name)
    document.notes[:0] = notes
    return document


def _file_cut_note() -> str:
    return f"only the first {MAX_CHAT_FILE_CHARS:,} characters are indexed"


def _capped(chats: list[ParsedChat], notes: list[str]) -> list[ParsedChat]:
    """The chats with MAX_NAME_CHARS, MAX_CHAT_MESSAGE_CHARS and MAX_CHAT_FILE_CHARS applied
    (messages cut in place), and notes saying what was left out."""
    capped: list[ParsedChat] = []
    total, cut_messages = 0, 0
    for chat in chats:
        messages = []
        for message in chat.messages:
            if total >= MAX_CHAT_FILE_CHARS:
                break
            if len(message.text) > MAX_CHAT_MESSAGE_CHARS:
                message.text = cut_text(message.text, MAX_CHAT_MESSAGE_CHARS)
                cut_messages += 1
            message.sender = message.sender[:MAX_NAME_CHARS]
            total += len(message.text)
            messages.append(message)
        if messages:
            capped.append(ParsedChat(chat.name[:MAX_NAME_CHARS], messages))
        if len(messages) < len(chat.messages):
            notes.append(_file_cut_note())
            break
    if cut_messages:
        notes.append(f"{cut_messages:,} messages longer than {MAX_CHAT_MESSAGE_CHARS:,} "
                     "characters are indexed in part")  # fmt: skip
    return capped


def _document(chats: list[ParsedChat], file_name: str) -> Document:
    chats = [chat for chat in chats if chat.messages]
    if not chats:
        raise FileNotIndexableError("chat export without messages")
    several = len(chats) > 1  # decided before the cap drops any: locators stay alike
    notes: list[str] = []
    chats = _capped(chats, notes)
    items: list[TextItem] = []
    for chat_index, chat in enumerate(chats):
        windows = conversation_windows(chat.messages, chat.name)
        if several:  # chat names need not be unique: the position tells the chats apart
            for window in windows:
                window.locator["chat_index"] = chat_index
        items += windows
    title = PurePath(file_name).name if several else chats[0].name
    first_times = [_first_time(chat.messages) for chat in chats]
    known = [time for time in first_times if time is not None]
    created = _iso(min(known)) if known else None
    log.debug("%s: %d chats, %d windows", file_name, len(chats), len(items))
    return Document(kind=CHAT, title=title, items=items, created_at=created, notes=notes)


def _first_time(messages: list[ChatMessage]) -> datetime | None:
    return next((m.time for m in messages if m.time is not None), None)


def conversation_windows(
    messages: Sequence[ChatMessage],
    chat_name: str,
    *,
    max_gap: timedelta = timedelta(hours=2),
    max_tokens: int = 200,
    max_messages: int = 40,
) -> list[TextItem]:
    """Group consecutive messages into WINDOW items.

    A window ends before a message that follows the previous one by more than ``max_gap``, or
    that would take it past ``max_tokens`` (estimated word pieces) or ``max_messages``. A
    message longer than ``max_tokens`` on its own becomes several windows (its text cut at
    sentence boundaries, each piece prefixed with the sender), all with that one message's
    index as first and last.
    """
    count_tokens = _WordCachedCounter()
    windows: list[TextItem] = []
    current: list[tuple[ChatMessage, str]] = []
    tokens = 0
    previous_time: datetime | None = None
    for message in messages:
        line = _line(message.sender, message.text)
        count = count_tokens(line)
        pause = (
            message.time is not None
            and previous_time is not None
            and message.time - previous_time > max_gap
        )
        if current and (pause or tokens + count > max_tokens or len(current) >= max_messages):
            windows.append(_window(current, chat_name))
            current, tokens = [], 0
        if message.time is not None:
            previous_time = message.time
        if count > max_tokens:
            for piece in _split_long_message(message, max_tokens):
                windows.append(_window([(message, piece)], chat_name))
            continue
        current.append((message, line))
        tokens += count
    if current:
        windows.append(_window(current, chat_name))
    return windows


class _WordCachedCounter:
    """:func:`approximate_tokens` of a text, as the sum of its words' counts, cached per word.

    Word-piece tokenizers split on whitespace first, so a text's count is the sum of its
    whitespace-separated words' counts; chat vocabulary repeats a lot ("ok", names, "[photo]"),
    which makes this several times faster than counting every line afresh.
    """

    _MAX_WORDS = 200_000  # the cache of one chat stays a few MB

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        counts = self._counts
        if len(counts) > self._MAX_WORDS:
            counts.clear()
        total = 0
        for word in text.split():
            count = counts.get(word)
            if count is None:
                count = counts[word] = approximate_tokens(word)
            total += count
        return total


def _line(sender: str, text: str) -> str:
    # One line per message: a multi-line message's line breaks become spaces.
    text = _WHITESPACE.sub(" ", text).strip() if "\n" in text or "  " in text else text.strip()
    return f"{sender}: {text}" if sender else text


def _split_long_message(message: ChatMessage, max_tokens: int) -> list[str]:
    prefix = f"{message.sender}: " if message.sender else ""
    budget = max(1, max_tokens - approximate_tokens(prefix))
    pieces = chunk_text(message.text, max_tokens=budget, overlap_tokens=min(40, budget // 5))
    return [prefix + piece for piece in pieces] or [_line(message.sender, message.text)]


def _window(entries: list[tuple[ChatMessage, str]], chat_name: str) -> TextItem:
    times = [message.time for message, _ in entries if message.time is not None]
    start = _iso(times[0]) if times else None
    end = _iso(times[-1]) if times else None
    senders = tuple(dict.fromkeys(message.sender for message, _ in entries if message.sender))
    locator = {
        "chat": chat_name,
        "first": entries[0][0].index,
        "last": entries[-1][0].index,
        "start": start,
        "end": end,
    }
    if entries[0][0].line is not None:  # a text export: where an editor opens at the window
        locator["line"] = entries[0][0].line
    return TextItem(
        kind=WINDOW,
        text="\n".join(line for _, line in entries),
        locator=locator,
        title=chat_name,
        started_at=start,
        ended_at=end,
        senders=senders,
    )


def _iso(time: datetime) -> str:
    return time.isoformat(timespec="seconds")
