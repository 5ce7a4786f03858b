"""Files and folders only their user may read: everything the app creates under its home.

The home holds the text of mails and chats, senders, GPS positions and page images, so what the
app creates there gets explicit modes: files 0600, folders 0700. Explicit modes rather than a
process-wide ``os.umask(0o077)``: the umask is shared by every thread (the window's workers, the
live index, decode pools), and it is inherited by the programs the app starts (a viewer opening
a photo would save the user's own files 0600 too). A mode given to ``os.open``/``mkdir`` is still
masked by the umask, which can only take bits away: the result is never more open than asked.

Permissions are changed only of what the app has just created (``chmod`` right after a third
party wrote it, e.g. a converted model): a folder that existed before is used as it is.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def make_folder(folder: Path) -> bool:
    """Create ``folder`` (and missing parents, with the default mode) as a private folder;
    returns whether it was created here. An existing folder is left as it is."""
    folder = Path(folder)
    if folder.is_dir():
        return False
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir(mode=FOLDER_MODE)
    except FileExistsError:
        if not folder.is_dir():
            raise  # a file by that name
        return False  # created meanwhile (another thread or process): theirs, as it is
    return True


def create_file(path: Path) -> None:
    """Create an empty private file at ``path`` unless one exists (then it is left as it is)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a new private file ``path`` (a temporary about to be renamed: it must
    not exist; O_EXCL also refuses a planted symbolic link)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def write_text(path: Path, text: str) -> None:
    """``write_bytes`` for UTF-8 text."""
    write_bytes(path, text.encode("utf-8"))


def open_private(path: Path, mode: str) -> BinaryIO:
    """``open(path, mode)`` for "wb" or "ab", creating the file private when it is new."""
    if mode not in ("wb", "ab"):
        raise ValueError(f"open_private writes binary files only, not {mode!r}")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "ab" else os.O_TRUNC)
    return os.fdopen(os.open(path, flags, FILE_MODE), mode)


def make_tree_private(folder: Path) -> None:
    """Take group and other access away from everything under ``folder`` (the folder too): for a
    tree the app has just built with tools that use the default modes (model converters)."""
    for parent, folders, files in os.walk(folder):
        for name in [*files, *folders]:
            restrict(Path(parent, name))
    restrict(Path(folder))


def restrict(path: Path) -> None:
    """Clear the group/other bits of ``path`` (the owner's stay: an executable stays one)."""
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        return  # a link's own mode means nothing; its target is not ours to change
    if mode & 0o077:
        os.chmod(path, stat.S_IMODE(mode) & 0o700)


def is_private(mode: int) -> bool:
    """Whether a ``st_mode`` gives no access to group or others."""
    return not mode & 0o077
