"""Chat exports as the apps write them: WhatsApp text, Telegram and Messenger JSON.

Messages are given as ``(time, sender, text)`` tuples (sender "" for a WhatsApp system line),
optionally with a fourth element: a dict of extra JSON fields for the JSON formats (a Telegram
``{"photo": ...}`` or ``{"type": "service", ...}``, a Messenger ``{"photos": [...]}``).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

Message = tuple  # (datetime, sender, text) or (datetime, sender, text, extra fields)

ENCRYPTION_NOTICE = (
    "Messages and calls are end-to-end encrypted. No one outside of this chat, not even "
    "WhatsApp, can read or listen to them. Tap to learn more."
)
NARROW_NBSP = "\u202f"
LRM = "\u200e"


def _twelve_hour(time: datetime, seconds: bool, space: str) -> str:
    hour = time.hour % 12 or 12
    clock = f"{hour}:{time:%M:%S}" if seconds else f"{hour}:{time:%M}"
    return f"{clock}{space}{'AM' if time.hour < 12 else 'PM'}"


def whatsapp_header(time: datetime, style: str, narrow_space: bool = True) -> str:
    """The timestamp prefix of one message line in the given phone/locale style."""
    space = NARROW_NBSP if narrow_space else " "
    if style == "android_us":
        return f"{time.month}/{time.day}/{time:%y}, {_twelve_hour(time, False, space)} - "
    if style == "android_eu":
        return f"{time:%d/%m/%Y, %H:%M} - "
    if style == "german":
        return f"{time:%d.%m.%y, %H:%M} - "
    if style == "ios":
        return f"[{time:%d/%m/%Y, %H:%M:%S}] "
    if style == "ios_us":
        return f"[{time.month}/{time.day}/{time:%y}, {_twelve_hour(time, True, space)}] "
    raise ValueError(f"unknown WhatsApp style {style!r}")


def whatsapp_export(
    messages: list[Message],
    style: str = "android_us",
    *,
    encryption_notice: bool = True,
    narrow_space: bool = True,
) -> str:
    """A WhatsApp "Export chat" text file; iPhone styles use CRLF line ends like the app."""
    lines = []
    ios = style.startswith("ios")
    if encryption_notice and messages:
        header = whatsapp_header(messages[0][0], style, narrow_space)
        first_sender = next((m[1] for m in messages if m[1]), "Alice")
        notice = f"{first_sender}: {LRM}{ENCRYPTION_NOTICE}" if ios else ENCRYPTION_NOTICE
        lines.append(header + notice)
    for time, sender, text, *_ in messages:
        mark = LRM if LRM in text else ""  # iOS marks attachment lines at the line start too
        body = f"{sender}: {text}" if sender else text
        lines.append(mark + whatsapp_header(time, style, narrow_space) + body)
    return ("\r\n" if ios else "\n").join(lines) + "\n"


_SENDERS = ["Alice", "Bob", "Carla Müller", "Dmitri", "\u202a+49 170 1234567\u202c"]
_VOCABULARY = (
    "the a meeting dinner tomorrow tonight train station airport photos holiday beach mountain "
    "birthday party cake present flat keys rent invoice doctor appointment school kids homework "
    "football match tickets concert weather rain sunny late early bring need send call later "
    "sorry thanks great perfect maybe really quite almost already still again soon never "
    "Café Zürich München São Paulo naïve résumé 😂 👍 ❤️ 2023 15:30 €20 #42 www.example.org"
)
_WORDS = _VOCABULARY.split()
_OPENERS = ["", "", "", "ok ", "haha ", "yes, ", "no, ", "btw ", "hey! ", "so "]


def _sentence(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.choice([2, 3, 4, 6, 8, 12, 20]))
    return rng.choice(_OPENERS) + " ".join(words) + rng.choice(["", "", ".", "?", "!", "..."])


def big_whatsapp_export(n: int, seed: int = 0, style: str = "android_eu") -> str:
    """n messages of varied chat: short and long, multi-line, media, system lines, pauses."""
    rng = random.Random(seed)
    time = datetime(2021, 3, 1, 8, 0)
    messages = []
    for index in range(n):
        pause = rng.random()
        if pause < 0.02:
            time += timedelta(hours=rng.randint(3, 40))
        elif pause < 0.3:
            time += timedelta(minutes=rng.randint(1, 90))
        else:
            time += timedelta(seconds=rng.randint(5, 300))
        roll = rng.random()
        if roll < 0.01:
            messages.append((time, "", f"{rng.choice(_SENDERS[:4])} added Person {index}"))
            continue
        sender = rng.choice(_SENDERS)
        if roll < 0.04:
            text = rng.choice(["<Media omitted>", f"IMG-{time:%Y%m%d}-WA{index:04d}.jpg"])
            text += "" if text.startswith("<") else " (file attached)"
        elif roll < 0.09:
            text = "\n".join(_sentence(rng) for _ in range(rng.randint(2, 4)))
        else:
            text = _sentence(rng)
        messages.append((time, sender, text))
    return whatsapp_export(messages, style)


def _extra(message: Message) -> dict[str, Any]:
    return dict(message[3]) if len(message) > 3 else {}


def _telegram_chat(name: str, messages: list[Message], chat_id: int) -> dict[str, Any]:
    entries = []
    for number, message in enumerate(messages, start=1):
        time, sender, text = message[:3]
        entry = {
            "id": number,
            "type": "message",
            "date": time.isoformat(timespec="seconds"),
            "date_unixtime": str(int(time.timestamp())),
            "from": sender,
            "from_id": f"user{abs(hash(sender)) % 10**9}",
            "text": text,
            "text_entities": [{"type": "plain", "text": text}] if isinstance(text, str) else [],
        }
        entry.update(_extra(message))
        entries.append(entry)
    return {"name": name, "type": "personal_chat", "id": chat_id, "messages": entries}


def telegram_export(name: str, messages: list[Message]) -> bytes:
    """A Telegram Desktop single-chat export (result.json)."""
    return json.dumps(_telegram_chat(name, messages, 4242), ensure_ascii=False, indent=1).encode()


def escaped_telegram_export(name: str, messages: list[Message]) -> bytes:
    """result.json written with every non-ASCII character as a \\u escape, as in the wild: a
    lone surrogate (half an emoji) stays a valid JSON escape such as "\\ud83d", a NUL "\\u0000"."""
    return json.dumps(_telegram_chat(name, messages, 7), ensure_ascii=True).encode("ascii")


def cut_emoji_export() -> bytes:
    """The export that once got a library stuck: "\\ud83d" escapes (an emoji cut in half) in
    two messages; "quokkaphone" is in the second."""
    when = datetime(2024, 5, 1, 9, 30)
    return escaped_telegram_export("Trip", [
        (when, "Alice", "the ferry leaves at nine \ud83d"),
        (when, "Bob", "bring the quokkaphone charger \ud83d\ude00 and snacks"),
    ])  # fmt: skip


def telegram_full_export(chats: list[tuple[str, list[Message]]]) -> bytes:
    """A Telegram Desktop full account export: several chats in one result.json."""
    export = {
        "about": "Here is the data you requested. Remember: Telegram is ad free...",
        "personal_information": {"user_id": 1, "first_name": "Me", "phone_number": "+1 555"},
        "contacts": {"about": "This is your contact list.", "list": []},
        "chats": {
            "about": "This page lists all chats from this export.",
            "list": [_telegram_chat(name, msgs, 100 + i) for i, (name, msgs) in enumerate(chats)],
        },
    }
    return json.dumps(export, ensure_ascii=False, indent=1).encode()


def mojibake(text: str) -> str:
    """What Facebook's exporter does to text: UTF-8 bytes written as latin-1 characters."""
    return text.encode("utf-8").decode("latin-1")


def messenger_export(
    title: str, messages: list[Message], participants: list[str] | None = None
) -> bytes:
    """A Facebook Messenger / Instagram message_1.json: newest message first, mojibake text."""
    names = participants or list(dict.fromkeys(m[1] for m in messages))
    entries = []
    for message in reversed(messages):
        time, sender, text = message[:3]
        entry: dict[str, Any] = {
            "sender_name": mojibake(sender),
            "timestamp_ms": int(time.timestamp() * 1000),
        }
        if text:
            entry["content"] = mojibake(text)
        entry.update(_extra(message))
        entry["is_geoblocked_for_viewer"] = False
        entries.append(entry)
    export = {
        "participants": [{"name": mojibake(name)} for name in names],
        "messages": entries,
        "title": mojibake(title),
        "is_still_participant": True,
        "thread_path": f"inbox/{title.lower().replace(' ', '')}_1234567890",
        "magic_words": [],
    }
    return json.dumps(export, indent=2).encode("ascii")
