"""Chat messages from JSON chat exports: Telegram Desktop and Facebook Messenger / Instagram.

Both parsers take the already decoded JSON and return :class:`ParsedChat` records (chat name and
messages in chronological order); the WhatsApp text parser lives in ``chat_whatsapp``, the
format detection and the conversation windows in ``chat``. A structure that is not the expected
export raises :class:`~desktop_search.errors.FileNotIndexableError`; single odd messages inside a
valid export are skipped rather than failing the file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from desktop_search.errors import FileNotIndexableError

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ChatMessage:
    """One chat message; ``index`` is its 0-based position in the parser's (chronological) list.

    ``time`` is naive local time. ``media`` names an attachment (file name or placeholder), in
    which case ``text`` starts with a readable word like "[photo]" (plus any caption).
    ``sender`` is "" for system lines ("Alice created group ...").
    """

    index: int
    time: datetime | None
    sender: str
    text: str
    media: str | None = None
    line: int | None = None  # 1-based line of a text export where the message starts


class ParsedChat(NamedTuple):
    name: str
    messages: list[ChatMessage]


# ---- Telegram Desktop (result.json) ---------------------------------------------------------

# Telegram's media_type values and the word shown (and embedded) in their place.
_TELEGRAM_MEDIA_WORDS = {
    "sticker": "sticker",
    "voice_message": "voice message",
    "video_message": "video message",
    "video_file": "video",
    "animation": "GIF",
    "audio_file": "audio",
}
_TELEGRAM_CHAT_NAMES = {"saved_messages": "Saved Messages", "replies": "Replies"}


def parse_telegram(export: Any) -> list[ParsedChat]:
    """The chats of a Telegram Desktop JSON export: a single chat or a full account export.

    Service messages (joins, pins, calls: an action code and no text) are skipped.
    """
    if not isinstance(export, dict):
        raise FileNotIndexableError("not a chat export: Telegram JSON is not an object")
    if isinstance(export.get("messages"), list):
        chats = [export]
    else:
        chats = []
        for section in ("chats", "left_chats"):
            listed = export.get(section)
            if isinstance(listed, dict) and isinstance(listed.get("list"), list):
                chats += [chat for chat in listed["list"] if isinstance(chat, dict)]
        if not chats and not isinstance(export.get("chats"), dict):
            raise FileNotIndexableError("not a chat export: Telegram JSON without messages")
    return [ParsedChat(_telegram_chat_name(chat), _telegram_messages(chat)) for chat in chats]


def _telegram_chat_name(chat: dict[str, Any]) -> str:
    name = chat.get("name")
    if isinstance(name, str) and name:
        return name
    return _TELEGRAM_CHAT_NAMES.get(str(chat.get("type")), f"Telegram chat {chat.get('id', '')}")


def _telegram_messages(chat: dict[str, Any]) -> list[ChatMessage]:
    raw = chat.get("messages")
    messages: list[ChatMessage] = []
    for entry in raw if isinstance(raw, list) else ():
        if not isinstance(entry, dict) or entry.get("type", "message") != "message":
            continue
        text = _telegram_text(entry.get("text")) or _poll_question(entry)
        media, word = _telegram_media(entry)
        if word:
            text = f"[{word}] {text}".rstrip()
        if not text:
            continue
        sender = entry.get("from")
        messages.append(
            ChatMessage(
                index=len(messages),
                time=_iso_time(entry.get("date")),
                sender=sender if isinstance(sender, str) else "",
                text=text,
                media=media,
            )
        )
    return messages


def _telegram_text(value: Any) -> str:
    """Message text: a string, or a list of strings and entity dicts (links, bold, mentions)."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        return ""
    parts = []
    for part in value:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            parts.append(part["text"])
    return "".join(parts)


def _telegram_media(entry: dict[str, Any]) -> tuple[str | None, str | None]:
    """(media name, readable word) of a message's attachment, or (None, None)."""
    if "photo" in entry:
        return _exported_file(entry["photo"], "photo"), "photo"
    if "poll" in entry:
        return "poll", "poll"
    if "location_information" in entry:
        return "location", "location"
    if "contact_information" in entry:
        return "contact", "contact"
    media_type = entry.get("media_type")
    if "file" not in entry and not media_type:
        return None, None
    file_name = entry.get("file_name") or _exported_file(entry.get("file"), str(media_type))
    word = _TELEGRAM_MEDIA_WORDS.get(str(media_type))
    if word is None:
        # A document: its name says what it is, so it goes into the searchable text.
        word = f"file {entry['file_name']}" if entry.get("file_name") else "file"
    return str(file_name), word


