"""The library's status, typed: what is indexed, what waits, objects found, and what failed.

``read_status`` gathers it from the store in one go (``Library.status()`` calls it);
``LibraryStatus.to_json()`` is what ``desktop-search status --json`` prints, a format scripts
read: its keys, their order and their spelling of paths stay as they are. The values are frozen:
whoever needs more (the window's filter bar) asks for a field, never adds keys.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_search.store.pathnames import path_json, readable_path

if TYPE_CHECKING:
    from desktop_search.store.store import Store

log = logging.getLogger(__name__)

# The meta key under which the last runs record the symbolic links they did not follow.
SKIPPED_LINKS_KEY = "skipped_links"


@dataclass(frozen=True)
class FileCount:
    """How many files of one kind are in one state (``indexed``, ``failed``, ...)."""

    kind: str
    status: str
    count: int


@dataclass(frozen=True)
class Failure:
    """A file that could not be indexed. ``path`` is as stored: a name that is not UTF-8 holds
    surrogate escapes (``readable_path`` shows it, ``path_json`` writes it)."""

    path: str
    reason: str | None


@dataclass(frozen=True)
class QueueCounts:
    """Files waiting in the queue now, waiting for a retry, and parked until they change."""

    waiting: int = 0
    retrying: int = 0
    parked: int = 0


@dataclass(frozen=True)
class ObjectCounts:
    """Objects found (``classes``: per label), and photos not looked at yet with the detector
    in use. ``detector`` is None when none is installed or the setting switches it off."""

    total: int = 0
    photos: int = 0
    classes: dict[str, int] = field(default_factory=dict)
    detector: str | None = None
    pending: int = 0


@dataclass(frozen=True)
class IndexerHeartbeat:
    """What the process that indexes publishes (``index.progress.Heartbeat``): its state and
    progress. ``queued``, ``retrying`` and ``unwatched`` come from a live index only (None: not
    published, so ``to_json`` leaves them out as the heartbeat did)."""

    pid: int
    state: str
    updated: float = 0.0
    done: int = 0
    total: int = 0
    rate: float | None = None  # files per second
    eta_seconds: float | None = None
    unwatched: dict[str, str] | None = None  # root -> why it is rescanned instead of watched
    queued: int | None = None
    retrying: int | None = None

    @classmethod
    def from_json(cls, info: dict[str, Any]) -> IndexerHeartbeat:
        """The heartbeat as ``Heartbeat.read()`` returns it (a process of another version may
        publish other keys: those are left out)."""
        unwatched = info.get("unwatched")
        return cls(
            pid=int(info["pid"]), state=str(info.get("state") or "indexing"),
            updated=float(info.get("updated") or 0.0), done=int(info.get("done") or 0),
            total=int(info.get("total") or 0), rate=info.get("rate"),
            eta_seconds=info.get("eta_seconds"),
            unwatched=dict(unwatched) if unwatched is not None else None,
            queued=_optional_int(info.get("queued")), retrying=_optional_int(info.get("retrying")),
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        """The heartbeat's own JSON, its folders readable (``readable_path``)."""
        data: dict[str, Any] = {
            "pid": self.pid, "state": self.state, "updated": self.updated, "done": self.done,
            "total": self.total, "rate": self.rate, "eta_seconds": self.eta_seconds,
        }  # fmt: skip
        if self.unwatched is not None:
            data["unwatched"] = {readable_path(root): why for root, why in self.unwatched.items()}
        for key, value in (("queued", self.queued), ("retrying", self.retrying)):
            if value is not None:
                data[key] = value
        return data


