"""Every change to a library's settings: checked, saved (or not made at all), with its effects.

The CLI and the window change settings only through here (``Library.settings_service``; the
model choices also as ``Library.use_model`` and ``Library.use_text_model``), so both check the
same values and do the same things after. A value is checked before anything changes; a change
that cannot be saved leaves the settings in memory as they were (a Library's readers share that
object: none of them may act on a value that is not on disk).

What a change asks of the index is for the caller to run, as each front end runs indexing its
own way (the CLI an ``index`` run, the window its live index): ``SettingsChange.rescan`` after
other exclude patterns; after another model, what was indexed without it waits for the next run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace

from desktop_search.app.resources import Resources
from desktop_search.config import Paths, Settings
from desktop_search.errors import AutostartError, ModelError, SettingsError
from desktop_search.models.install.store import ModelStore
from desktop_search.platform import autostart

log = logging.getLogger(__name__)

# One change at a time in this process: the window changes settings from its GUI thread and
# from workers (a model switch), and a rollback must not undo another thread's change. Re-entrant:
# a single setter holds it from reading the preferences to saving them.
_CHANGING = threading.RLock()


@dataclass(frozen=True)
class Preferences:
    """The settings a person edits as values: what to skip, how many threads decode, what to
    index and how the app starts. Models and folders change by actions (``use_model``,
    ``Library.index``, ``Library.remove_root``)."""

    exclude: tuple[str, ...] = ()
    index_threads: int = 0  # 0: as many decode threads as CPU cores
    index_documents: bool = True
    read_text_in_photos: bool = True
    detect_objects: bool = True
    start_at_login: bool = False
    keep_in_tray: bool = True

    @classmethod
    def of(cls, settings: Settings) -> Preferences:
        return cls(
            exclude=tuple(settings.exclude), index_threads=settings.index_threads,
            index_documents=settings.index_documents,
            read_text_in_photos=settings.read_text_in_photos,
            detect_objects=settings.detect_objects, start_at_login=settings.start_at_login,
            keep_in_tray=settings.keep_in_tray,
        )  # fmt: skip


@dataclass(frozen=True)
class SettingsChange:
    """What a change of preferences asks of the index; the caller runs it."""

    rescan: bool = False  # other exclude patterns: look at every indexed folder again


def clean_patterns(patterns: Iterable[str]) -> list[str]:
    """Exclude patterns as they are kept: stripped, blank ones dropped, each once, in order."""
    kept: list[str] = []
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise SettingsError(f"an exclude pattern is a glob, not {pattern!r}",
                                hint="e.g. '*.tmp' or '**/node_modules/**'")  # fmt: skip
        pattern = pattern.strip()
        if pattern and pattern not in kept:
            kept.append(pattern)
    return kept


class SettingsService:
    """The changes to one library's settings (shared with its readers: ``settings`` and
    ``shared`` are the same objects in all of them)."""

    def __init__(
        self, settings: Settings, paths: Paths, models: ModelStore, shared: Resources
    ) -> None:
        self.settings = settings
        self.paths = paths
        self.models = models
        self.shared = shared

    # -- preferences ------------------------------------------------------------------------

    def preferences(self) -> Preferences:
        return Preferences.of(self.settings)

    def update(self, preferences: Preferences) -> SettingsChange:
        """Check and save ``preferences`` at once (SettingsError: nothing changed), then bring
        the login entry in line (AutostartError: the settings are saved, the entry is not)."""
        new = _checked(preferences)
        with _CHANGING:
            old = self.preferences()
            self._save(
                exclude=list(new.exclude), index_threads=new.index_threads,
                index_documents=new.index_documents, read_text_in_photos=new.read_text_in_photos,
                detect_objects=new.detect_objects, start_at_login=new.start_at_login,
                keep_in_tray=new.keep_in_tray,
            )  # fmt: skip
            # A login entry that could not be made before is made now; never one the person did
            # not ask for (an entry they made otherwise stays until they switch this).
            missing = new.start_at_login and not autostart.autostart_enabled()
            if new.start_at_login != old.start_at_login or missing:
                _set_autostart(new.start_at_login)
        return SettingsChange(rescan=new.exclude != old.exclude)

    def set_exclude(self, patterns: Iterable[str]) -> SettingsChange:
        """Skip paths matching these globs (newly excluded files go at the rescan it asks for)."""
        with _CHANGING:
            return self.update(replace(self.preferences(), exclude=tuple(patterns)))

    def set_index_threads(self, threads: int) -> SettingsChange:
        """Threads that decode photos (0: one per CPU core); used from the next indexer on."""
        with _CHANGING:
            return self.update(replace(self.preferences(), index_threads=threads))

    def set_index_documents(self, on: bool) -> SettingsChange:
        """Index PDFs, text files, mail and chat exports besides photos (from the next run)."""
        with _CHANGING:
            return self.update(replace(self.preferences(), index_documents=on))

    def set_read_text_in_photos(self, on: bool) -> SettingsChange:
        """Read the text in photos (a slower pass after everything else is indexed)."""
        with _CHANGING:
            return self.update(replace(self.preferences(), read_text_in_photos=on))

    def set_detect_objects(self, on: bool) -> SettingsChange:
        """Look for objects in photos while indexing (with a detector installed)."""
        with _CHANGING:
            return self.update(replace(self.preferences(), detect_objects=on))

    def set_start_at_login(self, on: bool) -> SettingsChange:
        """Start the app in the tray at login (the login entry is made or removed too)."""
        with _CHANGING:
            return self.update(replace(self.preferences(), start_at_login=on))

    def set_keep_in_tray(self, on: bool) -> SettingsChange:
        """Closing the window keeps the app (and its live index) running in the tray."""
        with _CHANGING:
            return self.update(replace(self.preferences(), keep_in_tray=on))

    def stop_offering_menu_entry(self) -> None:
        """The person declined the offer to add the app to the applications menu: it is not
        made again ('desktop-search install-desktop-entry' adds it any time)."""
        with _CHANGING:
            self._save(offer_menu_entry=False)

    # -- models -----------------------------------------------------------------------------

    def use_model(self, name: str) -> None:
        """Make the installed CLIP model ``name`` the active one. What was indexed without it
        is encoded by the next indexing run (the caller starts it)."""
        kind = self.models.kind(name)  # raises ModelError if it is not installed
        if kind != "clip":  # a sentence model or the detector is used where it belongs
            raise ModelError(
                f"{name} is a {kind} model, not a CLIP model",
                hint="it is used as soon as it is installed; 'models use' picks the CLIP model",
            )
        with _CHANGING:
            self._save(active_model=name)
        previous = self.shared.registry.take("clip")
        # An indexer in this process may be encoding with the previous model right now: it keeps
        # its reference until its step ends, and the sessions go with the last reference. Only
        # when nobody indexes here are they released at once.
        if previous is not None and not self.shared.vectors.writer_active:
            previous.release()

    def use_text_model(self, name: str | None) -> None:
        """Use the installed sentence model ``name`` for documents and messages (None: the
        installed one, if any). Passages it has not encoded wait for the next indexing run."""
        if name is not None:
            kind = self.models.kind(name)  # raises ModelError if it is not installed
            if kind != "text":
                raise ModelError(f"{name} is a {kind} model, not a text model",
                                 hint="see 'desktop-search models list'")  # fmt: skip
        with _CHANGING:
            self._save(text_model=name)
        self.shared.registry.reset("text")

    def forget_model(self, name: str, kind: str) -> None:
        """Model ``name`` (of ``kind``) was removed: a setting that named it goes back to its
        default, and the next use looks for another model of its kind."""
        with _CHANGING:
            cleared = {key: None for key in ("active_model", "text_model")
                       if getattr(self.settings, key) == name}  # fmt: skip
            self._save(**cleared)
        self.shared.registry.reset(kind)

    # -- saving -----------------------------------------------------------------------------

    def _save(self, **values: object) -> None:
        """Set checked ``values`` and write the file (holding ``_CHANGING``); when it cannot be
        written the settings are left as they were."""
        before = {key: getattr(self.settings, key) for key in values}
        for key, value in values.items():
            setattr(self.settings, key, value)
        try:
            self.settings.save(self.paths.config)
        except OSError as error:
            for key, value in before.items():
                setattr(self.settings, key, value)
            reason = (error.strerror or str(error)).lower()
            raise SettingsError(
                f"cannot save the settings to {self.paths.config} ({reason}); nothing was changed",
                hint="check that the library folder is writable",
            ) from error
        log.info("settings changed: %s", ", ".join(sorted(values)))


def _checked(preferences: Preferences) -> Preferences:
    """``preferences`` with the exclude patterns cleaned; SettingsError for a value no setting
    can take."""
    threads = preferences.index_threads
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise SettingsError(f"the number of indexing threads cannot be {threads!r}",
                            hint="give 0 (one per CPU core) or a positive number")  # fmt: skip
    switches = ("index_documents", "read_text_in_photos", "detect_objects", "start_at_login",
                "keep_in_tray")  # fmt: skip
    for name in switches:
        if not isinstance(getattr(preferences, name), bool):
            raise SettingsError(f"{name} is on or off (true or false), not "
                                f"{getattr(preferences, name)!r}")  # fmt: skip
    return replace(preferences, exclude=tuple(clean_patterns(preferences.exclude)))


def _set_autostart(enabled: bool) -> None:
    try:
        autostart.set_autostart(enabled)
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        raise AutostartError(
            f"cannot {'create' if enabled else 'remove'} the login entry "
            f"{autostart.autostart_file()} ({reason})",
            hint="check that the folder is writable; the other settings are saved",
        ) from error
