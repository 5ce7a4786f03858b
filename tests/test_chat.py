"""desktop_search.extract.chat: WhatsApp, Telegram and Messenger exports as conversation windows."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import pytest

from desktop_search.errors import FileNotIndexableError
from desktop_search.extract.chat import (
    conversation_windows,
    detect_chat_format,
    extract_chat,
    extract_chat_text,
)
from desktop_search.extract.chat_formats import (
    ChatMessage,
    parse_messenger,
    parse_telegram,
    repair_mojibake,
)
from desktop_search.extract.chat_whatsapp import looks_like_whatsapp, parse_whatsapp
from desktop_search.extract.chunking import approximate_tokens
from desktop_search.extract.document import CHAT, WINDOW
from tests.make_chats import (
    big_whatsapp_export,
    messenger_export,
    mojibake,
    telegram_export,
    telegram_full_export,
    whatsapp_export,
)

# Midnight and noon are the 12 AM / 12 PM edge cases of the 12-hour styles.
TIMES = [
    datetime(2023, 12, 31, 21, 41, 7),
    datetime(2024, 1, 1, 0, 5, 30),
    datetime(2024, 1, 1, 12, 30, 59),
    datetime(2024, 2, 3, 9, 4, 1),
]
SAMPLE = [
    (t, sender, f"message {i}") for i, (t, sender) in enumerate(zip(TIMES, "ABAB", strict=True))
]


@pytest.mark.parametrize("style", ["android_us", "android_eu", "german", "ios", "ios_us"])
@pytest.mark.parametrize("narrow_space", [True, False])
def test_every_whatsapp_style_gives_the_right_times(style, narrow_space):
    text = whatsapp_export(SAMPLE, style, narrow_space=narrow_space)
    messages = parse_whatsapp(text)
    with_seconds = style.startswith("ios")  # Android exports have minutes only
    expected = [t if with_seconds else t.replace(second=0) for t in TIMES]
    assert [m.time for m in messages] == expected
    assert [(m.index, m.sender, m.text) for m in messages] == [
        (0, "A", "message 0"),
        (1, "B", "message 1"),
        (2, "A", "message 2"),
        (3, "B", "message 3"),
    ]
    assert looks_like_whatsapp(text)


def test_spanish_p_m_and_a_m():
    text = "31/12/23, 9:41 p. m. - Ana: hola\n1/1/24, 12:05 a. m. - Ana: feliz año\n"
    assert [m.time for m in parse_whatsapp(text)] == [
        datetime(2023, 12, 31, 21, 41),
        datetime(2024, 1, 1, 0, 5),
    ]


def test_a_first_field_above_12_anywhere_proves_day_first():
    # A 12-hour clock suggests a US phone, but 31/3 only exists day-first: 5/3 is 5 March.
    text = "5/3/23, 10:00\u202fAM - A: early\n31/3/23, 10:00\u202fPM - A: late\n"
    assert [m.time for m in parse_whatsapp(text)] == [
        datetime(2023, 3, 5, 10, 0),
        datetime(2023, 3, 31, 22, 0),
    ]


def test_a_second_field_above_12_proves_month_first():
    text = "03/05/2023, 21:41 - A: one\n03/15/2023, 08:00 - A: two\n"  # 24-hour, month-first
    assert [m.time for m in parse_whatsapp(text)] == [
        datetime(2023, 3, 5, 21, 41),
        datetime(2023, 3, 15, 8, 0),
    ]


def test_ambiguous_dates_follow_the_format_convention():
    ambiguous = [(datetime(2023, 3, 5, 10, 0), "A", "hi"), (datetime(2023, 4, 6, 11, 0), "B", "yo")]
    expected = [t for t, _, _ in ambiguous]
    # Day-first for 24-hour clocks, month-first for 12-hour (US) clocks.
    assert [m.time for m in parse_whatsapp(whatsapp_export(ambiguous, "android_eu"))] == expected
    assert [m.time for m in parse_whatsapp(whatsapp_export(ambiguous, "android_us"))] == expected
    assert [m.time for m in parse_whatsapp(whatsapp_export(ambiguous, "german"))] == expected


def test_multi_line_messages_keep_their_continuation_lines():
    t = datetime(2023, 6, 1, 9, 0)
    chat = [(t, "Alice", "shopping list:\n- milk\n\n- 12/31 eggs"), (t, "Bob", "ok")]
    messages = parse_whatsapp(whatsapp_export(chat, "android_eu"))
    assert [m.text for m in messages] == ["shopping list:\n- milk\n\n- 12/31 eggs", "ok"]
    window = conversation_windows(messages, "Shop")[0]
    assert window.text == "Alice: shopping list: - milk - 12/31 eggs\nBob: ok"


def test_media_placeholders_become_a_readable_word():
    t = datetime(2023, 6, 1, 9, 0)
    android = [
        (t, "Alice", "<Media omitted>"),
        (t, "Alice", "IMG-20230601-WA0001.jpg (file attached)\nlook at this"),
        (t, "Bob", "PTT-20230601-WA0002.opus (file attached)"),
        (t, "Bob", "Report Q2.pdf (file attached)"),
    ]
    messages = parse_whatsapp(whatsapp_export(android, "android_eu"))
    assert [(m.media, m.text) for m in messages] == [
        ("<Media omitted>", "[media]"),
        ("IMG-20230601-WA0001.jpg", "[photo]\nlook at this"),
        ("PTT-20230601-WA0002.opus", "[voice message]"),
        ("Report Q2.pdf", "[file Report Q2.pdf]"),
    ]
    ios = [
        (t, "Alice", "\u200e<attached: 00000012-PHOTO-2023-12-31-21-41-07.jpg>"),
        (t, "Alice", "\u200eimage omitted"),
        (t, "Bob", "\u200eGIF omitted"),
        (t, "Bob", "Plan.pdf • \u200e3 pages \u200e<attached: 00000015-Plan.pdf>"),
    ]
    messages = parse_whatsapp(whatsapp_export(ios, "ios"))
    assert [(m.sender, m.media, m.text) for m in messages] == [
        ("Alice", "00000012-PHOTO-2023-12-31-21-41-07.jpg", "[photo]"),
        ("Alice", "image omitted", "[photo]"),
        ("Bob", "GIF omitted", "[GIF]"),
        ("Bob", "00000015-Plan.pdf", "[file 00000015-Plan.pdf] Plan.pdf • \u200e3 pages"),
    ]


def test_system_lines_are_kept_without_sender_and_the_encryption_notice_dropped():
    t = datetime(2023, 6, 1, 9, 0)
    chat = [
        (t, "", 'Alice created group "Trip"'),
        (t, "", 'Alice changed the subject to "Trip: June"'),
        (t, "\u202a+49 170 1234567\u202c", "hi all"),
    ]
    text = whatsapp_export(chat, "android_eu", encryption_notice=True)
    assert "end-to-end encrypted" in text
    messages = parse_whatsapp(text)
    assert [(m.index, m.sender, m.text) for m in messages] == [
        (0, "", 'Alice created group "Trip"'),
        (1, "", 'Alice changed the subject to "Trip: June"'),
        (2, "+49 170 1234567", "hi all"),
    ]
    window = conversation_windows(messages, "Trip")[0]
    assert window.text.splitlines()[0] == 'Alice created group "Trip"'
    assert window.senders == ("+49 170 1234567",)


def test_looks_like_whatsapp_rejects_other_text():
    assert not looks_like_whatsapp("")
    assert not looks_like_whatsapp("Dear Alice,\n12/31/23, 9:41 PM - Bob: hi\n")
    assert not looks_like_whatsapp("date,time,value\n2023-12-31,21:41,3\n")
    assert not looks_like_whatsapp("45/13/2023, 21:41 - nonsense date\n")
    assert looks_like_whatsapp("\ufeff\n\n31/12/2023, 21:41 - Alice: hi\n")


def test_whatsapp_chat_name_from_the_file_name_or_the_participants():
    text = whatsapp_export(SAMPLE, "ios")
    assert extract_chat_text(text, "/x/WhatsApp Chat with Alice.txt").title == "Alice"
    assert extract_chat_text(text, "WhatsApp Chat mit Bob Meier (1).txt").title == "Bob Meier"
    document = extract_chat_text(text, "_chat.txt")
    assert document.title == "A, B"
    assert {item.title for item in document.items} == {"A, B"}


def test_telegram_text_entities_media_and_service_messages():
    t = datetime(2024, 5, 1, 18, 30, 15)
    data = telegram_export(
        "Trip planning",
        [
            (t, "Alice", ["see ", {"type": "link", "text": "https://example.org"}, " ok?"]),
            (t, "Bob", "", {"type": "service", "actor": "Bob", "action": "pin_message"}),
            (t + timedelta(minutes=1), "Bob", "the view", {"photo": "photos/photo_1.jpg"}),
            (t, "Bob", "", {"file": "voice/a.ogg", "media_type": "voice_message"}),
        ],
    )
    assert detect_chat_format("result.json", data) == "telegram"
    [chat] = parse_telegram(json.loads(data))
    assert chat.name == "Trip planning"
    assert [(m.index, m.time, m.sender, m.text, m.media) for m in chat.messages] == [
        (0, t, "Alice", "see https://example.org ok?", None),
        (1, t + timedelta(minutes=1), "Bob", "[photo] the view", "photos/photo_1.jpg"),
        (2, t, "Bob", "[voice message]", "voice/a.ogg"),
    ]


def test_telegram_full_export_gives_one_set_of_windows_per_chat():
    t = datetime(2024, 5, 1, 18, 30)
    data = telegram_full_export(
        [
            ("Alice", [(t, "Alice", "hi"), (t, "Me", "hello")]),
            ("Alice", [(t, "Alice", "other chat, same name")]),
            ("Empty", []),
        ]
    )
    assert detect_chat_format("export/result.json", data) == "telegram"
    chats = parse_telegram(json.loads(data))
    assert [(c.name, len(c.messages)) for c in chats] == [("Alice", 2), ("Alice", 1), ("Empty", 0)]
    document = extract_chat(data, "export/result.json")
    assert document.kind == CHAT and document.title == "result.json"
    assert [(i.text, i.locator["chat"], i.locator["chat_index"]) for i in document.items] == [
        ("Alice: hi\nMe: hello", "Alice", 0),
        ("Alice: other chat, same name", "Alice", 1),
    ]


def test_messenger_mojibake_is_repaired_and_order_made_chronological():
    t = datetime(2022, 8, 14, 20, 15, 3)
    data = messenger_export(
        "José & Zoë",
        [
            (t, "José Núñez", "Café at 8? 😂"),
            (t + timedelta(minutes=2), "Zoë", "", {"photos": [{"uri": "photos/1.jpg"}]}),
            (t + timedelta(minutes=3), "Zoë", "ça marche"),
        ],
    )
    assert b"Caf\\u00c3\\u00a9" in data  # written like the real export
    assert detect_chat_format("inbox/jose_123/message_1.json", data) == "messenger"
    chat = parse_messenger(json.loads(data))
    assert chat.name == "José & Zoë"
    assert [(m.index, m.time, m.sender, m.text, m.media) for m in chat.messages] == [
        (0, t, "José Núñez", "Café at 8? 😂", None),
        (1, t + timedelta(minutes=2), "Zoë", "[photo]", "photos/1.jpg"),
        (2, t + timedelta(minutes=3), "Zoë", "ça marche", None),
    ]
    assert repair_mojibake("Müller") == "Müller"  # undamaged text stays
    assert repair_mojibake(mojibake("Müller")) == "Müller"


def _messages(times, text="hello there"):
    return [ChatMessage(i, t, "AB"[i % 2], f"{text} {i}") for i, t in enumerate(times)]


def test_windows_split_on_a_three_hour_gap():
    start = datetime(2024, 3, 1, 10, 0)
    times = [start, start + timedelta(minutes=5), start + timedelta(hours=3, minutes=5)]
    times.append(times[-1] + timedelta(minutes=119))
    windows = conversation_windows(_messages(times), "Team")
    assert [(w.locator["first"], w.locator["last"]) for w in windows] == [(0, 1), (2, 3)]
    first, second = windows
    assert first.kind == WINDOW and first.title == "Team"
    assert first.text == "A: hello there 0\nB: hello there 1"
    assert first.senders == ("A", "B")
    assert (first.started_at, first.ended_at) == ("2024-03-01T10:00:00", "2024-03-01T10:05:00")
    assert second.locator == {
        "chat": "Team",
        "first": 2,
        "last": 3,
        "start": "2024-03-01T13:05:00",
        "end": "2024-03-01T15:04:00",
    }


def test_windows_split_on_length_and_message_count():
    start = datetime(2024, 3, 1, 10, 0)
    messages = _messages([start + timedelta(seconds=i) for i in range(100)])
    windows = conversation_windows(messages, "Team", max_tokens=30)
    assert all(approximate_tokens(w.text) <= 30 for w in windows)
    assert len(windows) > 10
    indices = [(w.locator["first"], w.locator["last"]) for w in windows]
    assert indices[0][0] == 0 and indices[-1][1] == 99
    assert all(b[0] == a[1] + 1 for a, b in zip(indices, indices[1:], strict=False))
    counted = conversation_windows(messages, "Team", max_messages=7)
    assert [len(w.text.splitlines()) for w in counted] == [7] * 14 + [2]


def test_a_very_long_message_is_cut_into_windows_of_its_own():
    start = datetime(2024, 3, 1, 10, 0)
    long_text = " ".join(f"Sentence number {i} talks about the holiday." for i in range(200))
    messages = [
        ChatMessage(0, start, "A", "before"),
        ChatMessage(1, start, "B", long_text),
        ChatMessage(2, start, "A", "after"),
    ]
    windows = conversation_windows(messages, "Team", max_tokens=100)
    assert windows[0].text == "A: before" and windows[-1].text == "A: after"
    middle = windows[1:-1]
    assert len(middle) > 5
    assert all(w.text.startswith("B: Sentence number") for w in middle)
    assert all((w.locator["first"], w.locator["last"]) == (1, 1) for w in middle)
    assert all(approximate_tokens(w.text) <= 100 for w in middle)
    assert "Sentence number 199 " in middle[-1].text


def test_extract_chat_whatsapp_bytes_with_broken_utf8():
    text = whatsapp_export(SAMPLE, "android_eu")
    data = text.replace("message 1", "message \udcff").encode("utf-8", "surrogateescape")
    document = extract_chat(data, "WhatsApp Chat with A.txt")
    assert document.kind == CHAT and document.title == "A"
    assert document.created_at == "2023-12-31T21:41:00"
    assert [item.text for item in document.items][:2] == ["A: message 0", "B: message \ufffd"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("notes.txt", b"Just some notes\nwith two lines\n"),
        ("random.txt", bytes(range(256)) * 4),
        ("result.json", b'{"messages": [1, 2'),
        ("message_1.json", b'{"participants": [], "messages": "nope"}'),
        ("data.json", b'{"a": 1}'),
        ("chat.pdf", b"%PDF-1.7 31/12/2023, 21:41 - Alice: hi"),
        (
            "WhatsApp Chat with Bob.txt",
            b"31/12/2023, 21:41 - Messages and calls are end-to-end encrypted.",
        ),
        ("result.json", telegram_export("Nobody", [])),
    ],
)
def test_garbage_is_not_indexable_with_a_reason(name, data):
    with pytest.raises(FileNotIndexableError) as error:
        extract_chat(data, name)
    assert "chat export" in error.value.reason


def test_detect_chat_format():
    assert detect_chat_format("x.txt", whatsapp_export(SAMPLE, "german").encode()) == "whatsapp"
    assert detect_chat_format("x.md", whatsapp_export(SAMPLE, "german").encode()) is None
    assert detect_chat_format("message_3.json", messenger_export("T", SAMPLE)) == "messenger"
    assert detect_chat_format("chat.json", telegram_export("T", SAMPLE)) == "telegram"
    assert detect_chat_format("result.json", b'{"messages": []}') == "telegram"
    assert detect_chat_format("package.json", b'{"name": "x", "version": "1"}') is None


def test_parsing_and_windowing_are_fast():
    text = big_whatsapp_export(20_000)
    started = time.perf_counter()
    messages = parse_whatsapp(text)
    windows = conversation_windows(messages, "Big")
    rate = len(messages) / (time.perf_counter() - started)
    assert len(messages) == 20_000 and windows
    # The target is well above 50k messages/s; the bound leaves room for a loaded CI machine.
    assert rate > 20_000, f"{rate:.0f} messages/s"


def test_a_message_longer_than_the_cap_is_indexed_in_part_with_a_note():
    from desktop_search.extract.chat import MAX_CHAT_MESSAGE_CHARS

    huge = "All work and no play makes Jack a dull boy. " * (MAX_CHAT_MESSAGE_CHARS // 40)
    messages = [(TIMES[0], "Jack", huge + "THE END"), (TIMES[1], "Wendy", "Jack?")]
    for name, data in [
        ("result.json", telegram_export("Overlook", messages)),
        ("WhatsApp Chat with Jack.txt", whatsapp_export(messages, "android_eu").encode()),
    ]:
        document = extract_chat(data, name)
        assert document.notes == [
            f"1 messages longer than {MAX_CHAT_MESSAGE_CHARS:,} characters are indexed in part"
        ]
        jack = [w for w in document.items if w.locator["first"] == 0]
        assert "THE END" not in " ".join(w.text for w in jack)
        assert sum(len(w.text) for w in jack) >= MAX_CHAT_MESSAGE_CHARS * 0.9
        assert document.items[-1].text == "Wendy: Jack?"


def test_an_export_stops_at_the_file_cap_with_a_note(monkeypatch):
    from desktop_search.extract import chat

    monkeypatch.setattr(chat, "MAX_CHAT_FILE_CHARS", 3_000)
    messages = [(TIMES[0] + timedelta(minutes=n), "AB"[n % 2], f"message {n} " * 10)
                for n in range(100)]  # fmt: skip
    # JSON: message text is counted (two chats, the second never reached).
    data = telegram_full_export([("One", messages), ("Two", messages)])
    document = extract_chat(data, "result.json")
    assert document.notes == ["only the first 3,000 characters are indexed"]
    assert {w.locator["chat_index"] for w in document.items} == {0}
    assert max(w.locator["last"] for w in document.items) < 30
    # WhatsApp text: read only so far, like a text file.
    text = whatsapp_export(messages, "android_eu")
    document = extract_chat(text.encode(), "WhatsApp Chat with B.txt")
    assert document.notes == ["only the first 3,000 characters are indexed"]
    assert 10 < max(w.locator["last"] for w in document.items) < 30


def test_absurd_names_are_cut():
    from desktop_search.extract.chat import MAX_NAME_CHARS

    messages = [(TIMES[0], "S" * 100_000, "hi")]
    document = extract_chat(messenger_export("N" * 100_000, messages), "message_1.json")
    [window] = document.items
    assert document.title == "N" * MAX_NAME_CHARS and window.title == document.title
    assert window.senders == ("S" * MAX_NAME_CHARS,)
