"""Large mailboxes are streamed: hashed in chunks and read a line at a time, one message held at
most, so memory stays bounded whatever the file's size; the caps of a mail file still apply.
Peak RSS is measured in a fresh process (``ru_maxrss`` cannot be reset)."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_search.extract import mail, mbox
from desktop_search.extract.documents import extract_mailbox, is_streamed, open_streamed
from desktop_search.extract.mbox import iter_mbox, split_mbox_lines
from desktop_search.index.readers import LocalReader
from tests.make_mail import eml
from tests.make_mail import mbox as make_mbox

ALICE = "Alice Example <alice@example.com>"
BOB = "Bob Builder <bob@example.com>"
MESSAGES = 20_000
MESSAGE_BYTES = 2_600  # 20,000 of them: about 50 MB
# A whole read of the 50 MB file would add at least 50 MB; the stream holds one message.
STREAM_BUDGET_BYTES = 12 * 1024**2
EXTRACT_BUDGET_BYTES = 32 * 1024**2


def big_mailbox(path: Path, messages: int = MESSAGES) -> Path:
    """``messages`` plain-text messages of about MESSAGE_BYTES each, written from a template
    (building 20,000 with the email package would take longer than the test)."""
    line = b"Quarterly figures for the harbour ferry, the lighthouse and the pier, row %05d.\n"
    with open(path, "wb") as file:
        for number in range(messages):
            head = (
                b"From alice@example.com Tue Mar  5 13:30:00 2024\n"
                b"From: Alice Example <alice@example.com>\nTo: bob@example.com\n"
                b"Subject: Report %d\nDate: Tue, 05 Mar 2024 14:30:00 +0100\n"
                b"Message-ID: <report-%d@example.com>\n\n" % (number, number)
            )
            body = b"".join(line % row for row in range((MESSAGE_BYTES - len(head)) // 80))
            file.write(head + body + b">From the quoted line\n\n")
    return path


@pytest.fixture(scope="module")
def fifty_megabytes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return big_mailbox(tmp_path_factory.mktemp("mbox") / "Archive.mbox")


MEASURE = """
import json, resource, sys
from desktop_search.extract import mail
from desktop_search.extract.documents import extract_mailbox, open_streamed
from desktop_search.extract.mbox import iter_mailbox

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

path, what = sys.argv[1], sys.argv[2]
before = peak()
mailbox = open_streamed(path)
if what == "split":
    notes = []
    count = sum(1 for _ in iter_mailbox(mailbox, notes))
else:
    mail.MAX_MAIL_FILE_PASSAGES = int(sys.argv[3])
    items = extract_mailbox(path, mailbox).items
    count = [len(items), len({item.locator["message"] for item in items})]
print(json.dumps({"count": count, "length": mailbox.length, "grown": peak() - before}))
"""


def measure(path: Path, *args: str) -> dict:
    """Run MEASURE in a fresh interpreter: what it counted and how far its peak RSS grew."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), *args],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    return json.loads(done.stdout)


def test_splitting_fifty_megabytes_holds_one_message_at_a_time(fifty_megabytes: Path) -> None:
    result = measure(fifty_megabytes, "split")
    assert result["count"] == MESSAGES
    assert result["length"] == fifty_megabytes.stat().st_size > 45 * 1024**2
    assert result["grown"] < STREAM_BUDGET_BYTES, result


def test_extracting_a_large_mailbox_stays_bounded_and_stops_at_the_cap(fifty_megabytes) -> None:
    result = measure(fifty_megabytes, "extract", "1000")
    passages, messages = result["count"]
    assert 1000 <= passages < 1010 and 200 < messages < 300  # about 4 passages a message
    assert result["grown"] < EXTRACT_BUDGET_BYTES, result


def test_the_stream_splits_as_the_bytes_do() -> None:
    messages = [
        eml("First", ALICE, BOB, "From the start of a line, quoted by the writer.\n"),
        eml("Second", BOB, ALICE, "Plain body.\n>From an already quoted line\n"),
        eml("Third", ALICE, BOB, "Last one.\n"),
    ]
    for data in (make_mbox(messages), make_mbox(messages).replace(b"\n", b"\r\n")):
        streamed = list(split_mbox_lines(io.BytesIO(data), []))
        assert streamed == list(iter_mbox(data))
        assert len(streamed) == 3 and b"\nFrom the start" in streamed[0]


def test_a_file_without_envelope_lines_is_one_message() -> None:
    data = eml("Only one", ALICE, BOB, "A single message saved as .mbox.")
    assert list(split_mbox_lines(io.BytesIO(data), [])) == [data]
    assert list(split_mbox_lines(io.BytesIO(b"\n \n"), [])) == []


def test_a_message_over_the_stream_cap_is_cut_and_the_next_one_read(tmp_path, monkeypatch):
    monkeypatch.setattr(mbox, "MAX_STREAMED_MESSAGE_BYTES", 20_000)
    monkeypatch.setattr(mbox, "READ_BYTES", 4_096)  # a line longer than this comes in pieces
    huge_line = "x" * 50_000  # no line break for 50 KB
    path = tmp_path / "box.mbox"
    path.write_bytes(make_mbox([
        eml("Small one", ALICE, BOB, "Before the big one."),
        eml("Big one", BOB, ALICE, "Start of the big one.\n" + huge_line + "\nEnd of it."),
        eml("After", ALICE, BOB, "After the big one."),
    ]))  # fmt: skip
    mailbox = open_streamed(str(path))
    with mailbox.file:
        document = extract_mailbox(str(path), mailbox)
    assert [item.title for item in document.items][:2] == ["Small one", "Big one"]
    assert document.items[-1].title == "After"
    assert "message 2: only its first 0.0190735 MB are read" in document.notes
    assert not any("End of it" in item.text for item in document.items)


def test_the_reader_hashes_a_mailbox_without_reading_it_whole(tmp_path: Path) -> None:
    path = big_mailbox(tmp_path / "Small.mbox", messages=50)
    assert is_streamed(str(path))
    reader = LocalReader()
    digest, length = reader.load(str(path))
    assert (digest, length) == (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size)
    document = reader.document(str(path), None)
    assert document.title == "Small" and document.notes == []
    assert {item.locator["message"] for item in document.items} == set(range(50))
    assert document.items[0].text.startswith("Report 0\n\nQuarterly figures")
    first = "\n".join(item.text for item in document.items if item.locator["message"] == 0)
    assert "From the quoted line" in first and ">From" not in first  # ">From " unquoted


def test_the_file_caps_apply_to_a_streamed_mailbox(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(mail, "MAX_MAIL_FILE_PASSAGES", 5)
    path = big_mailbox(tmp_path / "Capped.mbox", messages=40)
    mailbox = open_streamed(str(path))
    with mailbox.file:
        document = extract_mailbox(str(path), mailbox)
    read = {item.locator["message"] for item in document.items}
    assert read == set(range(len(read))) and len(read) < 5  # several passages each
    assert document.notes[-1].startswith(f"only the first {len(read)} messages are indexed")
