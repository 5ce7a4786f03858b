"""Plain records the store reads and writes: a file's state, photos and documents ready to be
written, the objects found in a photo."""

from __future__ import annotations

from dataclasses import dataclass

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
