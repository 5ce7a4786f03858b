"""The desktop entry file this installation's menu entry is: the shipped one, its ``Exec`` and
``TryExec`` pointing at the running desktop-search (freedesktop Desktop Entry Specification:
quoting rules of "The Exec key", escapes of string values)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from desktop_search.errors import DesktopEntryError
from desktop_search.platform import resource_files
from desktop_search.platform.resource_files import APP_ID, DESKTOP_FILE

log = logging.getLogger(__name__)

# Characters that make an argument of Exec need double quotes; inside the quotes these four
# take a backslash.
_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
_ESCAPED_IN_QUOTES = frozenset('"`$\\')


def launcher() -> list[str]:
    """The running desktop-search as an absolute command: a bundle's executable (PyInstaller
    sets ``sys.frozen``; it takes no ``-m``), the console script it was started through (a
    virtual environment's bin/desktop-search, a pipx link), or the one beside this interpreter,
    else the interpreter itself with ``-m desktop_search``. Never a PATH lookup: that could find
    another installation. For the menu entry and the login entry alike."""
    if getattr(sys, "frozen", False):
        return [os.path.abspath(sys.executable)]
    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if started is not None and started.name == APP_ID and started.is_file():
        return [os.path.abspath(started)]  # a pipx link stays a link: it survives upgrades
    beside = Path(sys.executable).parent / APP_ID
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    return [os.path.abspath(sys.executable), "-m", "desktop_search"]


def exec_value(arguments: Sequence[str]) -> str:
    """``arguments`` as the value of a desktop entry's Exec key: each quoted when it needs it,
    ``%`` doubled (field codes), then backslashes doubled (the key is a string)."""
    quoted = []
    for argument in arguments:
        _check_writable(argument)
        if argument and not _RESERVED.intersection(argument):
            text = argument
        else:
            inner = "".join("\\" + c if c in _ESCAPED_IN_QUOTES else c for c in argument)
            text = f'"{inner}"'
        quoted.append(text.replace("%", "%%"))
    return " ".join(quoted).replace("\\", "\\\\")


def _check_writable(argument: str) -> None:
    """A desktop entry is UTF-8 text, one key a line: refuse what it cannot hold."""
    try:
        argument.encode("utf-8")
    except UnicodeEncodeError as error:
        raise DesktopEntryError(
            f"the path {argument!r} is not valid UTF-8, which a menu entry cannot hold",
            hint="install desktop-search in a folder with a UTF-8 name",
        ) from error
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in argument):
        raise DesktopEntryError(
            f"the path {argument!r} holds a control character, which a menu entry cannot hold",
            hint="install desktop-search in a folder whose name has none",
        )


def entry_text(command: Sequence[str]) -> str:
    """The shipped desktop entry with ``Exec`` running ``command gui`` and ``TryExec`` naming
    ``command``'s program."""
    exec_line = f"Exec={exec_value([*command, 'gui'])}"
    try_exec = "TryExec=" + command[0].replace("\\", "\\\\")
    lines, seen = [], set()
    for line in resource_files.desktop_file_text().splitlines():
        key = line.split("=", 1)[0].strip()
        if key == "Exec":
            line = exec_line
        elif key == "TryExec":
            line = try_exec
        seen.add(key)
        lines.append(line)
    if "Exec" not in seen or "TryExec" not in seen:
        raise DesktopEntryError(f"the shipped {DESKTOP_FILE} has no Exec or TryExec line",
                                hint="reinstall desktop-search")  # fmt: skip
    return "\n".join(lines) + "\n"
