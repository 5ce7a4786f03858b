"""Thunderbird profiles: each mail folder is an mbox file without an extension next to its
``.msf`` summary. The mbox files are indexed as mailboxes (read message by message), the
summaries are skipped (never failures), and a file beside a ``.msf`` that is no mbox is not mail.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from desktop_search.cli.root import cli
from desktop_search.extract.documents import (
    extract_document,
    is_document,
    is_indexed_name,
    is_streamed,
    kind_from_name,
)
from desktop_search.extract.mail_folders import is_thunderbird_mailbox
from desktop_search.index.scan import is_wanted, scan
from tests.make_mail import eml, mbox

ALICE = "Alice Example <alice@example.com>"
BOB = "Bob Builder <bob@example.com>"
# Thunderbird writes summaries in its own Mork format; a few bytes of it are enough here.
MORK = b'// <!-- <mdb:mork:z v="1.4"/> -->\n< <(a=c)> // (f=iso-8859-1)\n'


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    """``Mail/Local Folders`` of a Thunderbird profile: Inbox with two messages, an empty Trash,
    a subfolder Inbox.sbd/Projects v1.2 (a dot in a folder name), and the files beside them."""
    local = tmp_path / "profile" / "Mail" / "Local Folders"
    (local / "Inbox.sbd").mkdir(parents=True)
    (local / "Inbox").write_bytes(mbox([
        eml("Harbour ferry timetable", ALICE, BOB, "The ferry leaves at 7:40 from pier three."),
        eml("Lighthouse visit", BOB, ALICE, "The lighthouse opens for visitors in May."),
    ]))  # fmt: skip
    (local / "Trash").write_bytes(b"")
    (local / "Inbox.sbd" / "Projects v1.2").write_bytes(
        mbox([eml("Zeppelin budget", ALICE, BOB, "The zeppelin costs more than planned.")])
    )
    for name in ("Inbox.msf", "Trash.msf", "Inbox.sbd/Projects v1.2.msf"):
        (local / name).write_bytes(MORK)
    # Beside a summary but no mbox (a stray file); and an extensionless file with no summary.
    (local / "Drafts").write_bytes(b"\x00\x01 binary, not mail")
    (local / "Drafts.msf").write_bytes(MORK)
    (local / "filterlog").write_text("<p>no filters ran</p>\n")
    return local


def test_the_scan_lists_the_mboxes_and_no_summary(profile: Path) -> None:
    listed = sorted(os.path.relpath(e.path, profile) for e in scan(profile, is_indexed_name))
    assert listed == ["Inbox", "Inbox.sbd/Projects v1.2", "Trash"]
    root = str(profile)
    assert is_wanted(str(profile / "Inbox"), root, is_indexed_name)
    assert not is_wanted(str(profile / "Inbox.msf"), root, is_indexed_name)
    assert not is_wanted(str(profile / "Drafts"), root, is_indexed_name)


def test_thunderbird_mailboxes_are_streamed_mail(profile: Path) -> None:
    inbox = str(profile / "Inbox")
    assert is_thunderbird_mailbox(inbox) and is_streamed(inbox) and is_document(inbox)
    assert kind_from_name(inbox) == "mail"
    assert not is_document(str(profile / "Inbox.msf"))
    # A mailbox gone with its summary still there: its deletion must reach the index.
    os.remove(profile / "Trash")
    assert is_thunderbird_mailbox(str(profile / "Trash"))


def test_a_mailbox_read_from_bytes_is_titled_by_its_folder(profile: Path) -> None:
    path = profile / "Inbox.sbd" / "Projects v1.2"
    document = extract_document(str(path), path.read_bytes())
    assert document.title == "Projects v1.2"
    assert [item.title for item in document.items] == ["Zeppelin budget"]


def test_a_thunderbird_profile_is_indexed_and_searched_end_to_end(profile, tmp_path) -> None:
    home = tmp_path / "home"
    runner = CliRunner()
    result = runner.invoke(cli, ["--home", str(home), "index", str(profile.parent), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["new"], report["failed"], report["documents"]) == (3, 0, 3)
    result = runner.invoke(cli, ["--home", str(home), "search", "lighthouse", "--json"])
    assert result.exit_code == 0, result.output
    [hit] = [json.loads(line) for line in result.stdout.splitlines()]
    assert hit["path"] == str(profile / "Inbox") and hit["kind"] == "mail"
    assert hit["title"] == "Inbox" and hit["locator"]["message"] == 1
    assert hit["item_kind"] == "message" and hit["senders"][0] == "Bob Builder"
    result = runner.invoke(cli, ["--home", str(home), "search", "zeppelin", "--json"])
    [hit] = [json.loads(line) for line in result.stdout.splitlines()]
    assert hit["path"] == str(profile / "Inbox.sbd" / "Projects v1.2")
    result = runner.invoke(cli, ["--home", str(home), "status", "--json"])
    assert result.exit_code == 0, result.output
    assert "msf" not in result.stdout  # summaries are neither indexed nor failures


def test_messages_deleted_in_thunderbird_are_not_indexed(tmp_path: Path) -> None:
    """Thunderbird keeps a deleted message in the mbox, flagged, until the folder is compacted."""
    kept = eml("Kept", ALICE, BOB, "Still in the inbox.")
    deleted = eml("Deleted", BOB, ALICE, "The user threw this one away.")
    flagged = [
        b"X-Mozilla-Status: 0001\nX-Mozilla-Status2: 00000000\n" + kept,
        b"X-Mozilla-Status: 0009\nX-Mozilla-Status2: 00000000\n" + deleted,
    ]
    (tmp_path / "Inbox.msf").write_bytes(MORK)
    (tmp_path / "Inbox").write_bytes(mbox(flagged))
    path = tmp_path / "Inbox"
    document = extract_document(str(path), path.read_bytes())
    assert [item.title for item in document.items] == ["Kept"]
    assert document.notes == [
        "1 messages deleted in Thunderbird (kept until the folder is compacted) are not indexed"
    ]


def test_a_fifo_beside_a_summary_does_not_stop_the_scan(tmp_path: Path) -> None:
    (tmp_path / "Inbox.msf").write_bytes(MORK)
    os.mkfifo(tmp_path / "Inbox")
    assert not is_thunderbird_mailbox(str(tmp_path / "Inbox"))
    assert list(scan(tmp_path, is_indexed_name)) == []
