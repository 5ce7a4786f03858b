"""Property-based tests: no file content gets past the text extractors as anything but
``FileNotIndexableError``, and everything they return is fit for the store (valid UTF-8, no NUL
or other control characters); arbitrary strings, once cleaned, go through the keyword index.

Inputs are the bytes of text files, e-mails (.eml, .mbox) and WhatsApp, Telegram and Messenger
exports built from hostile text: lone surrogates (as JSON escapes, as CESU-8 bytes), NULs and
other controls, bidi marks, long runs, invalid UTF-8. Runs are bounded (a few seconds each).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import operator
import re
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_search.errors import FileNotIndexableError
from desktop_search.extract.chunking import approximate_tokens
from desktop_search.extract.clean import clean_document, clean_text
from desktop_search.extract.document import CHUNK, TEXT, Document, TextItem
from desktop_search.extract.documents import extract_document
from desktop_search.search.query import Filters
from desktop_search.store.records import DocumentRecord
from desktop_search.store.store import Store
from tests.make_chats import messenger_export, telegram_export, whatsapp_export
from tests.make_mail import mbox

PROPERTIES = settings(
    max_examples=100,
    deadline=None,
    database=None,  # no example database written into the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
START = datetime(2024, 3, 1, 9, 30)

# Any code point, lone surrogates included (hypothesis leaves them out by default).
ANY_CHARACTER = st.characters(exclude_categories=())
# What real files hold that breaks naive code: halves of emoji, escaped bytes, NUL and other
# controls, bidi marks and isolates, BOM, noncharacters, line and paragraph separators,
# combining marks, and the markers the parsers look for (sentence ends, headers, tags).
SPECIALS = [
    "\ud83d", "\ude00", "\ud83d\ude00", "\udcff", "\udce2\udc82", "\x00", "\x1b", "\x7f", "\r",
    "\r\n", "\x0b", "\x0c", "\u200e", "\u200f", "\u202a", "\u202c", "\u202e", "\u2066",
    "\ufeff", "\ufffe", "\uffff", "\u2028", "\u2029", "\u00ad", "e\u0301", "😀", "東京", "…",
    "...", ". ", "?! ", "\n\n", "\t", "<", ">", "<attached: ", ": ", "# ", "[", "](", "From ",
    "=?utf-8?q?=F0=9F?=", "=?x-unknown?b?AAAA?=", "Mr. ", "31/12/2023, 21:41 - ",
]  # fmt: skip
# Long runs: a run of one punctuation mark or of "#" used to take quadratic time somewhere.
RUN_UNITS = [
    "a",
    "x9",
    "+/",
    ".",
    "!",
    "#",
    "😀",
    "東",
    "\ud83d",
    "\x00",
    " ",
    "\n",
    "[",
    "<attached: ",
]
FRAGMENTS = st.one_of(
    st.text(alphabet=ANY_CHARACTER, max_size=30),
    st.sampled_from(SPECIALS),
    st.builds(operator.mul, st.sampled_from(RUN_UNITS), st.integers(20, 800)),
)
NASTY_TEXT = st.lists(FRAGMENTS, max_size=8).map("".join)
# For names: as hostile, but as short as the apps make them (a chat export's detection reads
# its first 8 KB, where the name comes before the keys it looks for).
SHORT_TEXT = st.lists(st.one_of(st.text(ANY_CHARACTER, max_size=20), st.sampled_from(SPECIALS)),
                      max_size=4).map("".join)  # fmt: skip
# Text as bytes (lone surrogates become CESU-8, which is invalid UTF-8), with random bytes.
NASTY_BYTES = st.lists(
    st.one_of(
        NASTY_TEXT.map(lambda text: text.encode("utf-8", "surrogatepass")), st.binary(max_size=60)
    ),
    max_size=5,
).map(b"".join)

DOCUMENT_NAMES = [
    "notes.txt", "notes.md", "mail.eml", "Inbox.mbox", "result.json", "message_1.json",
    "WhatsApp Chat with Bob.txt",
]  # fmt: skip
# Beginnings that take arbitrary bytes past the format detection, deep into each parser.
PREFIXES = [
    b"",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"From alice@example.com Tue Mar  5 13:30:00 2024\nSubject: hi\nFrom: a@example.com\n\n",
    b"Subject: hi\nFrom: a@example.com\nContent-Type: text/html; charset=utf-8\n\n",
    b"31/12/2023, 21:41 - Alice: ",
    b'{"name": "x", "type": "personal_chat", "messages": [{"type": "message", "date_unixtime": "1",'
    b' "from": "A", "text": "',
    b'{"participants": [{"name": "A"}], "messages": [{"sender_name": "A", "timestamp_ms": 1, '
    b'"content": "',
]


# ---- checks ---------------------------------------------------------------------------------


def assert_store_ready(value: Any, where: str = "document") -> None:
    """Every string in ``value`` (dataclasses, dicts, lists and tuples walked) is valid UTF-8
    without NUL or other control characters."""
    joined = "\n".join(strings_in(value, []))
    joined.encode("utf-8")  # raises on a lone surrogate
    control = CONTROLS.search(joined)
    assert control is None, f"control character in {where}: {joined[control.start() - 40 :][:80]!r}"


def strings_in(value: Any, found: list[str]) -> list[str]:
    if isinstance(value, str):
        found.append(value)
    elif isinstance(value, TextItem):  # the bulk: checked field by field, quickly
        found += [value.kind, value.text, value.title or "", value.started_at or "",
                  value.ended_at or "", *value.senders]  # fmt: skip
        strings_in(value.locator, found)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        strings_in(list(vars(value).values()), found)
    elif isinstance(value, dict):
        found += [key for key in value if isinstance(key, str)]
        strings_in(list(value.values()), found)
    elif isinstance(value, list | tuple):
        for item in value:
            strings_in(item, found)
    return found


def extract(name: str, data: bytes) -> Document | None:
    """``extract_document``: a Document fit for the store, or None after a clean
    FileNotIndexableError; any other exception fails the test."""
    try:
        document = extract_document(name, data)
    except FileNotIndexableError as error:
        assert_store_ready(error.reason, "reason")
        return None
    assert_store_ready(document)
    json.dumps([item.locator for item in document.items])  # locators are stored as JSON
    return document


def within_budget(document: Document) -> bool:
    """Every passage within the 200 tokens (by the estimate) the extractors pack them to."""
    return all(approximate_tokens(item.text) <= 200 for item in document.items)


# ---- builders of hostile files --------------------------------------------------------------


def raw_mail(subject: str, sender: str, body: str, content_type: str, charset: str) -> bytes:
    headers = (
        f"Subject: {subject}\nFrom: {sender} <a@example.com>\nTo: {sender} <b@example.com>\n"
        f"Date: Tue, 5 Mar 2024 13:30:00 +0100\nContent-Type: {content_type}; charset={charset}\n\n"
    )
    return (headers + body).encode("utf-8", "surrogatepass")


def telegram_bytes(name: str, messages: list[tuple[str, str]]) -> bytes:
    """A Telegram export holding these (sender, text) messages, written as Telegram writes
    JSON: non-ASCII as \\u escapes, so a cut emoji is a lone "\\ud83d" in valid JSON."""
    stand_in = [(START + timedelta(minutes=n), "S", "t") for n in range(len(messages))]
    export = json.loads(telegram_export("chat", stand_in))
    export["name"] = name
    for number, (entry, (sender, text)) in enumerate(
        zip(export["messages"], messages, strict=True)
    ):
        entry["from"] = sender
        # Plain text, or a list of entities (every other message).
        entry["text"] = [{"type": "bold", "text": text}] if number % 2 else text
        entry["text_entities"] = [{"type": "plain", "text": text}]
    return json.dumps(export).encode("ascii")


def messenger_bytes(title: str, messages: list[tuple[str, str]]) -> bytes:
    stand_in = [(START + timedelta(minutes=n), "S", "t") for n in range(len(messages))]
    export = json.loads(messenger_export("T", stand_in))
    export["title"] = title
    export["participants"] = [{"name": sender} for sender, _ in messages]
    for entry, (sender, text) in zip(reversed(export["messages"]), messages, strict=True):
        entry["sender_name"], entry["content"] = sender, text
    return json.dumps(export).encode("ascii")


MESSAGES = st.lists(st.tuples(SHORT_TEXT, NASTY_TEXT), min_size=1, max_size=4)


# ---- the extractors -------------------------------------------------------------------------


@PROPERTIES
@given(name=st.sampled_from(DOCUMENT_NAMES), prefix=st.sampled_from(PREFIXES), data=NASTY_BYTES)
def test_any_bytes_under_any_document_name(name, prefix, data):
    extract(name, prefix + data)


@PROPERTIES
@given(text=NASTY_TEXT, name=st.sampled_from(["notes.txt", "notes.md"]))
def test_text_files(text, name):
    for encoding in ("utf-8", "utf-16"):
        document = extract(name, text.encode(encoding, "surrogatepass"))
        assert document is None or within_budget(document)


@PROPERTIES
@given(
    subject=NASTY_TEXT,
    sender=NASTY_TEXT,
    body=NASTY_TEXT,
    content_type=st.sampled_from(["text/plain", "text/html"]),
    charset=st.sampled_from(["utf-8", "iso-8859-1", "x-unknown", "utf-16"]),
)
def test_mail_files(subject, sender, body, content_type, charset):
    message = raw_mail(subject, sender, body, content_type, charset)
    other = raw_mail(body, subject, sender, content_type, charset)
    for document in (extract("mail.eml", message), extract("Inbox.mbox", mbox([message, other]))):
        assert document is None or within_budget(document)


@PROPERTIES
@given(
    messages=MESSAGES,
    style=st.sampled_from(["android_us", "android_eu", "german", "ios", "ios_us"]),
    tail=st.binary(max_size=40),
)
def test_whatsapp_exports(messages, style, tail):
    timed = [
        (START + timedelta(minutes=n), sender, text) for n, (sender, text) in enumerate(messages)
    ]
    data = whatsapp_export(timed, style).encode("utf-8", "surrogatepass") + tail
    document = extract("WhatsApp Chat with Bob.txt", data)
    assert document is None or within_budget(document)


@PROPERTIES
@given(name=SHORT_TEXT, messages=MESSAGES)
def test_telegram_and_messenger_exports(name, messages):
    telegram = extract("result.json", telegram_bytes(name, messages))
    messenger = extract("message_1.json", messenger_bytes(name, messages))
    for document in (telegram, messenger):
        assert document is not None or not any(text.strip() for _, text in messages)
        assert document is None or within_budget(document)


def test_a_chat_export_with_a_cut_emoji_is_indexed():
    """The reported failure: a lone "\\ud83d" (valid JSON) made the keyword index raise."""
    data = telegram_bytes(
        "Trip \ud83d", [("Alice", "see you \ud83d there"), ("Bob", "ok \ud83d\ude00")]
    )
    document = extract("result.json", data)
    assert document.title == "Trip \ufffd"
    assert document.items[0].text == "Alice: see you \ufffd there\nBob: ok 😀"


ONE_MB_WORD = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0123456789+/" * 22_000  # ~1 MB, no space


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("notes.txt", ("Intro.\n" + ONE_MB_WORD + "\nOutro.\n").encode()),
        ("mail.eml", raw_mail("Blob", "Alice", ONE_MB_WORD, "text/plain", "utf-8")),
        ("mail.eml", raw_mail(ONE_MB_WORD, ONE_MB_WORD, "body", "text/plain", "utf-8")),
        ("Inbox.mbox", mbox([raw_mail("Blob", "Alice", ONE_MB_WORD, "text/html", "utf-8")])),
        ("WhatsApp Chat with Bob.txt", whatsapp_export([(START, "Bob", ONE_MB_WORD)]).encode()),
        ("result.json", telegram_bytes("Chat", [(ONE_MB_WORD, ONE_MB_WORD)])),
        ("message_1.json", messenger_bytes("Chat", [("Alice", "." * 1_000_000)])),
    ],
    ids=["text", "mail-body", "mail-headers", "mbox-html", "whatsapp", "telegram", "messenger"],
)
def test_a_one_megabyte_word_in_every_extractor(name, data):
    started = time.perf_counter()
    document = extract(name, data)
    elapsed = time.perf_counter() - started
    assert document is not None and document.items
    assert all(approximate_tokens(item.text) <= 256 for item in document.items)
    # Mail and chat text is capped well below 1 MB; a text file's word is chunked in linear
    # time. About a second each on an idle machine; generous for a loaded one.
    assert elapsed < 20, f"{elapsed:.1f} s"


# ---- the store ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    opened = Store.open(tmp_path_factory.mktemp("properties") / "library.db")
    yield opened
    opened.close()


_NUMBERS = itertools.count(1)


@PROPERTIES
@given(name=NASTY_TEXT, title=NASTY_TEXT, body=NASTY_TEXT, senders=st.lists(NASTY_TEXT, max_size=3))
def test_any_strings_round_trip_through_the_keyword_index_after_cleaning(
    store, name, title, body, senders
):
    number = next(_NUMBERS)
    marker = f"zqxmarker{number}"  # a word to find the item by, whatever surrounds it
    document = Document(kind=TEXT, title=title, notes=[body])
    document.items.append(
        TextItem(CHUNK, f"{body} {marker}", {"line": number, "name": name}, title=title,
                 senders=tuple(senders))
    )  # fmt: skip
    document = clean_document(document)
    record = DocumentRecord(path=f"/docs/{number}.txt", root="/docs", size=1, mtime_ns=1,
                            content_hash=f"h{number}", document=document)  # fmt: skip
    item_ids, _ = store.texts.save_document(record, None, None)
    [item] = document.items
    assert store.reads.item_texts(item_ids) == {item_ids[0]: item.text}
    assert store.reads.keyword_search(f'"{marker}"', Filters(), 10) == item_ids
    hit = store.reads.hits(item_ids)[item_ids[0]]
    assert json.loads(hit["locator"]) == item.locator
    assert hit["senders"] == ("\n".join(item.senders) or None)

    # The keyword index on its own, with any name (a file name, an attachment's name).
    row = 10_000_000 + number
    cleaned = [clean_text(text) for text in (name, title, body)]
    store.texts.index_text(row, *cleaned)
    assert store.reads.keyword_texts([row]) == {row: " ".join(filter(None, cleaned))}
    failed = f"/docs/failed-{number}.txt"
    store.files.record_failure(failed, "/docs", "text", 1, 1, clean_text(body))
