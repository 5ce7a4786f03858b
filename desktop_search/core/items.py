"""Plain records passed between the store, the indexer, search and the user interfaces."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from desktop_search.core.pathnames import path_json
from desktop_search.core.snippets import Snippet
from desktop_search.extract.document import Document

Box = tuple[float, float, float, float]  # x, y, w, h in pixels


@dataclass(frozen=True)
class FileState:
    """What the store knows about one file, enough to decide whether it changed."""

    id: int
    path: str
    size: int | None
    mtime_ns: int | None
    content_hash: str | None
    status: str
    has_embedding: bool
    thumbnail: str | None = None
    kind: str = "photo"
    objects: str | None = None  # which detector + CLIP model its object items come from


@dataclass
class PhotoRecord:
    """One successfully read photo, ready to be written to the store."""

    path: str
    root: str
    size: int
    mtime_ns: int
    content_hash: str
    width: int
    height: int
    taken_at: str | None = None
    camera: str | None = None
    gps: tuple[float, float] | None = None
    thumbnail: str | None = None


@dataclass
class DocumentRecord:
    """One successfully extracted document, ready to be written to the store."""

    path: str
    root: str
    size: int
    mtime_ns: int
    content_hash: str
    document: Document
    thumbnail: str | None = None


@dataclass(frozen=True)
class FoundObject:
    """One object of a photo; ``box`` is in the photo's full-size pixels (orientation applied)."""

    label: str
    score: float
    box: Box
    encoded: bool = False  # gets a CLIP embedding of its crop

    def to_json(self) -> dict:
        return {"label": self.label, "score": round(self.score, 4),
                "box": [round(v, 1) for v in self.box]}  # fmt: skip


@dataclass
class Hit:
    """One search result: a file, its score and what is needed to show it."""

    path: str  # as the os functions give it: open() this one (pathnames.readable_path() to show it)
    score: float
    kind: str
    file_id: int
    item_id: int
    taken_at: str | None = None
    camera: str | None = None
    width: int | None = None
    height: int | None = None
    size: int | None = None
    thumbnail: Path | None = None
    locator: dict | None = None  # where in the file: {"page": 3}, {"message": 2, ...}, ...
    item_kind: str | None = None  # photo, chunk, message, window, attachment, ocr, picture
    title: str | None = None  # a document's title, an e-mail's subject, a chat's name
    started_at: str | None = None  # ISO 8601: the message's time, a chat window's first one
    ended_at: str | None = None
    senders: list[str] | None = None
    snippet: Snippet | None = None  # the matching passage, query words marked
    # The detected object that matched: its box (x, y, w, h in the photo's full-size pixels,
    # i.e. relative to width x height) and class.
    box: tuple[float, float, float, float] | None = None
    object_label: str | None = None

    def to_json(self) -> dict:
        """The hit's fields; ``path`` readable, and for a name that is not valid UTF-8 also
        ``path_base64``: the exact bytes (see ``pathnames.path_json``)."""
        data = {key: value for key, value in self.__dict__.items() if value is not None}
        data.update(path_json(self.path))
        data["score"] = round(self.score, 6)
        if self.thumbnail is not None:
            data["thumbnail"] = str(self.thumbnail)
        if self.snippet is not None:
            data["snippet"] = self.snippet.to_json()
        if self.box is not None:
            data["box"] = list(self.box)
        return data


@dataclass
class IndexReport:
    """What one indexing run did; printed as the summary and returned as JSON."""

    new: int = 0
    changed: int = 0
    caught_up: int = 0  # unchanged files encoded now because the model had no embedding yet
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    still_failing: int = 0  # failed in an earlier run and unchanged since (not retried)
    moved: int = 0  # renamed or moved: embeddings kept, nothing re-encoded
    copied: int = 0  # new files with the bytes of an indexed one: embeddings copied
    retrying: int = 0  # failed for a passing reason (I/O, changing); queued for a later retry
    documents: int = 0  # PDFs, text files, e-mails and chats read
    passages: int = 0  # passages encoded into the text space
    objects: int = 0  # objects detected in photos (see core/objects.py)
    photo_texts: int = 0  # photos in which text was found
    decoded: int = 0
    encoded: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    # Symbolic links not followed, by why: "outside" (the target lies outside the indexed
    # folder: a link to ~/.ssh/id_rsa is not indexed), "dangling", "loop". Counted, not failures.
    skipped_links: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        data = dict(self.__dict__)
        data["failures"] = [{**path_json(path), "reason": reason} for path, reason in self.failures]
        return data
