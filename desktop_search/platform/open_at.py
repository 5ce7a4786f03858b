"""The command that opens a search hit at its place: a PDF at the page, a text file at the line.

Only viewers whose command line can do it are used, and only on the free desktops (Linux, BSD):
macOS's ``open`` and Windows' file associations cannot pass a page, so there the caller opens
the file with the default application (at its start). When the user's default application for
the file type is known (``xdg-mime query default``), it is respected: it is used when it is one
of the viewers below, and otherwise nothing is (the default application opens the file, at its
start, rather than a viewer the user did not choose).

No Qt here; the window runs the command (``gui/file_actions.py``).
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

Which = Callable[[str], str | None]

# Each takes the program's path, the file and the 1-based page or line. Options as documented
# in each program's manual page: evince -i/--page-index ("the exact page number, not a page
# label"; xreader and atril are forks that kept it), okular -p/--page, zathura -P/--page
# ("numbered starting with 1"), qpdfview file#page, gedit +LINE, kate -l/--line (1-based),
# VS Code -g/--goto file:line.
_COMMANDS: dict[str, Callable[[str, str, int], list[str]]] = {
    "evince": lambda exe, path, n: [exe, f"--page-index={n}", path],
    "okular": lambda exe, path, n: [exe, "--page", str(n), path],
    "xreader": lambda exe, path, n: [exe, f"--page-index={n}", path],
    "atril": lambda exe, path, n: [exe, f"--page-index={n}", path],
    "qpdfview": lambda exe, path, n: [exe, f"{path}#{n}"],
    "zathura": lambda exe, path, n: [exe, f"--page={n}", path],
    "gedit": lambda exe, path, n: [exe, f"+{n}", path],
    "kate": lambda exe, path, n: [exe, "--line", str(n), path],
    "code": lambda exe, path, n: [exe, "--goto", f"{path}:{n}"],
}
PDF_VIEWERS = ("evince", "okular", "xreader", "atril", "qpdfview", "zathura")  # preferred first
TEXT_EDITORS = ("gedit", "kate", "code")
TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
MIME_TYPES = {".pdf": "application/pdf", ".md": "text/markdown", ".markdown": "text/markdown"}
_FREE_DESKTOPS = ("linux", "freebsd", "openbsd", "netbsd", "dragonfly")


def open_command(
    path: str | Path,
    locator: dict | None,
    *,
    which: Which = shutil.which,
    platform: str = sys.platform,
    default_app: str | None = None,
) -> list[str] | None:
    """The argv that opens ``path`` at the place ``locator`` names, or None (open it plainly).

    ``default_app`` is the desktop entry of the user's default application for the file's type
    (e.g. ``org.gnome.Evince.desktop``); None when unknown, then the first installed viewer
    that can do it is used.
    """
    if not platform.startswith(_FREE_DESKTOPS):
        return None
    locator = locator or {}
    path = str(path)
    suffix = Path(path).suffix.lower()
    if "attachment" in locator:  # a place inside a file attached to the e-mail at ``path``
        return None
    if suffix == ".pdf":
        programs, place = PDF_VIEWERS, locator.get("page")
    elif suffix in TEXT_SUFFIXES:
        programs, place = TEXT_EDITORS, locator.get("line")
    else:
        return None
    if not isinstance(place, int) or isinstance(place, bool) or place < 1:
        return None
    if default_app is not None:
        chosen = _program_of(default_app, programs)
        if chosen is None:
            return None  # the user's own choice, which cannot be told the page
        programs = (chosen,)
    for program in programs:
        executable = which(program)
        if executable:
            return _COMMANDS[program](executable, path, place)
    return None


def _program_of(desktop_entry: str, programs: tuple[str, ...]) -> str | None:
    """``org.kde.okular.desktop`` -> ``okular`` (None: not one of ``programs``)."""
    parts = re.split(r"[^a-z0-9]+", desktop_entry.lower().removesuffix(".desktop"))
    # A part may carry more: okularApplication_pdf.desktop, org.pwmt.zathura-pdf-mupdf.desktop.
    return next((p for p in programs if any(part.startswith(p) for part in parts)), None)


def mime_type(path: str | Path) -> str:
    return MIME_TYPES.get(Path(path).suffix.lower(), "text/plain")


@cache
def default_app(mime: str) -> str | None:
    """The desktop entry ``xdg-mime`` names as the default for ``mime`` (None: unknown).

    Asked once per type and run (a shell script, ~50 ms); a user who changes the default while
    the app runs gets the old choice until it restarts.
    """
    if not sys.platform.startswith(_FREE_DESKTOPS) or shutil.which("xdg-mime") is None:
        return None
    try:
        done = subprocess.run(
            ["xdg-mime", "query", "default", mime],  # noqa: S607 - the XDG utility, no shell
            capture_output=True, text=True, timeout=3, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as error:
        log.info("xdg-mime query default %s failed: %s", mime, error)
        return None
    entry = done.stdout.strip()
    return entry or None
