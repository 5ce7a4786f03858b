"""Getting a CLIP model from the window: what is offered, the download's state, the job.

``Offer`` is what a person is told before anything touches the network (name, size, licence);
``DownloadState`` is plain data the widgets render (``ModelOffer`` in model_offer.py), so the
first-run panel and the window's banner show one download the same way (Settings → Model
renders it too, for the model chosen there). ``ModelDownload`` owns that download: one
``Library.fetch_model`` call on the worker pool, with a ``threading.Event`` to cancel it, its
progress turned into the words ``TransferMeter`` gives the terminal too.

No network access happens before ``start()``: the offer is built from the manifest and from
what an earlier fetch wrote down (``resolved_sizes``), both local files.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop_search.errors import DesktopSearchError, FetchCancelled
from desktop_search.gui.workers import Worker, WorkerPool
from desktop_search.index.progress import ProgressCallback, TransferMeter, megabytes
from desktop_search.models.install.fetch import resolved_sizes

log = logging.getLogger(__name__)

# The phases of a download, in the order a person meets them.
OFFERED, DOWNLOADING, INSTALLING, CANCELLING, CANCELLED, FAILED, INSTALLED = (
    "offered", "downloading", "installing", "cancelling", "cancelled", "failed", "installed",
)  # fmt: skip
BUSY = (DOWNLOADING, INSTALLING, CANCELLING)

DOWNLOAD = "Download model"
TRY_AGAIN = "Try again"
CONNECTING = "Connecting to the model hub…"
CANCELLED_LINE = "Download cancelled. What arrived is kept: downloading again goes on from there."
REDRAW_MS = 100  # progress comes every 64 KiB block: at most ten redraws a second
NOT_FETCHABLE = (
    "This version cannot download it with every file verified: see 'desktop-search models "
    "list', or install a model you have with 'desktop-search models import FOLDER'."
)


@dataclass(frozen=True)
class Offer:
    """A model offered for download, as told before it: nothing here asks the hub."""

    model_id: str
    name: str
    license: str
    size: str  # "605.0 MB" once a fetch learnt it from the hub, else "about 607 MB"
    fetchable: bool

    @property
    def details(self) -> str:
        return f"{self.name} · {self.size} · licence: {self.license}"


def size_text(exact: int | None, approximate: int | None) -> str:
    """The exact size when an earlier fetch asked the hub, else the manifest's estimate."""
    if exact:
        return megabytes(exact)
    if approximate:
        return f"about {approximate / 1e6:,.0f} MB"  # an estimate: no decimals to promise
    return "size unknown"


def known_size(resolved: Mapping[str, Any], model_id: str) -> int | None:
    """The size an earlier fetch learnt from the hub (``resolved``: ``resolved_sizes()``)."""
    known = resolved.get(model_id)
    size = known.get("size") if isinstance(known, dict) else None
    return size if isinstance(size, int) else None


def offer_for(manifest: Any, resolved: Mapping[str, Any]) -> Offer:
    """What is told of ``manifest`` before its download (``resolved``: ``resolved_sizes()``)."""
    exact = known_size(resolved, manifest.id)
    return Offer(
        model_id=manifest.id, name=manifest.name, license=manifest.license,
        size=size_text(exact or manifest.total_size, manifest.approximate_size),
        fetchable=manifest.fetchable,
    )  # fmt: skip


def default_offer(library: Any) -> Offer | None:
    """The default CLIP model to offer, from local files only; None when there is none."""
    try:
        manifest = library.default_clip()
    except DesktopSearchError as error:  # no default in this install: the note says the rest
        log.warning("no default CLIP model to offer: %s", error)
        return None
    return offer_for(manifest, resolved_sizes(library.models))


@dataclass(frozen=True)
class DownloadState:
    """What the offer widgets show; every field is plain text or numbers."""

    offer: Offer
    phase: str = OFFERED
    done: int = 0  # bytes so far
    total: int = 0  # bytes in all (0: not known yet)
    progress: str = ""  # "120.5 of 605.0 MB · 4.2 MB/s · about 2 min left"
    error: str = ""  # the one actionable line of the last failure

    @property
    def busy(self) -> bool:
        return self.phase in BUSY

    @property
    def button_text(self) -> str:
        return TRY_AGAIN if self.phase == FAILED else DOWNLOAD

    @property
    def button_shown(self) -> bool:
        return self.phase in (OFFERED, CANCELLED, FAILED)

    @property
    def button_enabled(self) -> bool:
        return self.offer.fetchable

    @property
    def can_cancel(self) -> bool:
        # The core's cancel stops the transfer; verifying and installing run to their end.
        return self.phase == DOWNLOADING

    @property
    def fraction(self) -> float | None:
        """How much has arrived (None: not known, show a busy bar)."""
        if self.phase == INSTALLING or self.total <= 0:
            return None
        return min(1.0, self.done / self.total)

    @property
    def line(self) -> str:
        """The line under the button: progress, the error, or what happened."""
        if not self.offer.fetchable:
            return NOT_FETCHABLE
        if self.phase == DOWNLOADING:
            return self.progress or CONNECTING
        if self.phase == INSTALLING:
            return "Verifying and installing…"
        if self.phase == CANCELLING:
            return "Cancelling…"
        if self.phase == CANCELLED:
            return CANCELLED_LINE
        if self.phase == FAILED:
            return self.error
        if self.phase == INSTALLED:
            return "Installed. Photos are encoded with it as they are indexed."
        return ""


