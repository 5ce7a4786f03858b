"""Where the library keeps its state, and the user's settings.

Everything lives under one home directory: the platform's user data dir by default,
``DESKTOP_SEARCH_HOME`` or ``--home`` override it. Settings are TOML in ``home/config.toml``.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import platformdirs
import tomli_w

from desktop_search.errors import DesktopSearchError, HomeNotWritableError

log = logging.getLogger(__name__)

HOME_ENV = "DESKTOP_SEARCH_HOME"


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
        """Create the home and its folders, or say clearly why that is impossible."""
        try:
            for folder in (self.home, self.vectors, self.models, self.thumbnails):
                folder.mkdir(parents=True, exist_ok=True)
            probe = self.home / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            reason = error.strerror or str(error)
            raise HomeNotWritableError(
                f"cannot write to the library folder {self.home} ({reason.lower()})",
                hint=f"choose a writable folder with --home DIR or ${HOME_ENV}",
            ) from error
        # Models and the catalogue of a person's files are private: user-only access.
        for folder in (self.home, self.models):
            try:
                folder.chmod(0o700)
            except OSError:
                log.debug("could not restrict permissions of %s", folder)


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
        temporary = path.with_suffix(".toml.tmp")
        temporary.write_text(tomli_w.dumps(data), encoding="utf-8")
        os.replace(temporary, path)
