"""Walk the indexed folders and list the files worth indexing.

Hidden and system folders (``.git``, ``node_modules``, trash folders, ...) and macOS ``._*``
resource forks are skipped, but for the hidden subfolders of a Maildir (Maildir++ ``.Sent``:
mail, see ``extract/mail_folders.py``); users add their own glob patterns with ``exclude``.
Symbolic links to folders are not followed (they cause loops and double counting); links to
files are followed when their target lies inside the indexed folder (a link to ``/etc/shadow``
or ``~/.ssh/id_rsa`` in a photo folder is not indexed). Such links, dangling links and loops are
skipped quietly and counted (``ScannedFile.skipped``), not reported as failures.

Paths are ``str`` as ``os.scandir`` gives them: a name that is not valid UTF-8 keeps its bytes as
surrogate escapes and is listed like any other (``store/pathnames.py`` spells it for the database
and for people).
"""

from __future__ import annotations

import errno
import fnmatch
import logging
import os
import stat
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SKIPPED_FOLDERS = frozenset(
    {
        "node_modules", "__pycache__", "$RECYCLE.BIN", "System Volume Information",
        "lost+found", "@eaDir", "Thumbs.db",
    }
)  # fmt: skip


LARGEST_INT64 = 2**63 - 1


@dataclass(frozen=True)
class ScannedFile:
    path: str
    root: str
    size: int
    mtime_ns: int
    error: str | None = None  # set when the entry exists but cannot be used
    skipped: str | None = None  # a link not followed: "outside", "dangling" or "loop"


def is_skipped_name(name: str) -> bool:
    """Hidden entries (``.git``, ``.Trash``, ``._photo.jpg``) and well-known system folders."""
    return name.startswith(".") or name in SKIPPED_FOLDERS


def is_skipped_entry(folder: str, name: str) -> bool:
    """Is the entry ``name`` of ``folder`` skipped? Hidden ones are, but for a Maildir's
    Maildir++ subfolders (``Maildir/.Sent``), which hold mail."""
    return is_skipped_name(name) and not is_maildir_subfolder(folder, name)


def is_maildir_subfolder(parent: str, name: str) -> bool:
    """Is the hidden folder ``name`` in ``parent`` a Maildir++ subfolder: a Maildir inside a
    Maildir? (Walking folders stays free of the extractors, so this repeats the test of a
    Maildir that ``extract/mail_folders.is_maildir`` makes; tests/test_maildir.py holds both
    to the same folders.)"""
    if not name.startswith(".") or name in (".", ".."):
        return False
    return _is_maildir(parent) and _is_maildir(os.path.join(parent, name))


def _is_maildir(folder: str) -> bool:
    return os.path.isdir(os.path.join(folder, "cur")) and (
        os.path.isdir(os.path.join(folder, "new")) or os.path.isdir(os.path.join(folder, "tmp"))
    )


def is_excluded(path: str, patterns: Collection[str]) -> bool:
    if not patterns:
        return False
    name = os.path.basename(path)
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(name, p) for p in patterns)


# Which files to list: a set of extensions ({".jpg", ...}) or a test of the path.
Wanted = Collection[str] | Callable[[str], bool]


def has_wanted_name(path: str, wanted: Wanted) -> bool:
    if callable(wanted):
        return wanted(path)
    return os.path.splitext(path)[1].lower() in wanted


def is_wanted(path: str, root: str, extensions: Wanted, exclude: Collection[str] = ()) -> bool:
    """Would ``scan(root)`` list ``path``? (Checked by name only: for watcher events.)"""
    if not has_wanted_name(path, extensions) or is_excluded(path, exclude):
        return False
    relative = os.path.relpath(path, root)
    if relative.startswith(os.pardir):
        return False
    parts = relative.split(os.sep)
    folders = [os.path.join(root, *parts[: i + 1]) for i in range(len(parts) - 1)]
    parents = [root, *folders]
    return not any(
        is_skipped_entry(parent, part) for parent, part in zip(parents, parts, strict=True)
    ) and not any(is_excluded(folder, exclude) for folder in folders)


def scan(
    root: Path,
    extensions: Wanted,
    exclude: Collection[str] = (),
    *,
    within: str | None = None,
) -> Iterator[ScannedFile]:
    """Yield every indexable file below ``root`` (a folder or a single file).

    ``within``: the indexed folder ``root`` lies in, when only a part of it is rescanned.
    """
    root_text = within or str(root)
    if root.is_file():
        yield from _entry(str(root), root_text, extensions, exclude)
        return
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                children = sorted(entries, key=lambda e: e.name)
        except OSError as error:
            log.warning("cannot list %s: %s", folder, error.strerror or error)
            continue
        for child in children:
            if is_skipped_entry(folder, child.name) or is_excluded(child.path, exclude):
                continue
            try:
                is_folder = child.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_folder:
                stack.append(child.path)
            else:
                yield from _entry(child.path, root_text, extensions, exclude)


def _entry(
    path: str, root: str, extensions: Wanted, exclude: Collection[str]
) -> Iterator[ScannedFile]:
    if not has_wanted_name(path, extensions) or is_excluded(path, exclude):
        return
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            yield ScannedFile(path, root, 0, 0, skipped="dangling")
        return
    except OSError as error:
        if error.errno == errno.ELOOP:
            yield ScannedFile(path, root, 0, 0, skipped="loop")
            return
        reason = f"cannot read file information ({error.strerror})"
        yield ScannedFile(path, root, 0, 0, error=reason)
        return
    if link_leaves(path, root):
        yield ScannedFile(path, root, 0, 0, skipped="outside")
        return
    if not stat.S_ISREG(info.st_mode):  # FIFOs, sockets and devices would block
        return
    yield ScannedFile(path, root, info.st_size, clamp_ns(info.st_mtime_ns))


def link_leaves(path: str, root: str) -> bool:
    """Is ``path`` a symbolic link whose target lies outside the indexed folder ``root``?"""
    if not os.path.islink(path):
        return False
    target = os.path.realpath(path)
    folder = os.path.realpath(root)
    return target != folder and os.path.commonpath([target, folder]) != folder


def clamp_ns(nanoseconds: int) -> int:
    """Times after 2262 don't fit SQLite's 64-bit integers; any fixed value detects change."""
    return max(-LARGEST_INT64, min(nanoseconds, LARGEST_INT64))
