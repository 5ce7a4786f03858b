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
from desktop_search.extract.chunking import approximate_tokens, chunk_text
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
    """The conversation windows of a WhatsApp export already decoded to text."""
    messages = parse_whatsapp(text)
    if not messages:
        raise FileNotIndexableError("not a chat export: no WhatsApp messages found")
    return _document([ParsedChat(whatsapp_chat_name(name, messages), messages)], name)


def _document(chats: list[ParsedChat], file_name: str) -> Document:
    chats = [chat for chat in chats if chat.messages]
    if not chats:
        raise FileNotIndexableError("chat export without messages")
    items: list[TextItem] = []
    for chat_index, chat in enumerate(chats):
        windows = conversation_windows(chat.messages, chat.name)
        if len(chats) > 1:  # chat names need not be unique: the position tells the chats apart
            for window in windows:
                window.locator["chat_index"] = chat_index
        items += windows
    title = chats[0].name if len(chats) == 1 else PurePath(file_name).name
    first_times = [_first_time(chat.messages) for chat in chats]
    known = [time for time in first_times if time is not None]
    created = _iso(min(known)) if known else None
    log.debug("%s: %d chats, %d windows", file_name, len(chats), len(items))
    return Document(kind=CHAT, title=title, items=items, created_at=created)


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
