"""Exception hierarchy. Every message says what happened and what the user can do about it.

The CLI prints ``str(error)`` as one line; ``hint`` (when set) is appended after a dash.
"""

from __future__ import annotations


class DesktopSearchError(Exception):
    """Base class for errors the user can act on."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class HomeNotWritableError(DesktopSearchError):
    """The library home directory cannot be created or written."""


class HomeNotALibraryError(DesktopSearchError):
    """The home named is an existing folder holding other files, not a library home."""


class WriterLockedError(DesktopSearchError):
    """Another process holds the writer lock of this library."""


class NoModelError(DesktopSearchError):
    """The operation needs a model and none is installed or active."""


class ModelError(DesktopSearchError):
    """A model folder is missing files, fails verification, or cannot be loaded."""


class ModelImportError(DesktopSearchError):
    """A checkpoint could not be converted into a model."""


class ConvertExtraMissingError(ModelImportError):
    """Model conversion needs the optional ``convert`` extra (torch, open_clip_torch)."""


class DisplayUnavailableError(DesktopSearchError):
    """The window cannot open here: no display, or Qt's platform plugin lacks system libraries."""


class QueryError(DesktopSearchError):
    """A search query (text or image) cannot be used."""

    exit_code = 2


class FileNotIndexableError(DesktopSearchError):
    """One file cannot be indexed; ``reason`` is what gets recorded for it."""

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        # Transient: worth retrying later as it is (I/O error, changed while being read);
        # otherwise the file waits until it changes.
        self.transient = transient


class IndexFileError(DesktopSearchError):
    """A saved vector index is missing, stale or corrupt (the caller rebuilds it from SQLite)."""


class StoreError(DesktopSearchError):
    """The metadata database cannot be opened or is from a newer version."""


class SettingsError(DesktopSearchError):
    """A setting was given a value it cannot take, or the settings file cannot be written (then
    nothing was changed)."""


class AutostartError(SettingsError):
    """The settings were saved, but the login entry that starts the app could not be changed."""


class ModelDownloadError(ModelError):
    """A model file could not be downloaded, or what arrived failed verification."""


class FetchCancelled(ModelDownloadError):
    """The person cancelled a model download; what arrived is kept and the next fetch resumes."""


class IndexCancelled(DesktopSearchError):
    """An indexing run was cancelled by the user; everything committed before stays."""


class ResourceMissingError(DesktopSearchError):
    """A file the app ships (an icon, the desktop entry, the metainfo) is not installed with it."""


class DesktopEntryError(DesktopSearchError):
    """The applications-menu entry could not be added or removed (nothing half-done is left)."""