@dataclass(frozen=True)
class LibraryStatus:
    """One look at a library (``Library.status()``). The counts of items waiting are for the
    models in use now: ``pending`` photos for the CLIP model ``model``, ``passages_pending`` for
    the text model, ``photos_to_read`` while reading text in photos is on."""

    home: str
    model: str | None = None
    roots: list[str] = field(default_factory=list)
    files: list[FileCount] = field(default_factory=list)
    embeddings: int = 0  # of the CLIP model in use
    pending: int = 0
    text_model: str | None = None
    passages_pending: int = 0
    photos_to_read: int = 0
    objects: ObjectCounts = field(default_factory=ObjectCounts)
    queue: QueueCounts = field(default_factory=QueueCounts)
    indexer: IndexerHeartbeat | None = None  # None: nobody indexes (or it stopped publishing)
    failures: list[Failure] = field(default_factory=list)
    skipped_links: dict[str, int] = field(default_factory=dict)  # why -> links not followed
    # Photos per object label, for the window's filter bar; read only when asked for
    # (``read_status(..., object_classes=True)``) and not part of the JSON.
    object_classes: list[tuple[str, int]] | None = None

    def indexed(self, kind: str | None = None) -> int:
        """Files indexed (of ``kind``, e.g. ``photo``; None: of every kind)."""
        return sum(
            row.count for row in self.files
            if row.status == "indexed" and (kind is None or row.kind == kind)
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        """What ``status --json`` prints: paths readable, and a failure's ``path_base64`` (the
        exact bytes) for a name that is not valid UTF-8."""
        return {
            "home": self.home,
            "model": self.model,
            "roots": [readable_path(root) for root in self.roots],
            "files": [{"kind": f.kind, "status": f.status, "count": f.count} for f in self.files],
            "embeddings": self.embeddings,
            "pending": self.pending,
            "text_model": self.text_model,
            "passages_pending": self.passages_pending,
            "photos_to_read": self.photos_to_read,
            "objects": {
                "total": self.objects.total, "photos": self.objects.photos,
                "classes": dict(self.objects.classes), "detector": self.objects.detector,
                "pending": self.objects.pending,
            },  # fmt: skip
            "queue": {
                "waiting": self.queue.waiting, "retrying": self.queue.retrying,
                "parked": self.queue.parked,
            },  # fmt: skip
            "indexer": self.indexer.to_json() if self.indexer else None,
            "failures": [
                {"path": f.path, "reason": f.reason, **path_json(f.path)} for f in self.failures
            ],
            "skipped_links": dict(self.skipped_links),
        }


def read_status(
    store: Store,
    home: Path,
    *,
    model: str | None,
    text_model: str | None,
    read_photo_text: bool,
    objects: ObjectCounts,
    object_classes: bool = False,
) -> LibraryStatus:
    """The status of the library in ``store``, counted for the models in use: ``model`` (CLIP)
    and ``text_model``; ``read_photo_text``: text in photos is read (the setting is on and the
    reader is there). Loads no model: the window asks every few seconds."""
    # Indexing's module: a `search` process, which never asks for the status, loads none of it.
    from desktop_search.index.progress import Heartbeat

    counts = [FileCount(row["kind"], row["status"], row["count"]) for row in store.reads.counts()]
    ready, retrying = store.queue.waiting()
    parked = sum(row.count for row in counts if row.status == "failed")
    heartbeat = Heartbeat(store).read()
    return LibraryStatus(
        home=str(home),
        model=model,
        roots=store.files.roots(),
        files=counts,
        embeddings=store.embeddings.count(model) if model else 0,
        pending=store.reads.pending_count(model),
        text_model=text_model,
        # Passages waiting for the text model; photos whose text was not read yet.
        passages_pending=store.texts.texts_to_embed_count(text_model) if text_model else 0,
        photos_to_read=store.texts.photos_to_read_count() if read_photo_text else 0,
        objects=objects,
        queue=QueueCounts(waiting=ready, retrying=retrying, parked=parked),
        indexer=IndexerHeartbeat.from_json(heartbeat) if heartbeat else None,
        failures=[Failure(path, reason) for path, reason in store.reads.failures()],
        skipped_links=_skipped_links(store),
        object_classes=list(store.objects.object_classes()) if object_classes else None,
    )


def _skipped_links(store: Store) -> dict[str, int]:
    raw = store.meta(SKIPPED_LINKS_KEY)
    try:
        found = json.loads(raw) if raw else {}
    except ValueError:  # written by this app only; a damaged value says nothing
        log.warning("ignoring an unreadable record of skipped links: %r", raw)
        return {}
    return found if isinstance(found, dict) else {}


def _optional_int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None
