"""Mail as mail clients keep it on disk, told by where a file lies rather than by its name.

- **Maildir** (mutt, Dovecot, offlineimap, mbsync, Thunderbird's maildir storage): a folder with
  ``cur/``, ``new/`` and ``tmp/``; each file in ``cur/`` or ``new/`` is one message, named like
  ``1700000000.M1P2.host:2,S`` (no extension; the flags after ``:2,`` change as it is read, by a
  rename from ``new/`` to ``cur/``). ``tmp/`` holds messages still being delivered: skipped.
  Maildir++ keeps subfolders inside the Maildir as hidden folders (``.Sent``, ``.Lists.python``)
  that are Maildirs themselves: they are walked although hidden folders are not
  (``index/scan.py``, which repeats ``is_maildir`` as it imports nothing of the extractors).
- **Thunderbird** (and other Mozilla mail): each mail folder is an mbox file without an
  extension (``Mail/Local Folders/Inbox``) next to its summary ``Inbox.msf``. The summary is an
  index Thunderbird rebuilds; it is never indexed. The mbox is recognised by the ``.msf`` next to
  it and by its first bytes (an envelope "From " line, or nothing yet).

Every test here looks at the file system (a few ``stat`` calls; the first bytes of a file with a
``.msf`` beside it), never at a file's contents beyond that.
"""

from __future__ import annotations

import enum
import logging
import os

log = logging.getLogger(__name__)

MAILDIR_MESSAGE_FOLDERS = frozenset({"cur", "new"})
THUNDERBIRD_SUMMARY = ".msf"
# Bytes read to tell an mbox: leading blank space, then "From ".
_FIRST_BYTES = 1024


class MailFile(enum.Enum):
    """How a mail file holds its messages."""

    MESSAGE = "message"  # one message: .eml, a Maildir file
    MAILBOX = "mailbox"  # many: .mbox, a Thunderbird folder


def is_maildir(folder: str) -> bool:
    """Is ``folder`` a Maildir: ``cur/`` and ``new/`` or ``tmp/`` (Thunderbird's maildir
    storage has no ``new/``)?"""
    return os.path.isdir(os.path.join(folder, "cur")) and (
        os.path.isdir(os.path.join(folder, "new")) or os.path.isdir(os.path.join(folder, "tmp"))
    )


def is_maildir_message(path: str) -> bool:
    """A file in a Maildir's ``cur/`` or ``new/`` (not a hidden one: Dovecot keeps none there,
    but editors and sync tools leave ``.swp`` and ``.sync`` files)."""
    folder, name = os.path.split(path)
    box, kind = os.path.split(folder)
    return kind in MAILDIR_MESSAGE_FOLDERS and not name.startswith(".") and is_maildir(box)


def is_thunderbird_summary(path: str) -> bool:
    """A Thunderbird ``.msf`` summary: never a document (and never a failure)."""
    return path.lower().endswith(THUNDERBIRD_SUMMARY)


def is_thunderbird_mailbox(path: str) -> bool:
    """An mbox file of a Thunderbird profile: a ``.msf`` summary of the same name beside it,
    and it starts like an mbox (or is empty: an empty folder). A file that is gone counts when
    its summary is still there, so its deletion reaches the index."""
    if is_thunderbird_summary(path) or not os.path.isfile(path + THUNDERBIRD_SUMMARY):
        return False
    if not os.path.isfile(path):  # a folder (maildir storage), a FIFO or device: no mbox
        return not os.path.lexists(path)
    try:
        # Non-blocking: a FIFO put there since would otherwise stop the scan.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as file:
            start = file.read(_FIRST_BYTES)
    except FileNotFoundError:
        return True
    except OSError as error:  # e.g. unreadable: then it is not known to be mail
        log.debug("cannot look into %s: %s", path, error)
        return False
    start = start.lstrip()
    return not start or start.startswith(b"From ")


def mail_file(path: str, extension: str) -> MailFile | None:
    """How ``path`` (with its lower-case ``extension``) holds mail, or None when it is no mail
    file. A Maildir's files are messages whatever their names look like (``host.example.com``
    gives ``1700000000.M1.host.example.com`` the extension ``.com``)."""
    if is_maildir_message(path):
        return MailFile.MESSAGE
    if extension == ".eml":
        return MailFile.MESSAGE
    if extension == ".mbox" or is_thunderbird_mailbox(path):
        return MailFile.MAILBOX
    return None