def error_line(error: BaseException) -> str:
    """One line for a failure: DesktopSearchError's str says what to do; anything else is a
    bug, named by its type so a report is useful."""
    text = str(error) if isinstance(error, DesktopSearchError) else (
        f"Download failed: {type(error).__name__}: {error}"
    )  # fmt: skip
    return " ".join(text.split()) or type(error).__name__


def _fetch(
    library: Any, model_id: str, cancel: threading.Event,
    progress: ProgressCallback | None = None,
) -> str | None:  # fmt: skip
    """The worker's job: fetch (download, verify, install) and return the active model after."""
    library.fetch_model(model_id, progress=progress, cancel=cancel)
    return library.active_model_name


class ModelDownload(QObject):
    """The download of one offered model: the default one in the window, or the one chosen
    in Settings → Model.

    Signals (GUI thread): ``changed(DownloadState)`` on every change, ``installed(str)`` with the
    active CLIP model once the fetched one is in (the library activates it when none was active).
    """

    changed = Signal(object)
    installed = Signal(str)

    def __init__(self, library: Any, pool: WorkerPool, offer: Offer,
                 parent: QObject | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.library = library
        self.pool = pool
        self.state = DownloadState(offer)
        self._cancel: threading.Event | None = None
        self._meter: TransferMeter | None = None
        self._worker: Worker | None = None
        self._closed = False
        # Progress arrives per block of the transfer (thousands a minute on a fast line): the
        # state follows every report, the widgets are told at most every REDRAW_MS.
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(REDRAW_MS)
        self._redraw.timeout.connect(lambda: self.changed.emit(self.state))

    def start(self) -> None:
        """Download, verify and install the offered model on a worker (the button's click)."""
        if self._closed or self.state.busy or not self.state.offer.fetchable:
            return
        self._cancel = threading.Event()
        self._meter = None  # a new attempt measures its own speed
        self._set(phase=DOWNLOADING, done=0, total=0, progress="", error="")
        self._worker = self.pool.start(
            _fetch, self.library, self.state.offer.model_id, self._cancel,
            on_progress=self._progress, on_result=self._done, on_error=self._failed,
        )  # fmt: skip

    def cancel(self) -> None:
        """Stop the transfer at its next block; what arrived stays for the next attempt."""
        if self._cancel is not None and self.state.phase == DOWNLOADING:
            self._cancel.set()
            self._set(phase=CANCELLING)

    def close(self) -> None:
        """The window closes: stop a transfer so waiting for the pool does not wait for it."""
        self._closed = True
        self._redraw.stop()
        if self._cancel is not None:
            self._cancel.set()

    # -- reports from the worker (GUI thread) ----------------------------------------------

    def _progress(self, done: int, total: int) -> None:
        if self._closed or self.state.phase != DOWNLOADING:
            return  # cancelling: the last bytes do not bring the bar back
        done, total = int(done), int(total or 0)
        if self._meter is None:
            self._meter = TransferMeter()  # measures from this attempt's first report
        text = self._meter.update(done, total)
        if total and done >= total:
            self._set(phase=INSTALLING, done=done, total=total, progress=text)
            return
        first = not self.state.progress
        self.state = replace(self.state, done=done, total=total, progress=text)
        if first:
            self.changed.emit(self.state)  # the first bytes: no longer "Connecting…"
        if not self._redraw.isActive():
            self._redraw.start()

    def _done(self, active: str | None) -> None:
        if self._closed:
            return
        self._set(phase=INSTALLED)
        if active:
            self.installed.emit(active)

    def _failed(self, error: BaseException) -> None:
        if self._closed:
            return
        # The attempt may have learnt the exact size from the hub: show it from now on.
        offer = self.state.offer
        exact = known_size(resolved_sizes(self.library.models), offer.model_id)
        if exact:
            offer = replace(offer, size=size_text(exact, None))
        # Cancel pressed: whatever ended the job (FetchCancelled, or a transfer that broke
        # meanwhile) is what the person asked for.
        if isinstance(error, FetchCancelled) or self.state.phase == CANCELLING:
            self._set(phase=CANCELLED, offer=offer)
        else:
            self._set(phase=FAILED, error=error_line(error), offer=offer)

    def _set(self, **changes: Any) -> None:
        self._redraw.stop()  # this emits the newest state anyway
        self.state = replace(self.state, **changes)
        self.changed.emit(self.state)
