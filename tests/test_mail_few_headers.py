"""Messages with few headers: one with only Content-Type, only Subject or only From is a message
(titled from what it has), and a file that is not a message keeps its clear reason. Python's own
test messages (``test/test_email/data/msg_*.txt``) are run through the extractor when present."""

from __future__ import annotations

import glob
import json
import os
import sysconfig
from pathlib import Path

import pytest
from click.testing import CliRunner

from desktop_search.cli.root import cli
from desktop_search.errors import FileNotIndexableError
from desktop_search.extract.document import MAIL, MESSAGE
from desktop_search.extract.documents import extract_document

# Real-looking messages, each with one header (how drafts, saved parts and test fixtures look).
ONLY_CONTENT_TYPE = (
    b'Content-Type: text/plain; charset="utf-8"\n'
    b"\n"
    b"Reminder: the harbour ferry leaves at 7:40 on Saturday.\n"
    b"Bring the tickets.\n"
)
ONLY_SUBJECT = b"Subject: Ferry tickets\n\nThey are in the blue folder on the shelf.\n"
ONLY_FROM = b"From: Alice Example <alice@example.com>\n\nCall me when you land.\n"
# Python's msg_37.txt: multipart whose parts are text/x-one and text/x-two, nothing else.
ONLY_MULTIPART_TYPE = (
    b"Content-Type: multipart/mixed; boundary=ABCDE\n\n"
    b"--ABCDE\nContent-Type: text/x-one\n\nLighthouse keeper notes\n\n"
    b"--ABCDE\nContent-Type: text/x-two\n\nsecond part\n\n--ABCDE--\n"
)
# Python's msg_19.txt starts so: a digest's body saved without its headers.
NO_HEADERS = (
    b"Send Ppp mailing list submissions to\n\tppp@zzz.org\n\n"
    b"To subscribe or unsubscribe via the web, visit\n\thttp://example.org/ppp\n"
)


def test_a_message_with_only_content_type_is_titled_by_its_first_words() -> None:
    document = extract_document("reminder.eml", ONLY_CONTENT_TYPE)
    assert document.kind == MAIL
    assert document.title == "Reminder: the harbour ferry leaves at 7:40 on Saturday."
    [item] = document.items
    assert item.kind == MESSAGE and item.title is None
    assert "harbour ferry" in item.text and "Bring the tickets." in item.text


def test_a_message_with_only_a_subject_is_titled_by_it() -> None:
    document = extract_document("tickets.eml", ONLY_SUBJECT)
    assert document.title == "Ferry tickets"
    [item] = document.items
    assert item.text == "Ferry tickets\n\nThey are in the blue folder on the shelf."


def test_a_message_with_only_a_sender_keeps_the_sender() -> None:
    document = extract_document("land.eml", ONLY_FROM)
    assert document.title == "Call me when you land."
    [item] = document.items
    assert item.senders == ("Alice Example", "alice@example.com")


def test_a_message_without_text_is_titled_by_its_sender() -> None:
    document = extract_document("empty-body.eml", b"From: bob@example.com\n\n\n")
    assert document.title == "bob@example.com" and document.items == []


def test_text_parts_of_other_kinds_are_the_body_when_there_is_no_plain_or_html() -> None:
    document = extract_document("parts.eml", ONLY_MULTIPART_TYPE)
    assert document.title == "Lighthouse keeper notes"
    [item] = document.items
    assert item.text == "Lighthouse keeper notes second part"


def test_text_without_any_header_is_still_not_a_message() -> None:
    with pytest.raises(FileNotIndexableError) as error:
        extract_document("digest.eml", NO_HEADERS)
    assert error.value.reason.startswith("not an e-mail file: no message headers found")
    assert "Content-Type:" in error.value.reason  # says what a message would start with


def test_few_header_messages_are_found_end_to_end(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "reminder.eml").write_bytes(ONLY_CONTENT_TYPE)
    (folder / "parts.eml").write_bytes(ONLY_MULTIPART_TYPE)
    (folder / "digest.eml").write_bytes(NO_HEADERS)
    home = tmp_path / "home"
    runner = CliRunner()
    result = runner.invoke(cli, ["--home", str(home), "index", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["new"], report["failed"]) == (2, 1)
    [failure] = report["failures"]
    assert failure["path"].endswith("digest.eml") and "no message headers" in failure["reason"]
    result = runner.invoke(cli, ["--home", str(home), "search", "ferry", "--json"])
    assert result.exit_code == 0, result.output
    [hit] = [json.loads(line) for line in result.stdout.splitlines()]
    assert hit["path"] == str(folder / "reminder.eml")
    assert hit["title"].startswith("Reminder: the harbour ferry")
    result = runner.invoke(cli, ["--home", str(home), "search", "lighthouse", "--json"])
    [hit] = [json.loads(line) for line in result.stdout.splitlines()]
    assert hit["path"] == str(folder / "parts.eml")


# -- Python's own test messages ---------------------------------------------------------------

PYTHON_MESSAGES_VARIABLE = "DESKTOP_SEARCH_PYTHON_TEST_MAIL"
# Python's test package (Debian: libpython3.11-testsuite) ships real messages here.
PYTHON_MESSAGE_FOLDERS = "/usr/lib/python3*/test/test_email/data"


def python_test_messages() -> list[str]:
    folder = os.environ.get(PYTHON_MESSAGES_VARIABLE)
    patterns = [os.path.join(folder, "msg_*.txt")] if folder else []
    # The running interpreter's own test package first (python.org and pyenv builds carry it).
    stdlib = sysconfig.get_paths()["stdlib"]
    patterns.append(os.path.join(stdlib, "test", "test_email", "data", "msg_*.txt"))
    patterns.append(os.path.join(PYTHON_MESSAGE_FOLDERS, "msg_*.txt"))
    for pattern in patterns:
        found = sorted(glob.glob(pattern))
        if found:
            return found
    return []


def refused(paths: list[str]) -> dict[str, str]:
    """The reasons of the messages the extractor refuses, by file name."""
    reasons = {}
    for path in paths:
        name = os.path.basename(path)
        try:
            extract_document(name.replace(".txt", ".eml"), Path(path).read_bytes())
        except FileNotIndexableError as error:
            reasons[name] = error.reason
    return reasons


def test_pythons_real_test_messages_are_all_read_but_the_one_without_headers() -> None:
    paths = python_test_messages()
    if not paths:
        pytest.skip(
            f"Python's test messages are not here (apt-get download libpython3.11-testsuite, "
            f"dpkg-deb -x it, and set {PYTHON_MESSAGES_VARIABLE} to .../test/test_email/data)"
        )
    assert len(paths) >= 40
    reasons = refused(paths)
    # msg_19.txt is a digest's body without any header: not a message on its own.
    assert set(reasons) == {"msg_19.txt"}, reasons
    assert reasons["msg_19.txt"].startswith("not an e-mail file: no message headers found")
