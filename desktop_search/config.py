"""Where the library keeps its state, and the user's settings.

Everything lives under one home directory: the platform's user data dir by default,
``DESKTOP_SEARCH_HOME`` or ``--home`` override it. Settings are TOML in ``home/config.toml``.
"""

from __future__ import annotations

import logging
import os
import threading
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import platformdirs
import tomli_w

from desktop_search.errors import DesktopSearchError, HomeNotALibraryError, HomeNotWritableError
from desktop_search.platform import private

log = logging.getLogger(__name__)

HOME_ENV = "DESKTOP_SEARCH_HOME"
# A folder holding one of these is a library home (other files beside them are its owner's
# business). An existing folder with other files and none of these is refused as a home: `--home
# /tmp` or `--home ~` would scatter the library among the person's files, and in a shared folder
# other users could create those names first.
HOME_MARKERS = ("library.db", "config.toml", "models")
# Names the app itself puts in a home (a home it began to make before it was killed holds some).
APP_NAMES = {*HOME_MARKERS, "vectors", "thumbnails", "writer.lock", ".write-test"}


def resolve_home(explicit: str | os.PathLike | None = None) -> Path:
    """``explicit`` (``--home``), else $DESKTOP_SEARCH_HOME, else the platform's user data dir."""
    if explicit:
        return Path(explicit).expanduser().absolute()
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser().absolute()
    return Path(platformdirs.user_data_dir("desktop-search", appauthor=False))


@dataclass(frozen=True)
class Paths:
    """Every file and folder of one library, derived from its home."""

    home: Path

    @property
    def database(self) -> Path:
        return self.home / "library.db"

    @property
    def vectors(self) -> Path:
        return self.home / "vectors"

    @property
    def models(self) -> Path:
        return self.home / "models"

    @property
    def thumbnails(self) -> Path:
        return self.home / "thumbnails"

    @property
    def config(self) -> Path:
        return self.home / "config.toml"

    @property
    def writer_lock(self) -> Path:
        return self.home / "writer.lock"

    def ensure(self) -> None:
        """Create the home and its folders, or say clearly why that is impossible.

        What is created here is private (0700). An existing home or folder is used as it is:
        its permissions are never changed (a read-only command like ``status`` changes none).
        An existing folder that holds other files and is no library is refused.
        """
        try:
            self._refuse_other_folder()
            for folder in (self.home, self.vectors, self.models, self.thumbnails):
                if private.make_folder(folder):
                    log.debug("created %s (private)", folder)
            probe = self.home / ".write-test"
            probe.unlink(missing_ok=True)  # left by a killed process
            private.create_file(probe)
            probe.unlink()
        except OSError as error:
            reason = error.strerror or str(error)
            raise HomeNotWritableError(
                f"cannot write to the library folder {self.home} ({reason.lower()})",
                hint=f"choose a writable folder with --home DIR or ${HOME_ENV}",
            ) from error

    def _refuse_other_folder(self) -> None:
        """HomeNotALibraryError for an existing folder with other files and no library in it."""
        if not self.home.is_dir():
            return
        with os.scandir(self.home) as entries:
            names = {entry.name for entry in entries}
        others = sorted(names - APP_NAMES)
        if others and not names & set(HOME_MARKERS):
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise HomeNotALibraryError(
                f"{self.home} holds other files ({shown}) and is not a desktop-search library; "
                "nothing was written to it",
                hint=f"name a new or empty folder with --home DIR or ${HOME_ENV}",
            )


@dataclass
class Settings:
    """User settings, persisted as TOML. Unknown keys in the file are ignored (with a log line)."""

    active_model: str | None = None
    exclude: list[str] = field(default_factory=list)
    index_threads: int = 0  # 0: as many decode threads as CPU cores
    batch_size: int = 16
    start_at_login: bool = False
    keep_in_tray: bool = True  # closing the window keeps indexing in the tray (if there is one)
    text_model: str | None = None  # the sentence model; None: the installed one, if any
    index_documents: bool = True  # PDFs, text files, e-mail and chat exports besides photos
    read_text_in_photos: bool = True  # OCR of screenshots, receipts, signs (a slower pass)
    detect_objects: bool = True  # objects in photos (with the detector installed): slower indexing
    offer_menu_entry: bool = True  # the first run offers to put the app in the menu (till declined)

    @classmethod
    def load(cls, path: Path) -> Settings:
        if not path.exists():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise DesktopSearchError(
                f"cannot read settings file {path}: {error}",
                hint="fix or delete the file (defaults are used when it is absent)",
            ) from error
        known = {f.name for f in fields(cls)}
        for key in data.keys() - known:
            log.warning("ignoring unknown setting %r in %s", key, path)
        return cls(**{key: value for key, value in data.items() if key in known})

    def save(self, path: Path) -> None:
        data = {key: value for key, value in asdict(self).items() if value is not None}
        # A fresh file each time (private from its creation: it names the folders indexed),
        # unique to this thread: the window may save from two at once.
        temporary = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        temporary.unlink(missing_ok=True)  # left by a killed process with this pid
        private.write_text(temporary, tomli_w.dumps(data))
        os.replace(temporary, path)
