"""The app in the applications menu: its desktop entry, icons and metainfo in the user's folders.

``install()`` puts three kinds of files under the user's data folder ($XDG_DATA_HOME, else
``~/.local/share``), where every freedesktop menu, dock and task switcher looks:

- ``applications/desktop-search.desktop``: the shipped entry with an absolute ``Exec`` (the
  running installation's own ``desktop-search``, so a virtual environment that is not on PATH
  starts from the menu too) and ``TryExec`` (if that installation goes, the entry hides);
- ``icons/hicolor/<N>x<N>/apps/desktop-search.png`` and ``icons/hicolor/scalable/apps/...svg``;
- ``metainfo/io.github.desktop_search.DesktopSearch.metainfo.xml`` (software centres).

What it wrote is recorded, path and sha256, in ``$XDG_STATE_HOME/desktop-search/menu-entry.json``
(else ``~/.local/state``): ``remove()`` deletes exactly those files, and only while they still
hold what was written (a file the person changed since, or one some other tool put there, stays),
then the folders it created if they are empty. ``install()`` never overwrites a file it did not
write: it stops, before writing anything, naming the file (one that holds exactly what it would
write is left as it is, and stays someone else's). Both are idempotent.

Caches: menus read the entries themselves; ``mimeinfo.cache`` (update-desktop-database) and
``icon-theme.cache`` (gtk-update-icon-cache) are refreshed when the tool is installed and the
cache exists. A missing cache is not created: it would be a shared file this app then owns, and
without one every reader scans the folders. The hicolor folder's time is touched either way
(icon themes watch it).

Written as the app writes its home (platform/private.py): private temporaries renamed into
place, folders 0700 (only the person's own session reads them).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from desktop_search.errors import DesktopEntryError
from desktop_search.platform import private, resource_files
from desktop_search.platform.desktop_file import entry_text, launcher
from desktop_search.platform.resource_files import APP_ID, DESKTOP_FILE, METAINFO_FILE

log = logging.getLogger(__name__)

RECORD_VERSION = 1
RECORD_FILE = "menu-entry.json"
CACHE_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class XdgFolders:
    """Where the menu's files go (``data_home``), where the record of them is kept
    (``state_home``), and where a system-wide entry would be (``data_dirs``)."""

    data_home: Path
    state_home: Path
    data_dirs: tuple[Path, ...] = ()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> XdgFolders:
        """The XDG base directories of this session (relative values are ignored, as the
        specification says)."""
        environ = os.environ if environ is None else environ
        home = Path(environ.get("HOME") or Path.home())

        def folder(variable: str, default: Path) -> Path:
            value = environ.get(variable, "")
            return Path(value) if os.path.isabs(value) else default

        dirs = environ.get("XDG_DATA_DIRS", "") or "/usr/local/share:/usr/share"
        return cls(
            data_home=folder("XDG_DATA_HOME", home / ".local" / "share"),
            state_home=folder("XDG_STATE_HOME", home / ".local" / "state"),
            data_dirs=tuple(Path(d) for d in dirs.split(":") if os.path.isabs(d)),
        )

    @property
    def applications(self) -> Path:
        return self.data_home / "applications"

    @property
    def hicolor(self) -> Path:
        return self.data_home / "icons" / "hicolor"

    @property
    def entry_file(self) -> Path:
        return self.applications / DESKTOP_FILE

    @property
    def record_file(self) -> Path:
        return self.state_home / APP_ID / RECORD_FILE


@dataclass(frozen=True)
class Placement:
    """One file of the menu entry: where it goes and what it holds."""

    target: Path
    data: bytes


@dataclass(frozen=True)
class EntryReport:
    """What ``install`` or ``remove`` did, file by file."""

    written: tuple[Path, ...] = ()  # new, or an earlier version of ours replaced
    unchanged: tuple[Path, ...] = ()  # already there as they should be
    removed: tuple[Path, ...] = ()
    kept: tuple[Path, ...] = ()  # remove: changed since they were written, so not ours to delete
    refreshed: tuple[str, ...] = ()  # the cache tools that ran
    command: tuple[str, ...] = ()  # install: what the menu entry runs


@dataclass
class _Record:
    """The files written (path -> sha256) and the folders created, kept between runs."""

    files: dict[str, str] = field(default_factory=dict)
    folders: list[str] = field(default_factory=list)


def supported() -> bool:
    """Whether this system has freedesktop menus (Linux and the BSDs)."""
    return sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))


def placements(command: Sequence[str], folders: XdgFolders) -> list[Placement]:
    """Every file of the menu entry, with what it holds."""
    icons = folders.data_home / "icons"
    found = [Placement(folders.entry_file, entry_text(command).encode("utf-8"))]
    for size in resource_files.APP_ICON_SIZES:
        relative = resource_files.app_icon_path(size).removeprefix("icons/")
        found.append(Placement(icons / relative, resource_files.app_icon_png(size)))
    svg = resource_files.resource(resource_files.app_icon_svg_path()).read_bytes()
    found.append(Placement(folders.hicolor / "scalable" / "apps" / f"{APP_ID}.svg", svg))
    metainfo = resource_files.metainfo_bytes()
    found.append(Placement(folders.data_home / "metainfo" / METAINFO_FILE, metainfo))
    return found


def entry_present(folders: XdgFolders | None = None) -> bool:
    """Whether a menu entry for the app exists: the user's (this module's, or any) or one a
    system package installed."""
    folders = folders or XdgFolders.from_environment()
    system = [folder / "applications" / DESKTOP_FILE for folder in folders.data_dirs]
    return any(path.is_file() for path in [folders.entry_file, *system])


# -- install and remove ---------------------------------------------------------------------


def install(command: Sequence[str] | None = None, folders: XdgFolders | None = None) -> EntryReport:
    """Put the menu entry, icons and metainfo in place (see the module's docstring).

    ``command`` is what the entry runs, with ``gui`` after it (default: ``launcher()``)."""
    _require_support()
    command = list(command or launcher())
    folders = folders or XdgFolders.from_environment()
    wanted = placements(command, folders)
    record = _read_record(folders.record_file)
    to_write: list[Placement] = []
    unchanged: list[Path] = []
    for placement in wanted:
        current = _digest_of(placement.target)
        if current == _sha256(placement.data):
            unchanged.append(placement.target)  # ours or not, it is what it should be
        elif current is None:
            to_write.append(placement)
        elif current == "":
            raise _conflict(placement.target, "is not a regular file")
        elif record.files.get(str(placement.target)) == current:
            to_write.append(placement)  # an earlier version of ours
        else:
            raise _conflict(placement.target, "was not written by desktop-search, or was "
                                              "changed since")  # fmt: skip
    try:
        for placement in to_write:
            created = _make_folders(placement.target.parent)
            record.folders += [str(f) for f in created if str(f) not in record.folders]
            _replace(placement.target, placement.data)
            record.files[str(placement.target)] = _sha256(placement.data)
    finally:
        # Also after a failure: what was written is recorded, so --remove can take it away.
        if to_write:
            _write_record(folders.record_file, record)
    refreshed = _refresh_caches(folders) if to_write else ()
    log.info("menu entry: %d file(s) written, %d unchanged", len(to_write), len(unchanged))
    return EntryReport(
        written=tuple(p.target for p in to_write), unchanged=tuple(unchanged),
        refreshed=refreshed, command=(*command, "gui"),
    )  # fmt: skip


def remove(folders: XdgFolders | None = None) -> EntryReport:
    """Delete what ``install`` wrote and still holds what it wrote, and the folders it made that
    are empty now. Files it did not write are never touched."""
    _require_support()
    folders = folders or XdgFolders.from_environment()
    record = _read_record(folders.record_file)
    removed: list[Path] = []
    kept: list[Path] = []
    for name, digest in list(record.files.items()):
        path = Path(name)
        current = _digest_of(path)
        if current is not None and current != digest:
            kept.append(path)  # changed since: the person's now
            log.warning("%s changed since desktop-search wrote it: kept", path)
        elif current is not None:
            try:
                path.unlink()
            except OSError as error:
                _write_record(folders.record_file, record)  # a second try knows the rest
                raise _failed("remove", path, error) from error
            removed.append(path)
        del record.files[name]
    # Caches first: with no icon left a cache tool deletes its cache, emptying our folder.
    refreshed = _refresh_caches(folders) if removed else ()
    for name in sorted(record.folders, key=lambda f: f.count("/"), reverse=True):
        with contextlib.suppress(OSError):  # gone already, or not empty
            Path(name).rmdir()  # only when empty: what else is in it is someone else's
    _forget_record(folders.record_file)
    log.info("menu entry: %d file(s) removed, %d kept", len(removed), len(kept))
    return EntryReport(removed=tuple(removed), kept=tuple(kept), refreshed=refreshed)


def installed(folders: XdgFolders | None = None) -> bool:
    """Whether this module's menu entry is in place (as it wrote it)."""
    folders = folders or XdgFolders.from_environment()
    record = _read_record(folders.record_file)
    digest = record.files.get(str(folders.entry_file))
    return digest is not None and _digest_of(folders.entry_file) == digest


def _require_support() -> None:
    if not supported():
        raise DesktopEntryError(
            f"adding desktop-search to the applications menu is automated on Linux and the BSDs "
            f"only, not on {sys.platform}",
            hint="on macOS and Windows, make a shortcut to 'desktop-search gui'",
        )


def _conflict(path: Path, why: str) -> DesktopEntryError:
    return DesktopEntryError(
        f"{path} {why}; nothing was installed",
        hint="move that file away, then run 'desktop-search install-desktop-entry' again",
    )


def _failed(doing: str, path: Path, error: OSError) -> DesktopEntryError:
    reason = (error.strerror or str(error)).lower()
    return DesktopEntryError(
        f"cannot {doing} {path} ({reason})",
        hint="check that the folder is yours and writable, then try again",
    )


# -- files ----------------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _digest_of(path: Path) -> str | None:
    """The sha256 of the regular file at ``path``; None when nothing is there, "" when
    something other than a regular file is (a link, a folder): never ours."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as error:
        raise _failed("read", path, error) from error
    if not stat.S_ISREG(mode):
        return ""
    try:
        return _sha256(path.read_bytes())
    except OSError as error:
        raise _failed("read", path, error) from error


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents, each private; returns those created here."""
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.is_dir():
            break
        missing.append(candidate)
    created = []
    for candidate in reversed(missing):
        try:
            if private.make_folder(candidate):
                created.append(candidate)
        except OSError as error:
            raise _failed("create", candidate, error) from error
    return created


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` at once: a new private temporary, renamed over it."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.unlink(missing_ok=True)  # left by a killed process with this pid
        private.write_bytes(temporary, data)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise _failed("write", path, error) from error


def _read_record(path: Path) -> _Record:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _Record()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        # Without it nothing counts as ours: install leaves identical files, remove keeps all.
        log.warning("cannot read %s (%s): starting a new record", path, error)
        return _Record()
    data = data if isinstance(data, dict) else {}
    files, folders = data.get("files"), data.get("folders")
    if not isinstance(files, dict) or not isinstance(folders, list):
        log.warning("%s is not a record of desktop-search's menu files: starting a new one", path)
        return _Record()
    return _Record(
        files={str(k): str(v) for k, v in files.items()}, folders=[str(f) for f in folders]
    )


def _write_record(path: Path, record: _Record) -> None:
    fields = {"version": RECORD_VERSION, "files": record.files, "folders": record.folders}
    text = json.dumps(fields, indent=1)
    _make_folders(path.parent)
    _replace(path, text.encode("utf-8"))


def _forget_record(path: Path) -> None:
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # the record's own folder, when nothing else is in it


# -- caches ---------------------------------------------------------------------------------


def _refresh_caches(folders: XdgFolders) -> tuple[str, ...]:
    """Bring the caches that exist up to date with the new files; returns the tools run."""
    ran = []
    jobs = (
        ("update-desktop-database", folders.applications / "mimeinfo.cache",
         ["-q", str(folders.applications)]),
        ("gtk-update-icon-cache", folders.hicolor / "icon-theme.cache",
         ["-q", "-f", "-t", str(folders.hicolor)]),
    )  # fmt: skip
    for tool, cache, arguments in jobs:
        program = shutil.which(tool)
        if program is None or not cache.is_file():
            continue
        if _run(program, arguments):
            ran.append(tool)
    # Icon themes notice new sizes by this folder's time (none: the last icon went with it).
    with contextlib.suppress(OSError):
        os.utime(folders.hicolor)
    return tuple(ran)


def _run(program: str, arguments: Iterable[str]) -> bool:
    try:
        done = subprocess.run(
            [program, *arguments], capture_output=True, text=True, check=False,
            timeout=CACHE_TIMEOUT_SECONDS,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        log.warning("%s did not run: %s", program, error)
        return False
    if done.returncode != 0:
        log.warning("%s failed (%d): %s", program, done.returncode, done.stderr.strip())
        return False
    return True