def _exported_file(path: Any, fallback: str) -> str:
    """The attachment's path in the export, or ``fallback`` when it was not exported (Telegram
    then writes "(File not included. Change data exporting settings to download.)")."""
    if not isinstance(path, str) or not path or path.startswith("(File not included"):
        return fallback
    return path


def _poll_question(entry: dict[str, Any]) -> str:
    poll = entry.get("poll")
    question = poll.get("question") if isinstance(poll, dict) else None
    return question if isinstance(question, str) else ""


def _iso_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


# ---- Facebook Messenger / Instagram (message_1.json) ----------------------------------------

# Attachment lists of a Messenger message and the word shown in their place.
_MESSENGER_MEDIA_WORDS = {
    "photos": "photo",
    "videos": "video",
    "audio_files": "audio",
    "gifs": "GIF",
    "files": "file",
    "media": "media",  # the newer (end-to-end encrypted chats) export
}


def repair_mojibake(text: str) -> str:
    """Undo Facebook's encoding bug: UTF-8 bytes written out as if each byte were a character.

    "CafÃ©" becomes "Café". Text that was not damaged does not survive the round trip (its
    latin-1 bytes are not valid UTF-8, or it has characters beyond latin-1) and comes back as is.
    """
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return text


def parse_messenger(export: Any) -> ParsedChat:
    """One conversation of a Messenger or Instagram JSON export, oldest message first.

    Handles the classic format (``sender_name``, ``timestamp_ms``, ``content``; newest first,
    mojibake strings) and the newer one (``senderName``, ``timestamp``, ``text``). Times are
    converted from the UTC epoch to this computer's local time (naive), like the other formats.
    """
    if not isinstance(export, dict) or not isinstance(export.get("messages"), list):
        raise FileNotIndexableError("not a chat export: Messenger JSON without messages")
    stamped = []
    for entry in export["messages"]:
        if isinstance(entry, dict):
            message = _messenger_message(entry)
            if message is not None:
                stamped.append(message)
    # Exports list the newest message first; reverse rather than sort, so messages sharing a
    # timestamp keep their relative order.
    if len(stamped) > 1 and stamped[0][0] > stamped[-1][0]:
        stamped.reverse()
    messages = [
        ChatMessage(index, _local_time(ms), sender, text, media)
        for index, (ms, sender, text, media) in enumerate(stamped)
    ]
    return ParsedChat(_messenger_title(export, messages), messages)


def _messenger_message(entry: dict[str, Any]) -> tuple[float, str, str, str | None] | None:
    """(timestamp in ms, sender, text, media) of one message, or None when it has nothing."""
    sender = entry.get("sender_name", entry.get("senderName"))
    text = entry.get("content", entry.get("text"))
    timestamp = entry.get("timestamp_ms", entry.get("timestamp"))
    text = repair_mojibake(text) if isinstance(text, str) else ""
    media = word = None
    for key, key_word in _MESSENGER_MEDIA_WORDS.items():
        attached = entry.get(key)
        if isinstance(attached, list) and attached:
            first = attached[0] if isinstance(attached[0], dict) else {}
            media, word = str(first.get("uri", key)), key_word
            break
    if media is None and isinstance(entry.get("sticker"), dict):
        media, word = str(entry["sticker"].get("uri", "sticker")), "sticker"
    if word:
        text = f"[{word}] {text}".rstrip()
    if not text:
        return None
    stamp = float(timestamp) if isinstance(timestamp, int | float) else float("nan")
    return stamp, repair_mojibake(sender) if isinstance(sender, str) else "", text, media


def _local_time(milliseconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(milliseconds / 1000).replace(microsecond=0)
    except (ValueError, OverflowError, OSError):  # NaN (no timestamp) or out of range
        return None


def _messenger_title(export: dict[str, Any], messages: list[ChatMessage]) -> str:
    title = export.get("title", export.get("threadName"))
    if isinstance(title, str) and title:
        return repair_mojibake(title)
    names = []
    participants = export.get("participants")
    for participant in participants if isinstance(participants, list) else ():
        name = participant.get("name") if isinstance(participant, dict) else participant
        if isinstance(name, str):
            names.append(repair_mojibake(name))
    names = names or list(dict.fromkeys(m.sender for m in messages if m.sender))
    return ", ".join(names) or "Messenger chat"
