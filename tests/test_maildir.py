"""Maildir folders: messages in ``cur/`` and ``new/`` (names without an extension) are indexed
like .eml files, ``tmp/`` is skipped, Maildir++ subfolders (``.Sent``) are walked although
hidden; a message delivered and then read (renamed from new/ to cur/ with flags) is found once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from desktop_search.app.library import Library
from desktop_search.app.live import LiveIndex
from desktop_search.cli.root import cli
from desktop_search.extract.documents import is_document, is_indexed_name, kind_from_name
from desktop_search.index.scan import is_wanted, scan
from desktop_search.search.searcher import Query
from tests.make_mail import eml
from tests.test_live_index import wait_for

ALICE = "Alice Example <alice@example.com>"
BOB = "Bob Builder <bob@example.com>"
# Names as Dovecot and mutt write them: time, unique part, host; flags after ":2,".
READ_NAME = "1700000000.M1P2001Q1.mailhost.example.com:2,S"
NEW_NAME = "1700000100.M2P2001Q2.mailhost"
SENT_NAME = "1700000200.M3P2001Q3.mailhost:2,S"
BEING_DELIVERED = "1700000300.M4P2001Q4.mailhost"


def make_maildir(folder: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True)
    return folder


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    """~/Maildir with a read message, a new one, one being delivered, a Maildir++ .Sent folder
    and the files Dovecot keeps beside the messages."""
    box = make_maildir(tmp_path / "Maildir")
    (box / "cur" / READ_NAME).write_bytes(
        eml("Harbour ferry timetable", ALICE, BOB, "The ferry leaves at 7:40 from pier three.")
    )
    (box / "new" / NEW_NAME).write_bytes(
        eml("Lighthouse visit", BOB, ALICE, "The lighthouse opens for visitors in May.")
    )
    (box / "tmp" / BEING_DELIVERED).write_bytes(
        eml("Half delivered", BOB, ALICE, "Still being written by the delivery agent.")
    )
    sent = make_maildir(box / ".Sent")
    (sent / "cur" / SENT_NAME).write_bytes(
        eml("Re: Lighthouse visit", ALICE, BOB, "Count me in for the zeppelin tour too.")
    )
    (sent / "maildirfolder").write_bytes(b"")
    (box / "dovecot-uidlist").write_text("3 V1700000000 N4\n")
    (box / "dovecot.index.log").write_bytes(b"\x01\x02")
    hidden = tmp_path / "Maildir" / ".cache"  # a hidden folder that is no Maildir: skipped
    hidden.mkdir()
    (hidden / "old.eml").write_bytes(eml("Cached", BOB, ALICE, "Never indexed."))
    return box


def listed(root: Path) -> list[str]:
    paths = [entry.path for entry in scan(root, is_indexed_name)]
    return sorted(os.path.relpath(path, root) for path in paths)


def test_the_scan_lists_cur_and_new_and_maildir_plus_plus_subfolders(maildir: Path) -> None:
    assert listed(maildir.parent) == [
        f"Maildir/.Sent/cur/{SENT_NAME}",
        f"Maildir/cur/{READ_NAME}",
        f"Maildir/new/{NEW_NAME}",
    ]


def test_the_watcher_wants_the_same_files(maildir: Path) -> None:
    root = str(maildir.parent)

    def wanted(relative: str) -> bool:
        return is_wanted(os.path.join(root, relative), root, is_indexed_name)

    assert wanted(f"Maildir/cur/{READ_NAME}") and wanted(f"Maildir/new/{NEW_NAME}")
    assert wanted(f"Maildir/.Sent/cur/{SENT_NAME}")
    assert wanted(f"Maildir/cur/{NEW_NAME}:2,S")  # where a read message is renamed to
    assert not wanted(f"Maildir/tmp/{BEING_DELIVERED}")
    assert not wanted("Maildir/dovecot-uidlist") and not wanted("Maildir/.cache/old.eml")


def test_a_folder_named_cur_outside_a_maildir_is_no_mail(tmp_path: Path) -> None:
    (tmp_path / "project" / "cur").mkdir(parents=True)
    (tmp_path / "project" / "cur" / "Makefile").write_text("all:\n")
    assert not is_document(str(tmp_path / "project" / "cur" / "Makefile"))
    assert kind_from_name(str(tmp_path / "project" / "cur" / "Makefile")) == "photo"


def test_maildir_messages_are_indexed_and_found_like_eml_files(maildir: Path, tmp_path) -> None:
    home = tmp_path / "home"
    runner = CliRunner()
    result = runner.invoke(cli, ["--home", str(home), "index", str(maildir), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["new"], report["failed"], report["documents"]) == (3, 0, 3)
    result = runner.invoke(cli, ["--home", str(home), "search", "ferry", "--json"])
    assert result.exit_code == 0, result.output
    [hit] = [json.loads(line) for line in result.stdout.splitlines()]
    assert hit["path"] == str(maildir / "cur" / READ_NAME)
    assert hit["kind"] == "mail" and hit["item_kind"] == "message"
    assert hit["title"] == "Harbour ferry timetable"
    assert hit["locator"]["message"] == 0 and hit["senders"][0] == "Alice Example"
    result = runner.invoke(cli, ["--home", str(home), "search", "zeppelin", "--json"])
    [hit] = [json.loads(line) for line in result.stdout.splitlines()]
    assert hit["path"] == str(maildir / ".Sent" / "cur" / SENT_NAME)
    result = runner.invoke(cli, ["--home", str(home), "search", "delivery", "--json"])
    assert result.stdout.strip() == ""  # tmp/ is not read


def test_a_message_read_since_the_last_run_is_moved_not_indexed_twice(maildir: Path, tmp_path):
    with Library.open(tmp_path / "home") as library:
        library.index([maildir])
        new = maildir / "new" / NEW_NAME
        new.rename(maildir / "cur" / f"{NEW_NAME}:2,S")  # what a mail client does on reading
        report = library.index([maildir])
        assert (report.moved, report.new, report.removed) == (1, 0, 0)
        hits = library.search(Query(text="visitors", mode="keyword"))
        assert [Path(hit.path).name for hit in hits] == [f"{NEW_NAME}:2,S"]


def test_the_live_index_finds_a_delivered_then_read_message_once(maildir: Path, tmp_path):
    with Library.open(tmp_path / "home") as library:
        library.index([maildir])
        live = LiveIndex(library, settle=0.3)
        live.start()
        try:
            wait_for(lambda: live.status().state == "idle")

            def found(word: str) -> list[str]:
                with library.reader() as reader:
                    hits = reader.search(Query(text=word, mode="keyword"))
                return [os.path.relpath(hit.path, maildir) for hit in hits]

            # Delivery: written in tmp/, then renamed into new/ (the Maildir protocol).
            delivering = maildir / "tmp" / "1700000400.M5P2001Q5.mailhost"
            delivering.write_bytes(eml("Walrus sighting", BOB, ALICE, "A walrus on the pier!"))
            delivering.rename(maildir / "new" / delivering.name)
            wait_for(lambda: found("walrus") == [f"new/{delivering.name}"])
            # Read in the mail client: moved to cur/ with its flags in the name.
            (maildir / "new" / delivering.name).rename(maildir / "cur" / f"{delivering.name}:2,S")
            wait_for(lambda: found("walrus") == [f"cur/{delivering.name}:2,S"])
            wait_for(lambda: live.status().state == "idle")
            assert found("walrus") == [f"cur/{delivering.name}:2,S"]
            rows = library.store.db.execute(
                "SELECT COUNT(*) FROM files WHERE path LIKE ?", [f"%{delivering.name}%"]
            ).fetchone()[0]
            assert rows == 1
        finally:
            live.stop()
