"""A search result: what search hands the CLI and the window."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from desktop_search.search.snippets import Snippet
from desktop_search.store.pathnames import path_json


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
    # The file's best places, best first, when it has more than one worth showing: this hit
    # itself first, then e.g. other pages of a long PDF ("also on pages 37, 112"). Each is a
    # Hit of the same file with that place's locator, item, score and snippet (and no places).
    places: list[Hit] = field(default_factory=list)

    def place(self, index: int) -> Hit:
        """The hit as shown at its ``index``-th place (0: itself), its places kept, so that
        a preview stepping through them still knows them all."""
        if not self.places:
            if index != 0:
                raise IndexError(f"place {index} of a hit with one place")
            return self
        chosen = self.places[index]
        return Hit(**{**chosen.__dict__, "places": self.places})

    def to_json(self) -> dict:
        """The hit's fields; ``path`` readable, and for a name that is not valid UTF-8 also
        ``path_base64``: the exact bytes (see ``pathnames.path_json``)."""
        data = {
            key: value
            for key, value in self.__dict__.items()
            if value is not None and key != "places"
        }
        data.update(path_json(self.path))
        data["score"] = round(self.score, 6)
        if self.thumbnail is not None:
            data["thumbnail"] = str(self.thumbnail)
        if self.snippet is not None:
            data["snippet"] = self.snippet.to_json()
        if self.box is not None:
            data["box"] = list(self.box)
        if self.places:
            data["places"] = [place.place_json() for place in self.places]
        return data

    @property
    def place_count(self) -> int:
        """How many places of its file the hit has (1 unless ``places`` lists more)."""
        return max(1, len(self.places))

    def place_index(self) -> int:
        """Which of its places this hit is shown at (0 for a hit with one place)."""
        for index, place in enumerate(self.places):
            if place.item_id == self.item_id:
                return index
        return 0

    def place_json(self) -> dict:
        """Where this hit's match is: item, locator, score and snippet (for ``places``)."""
        data: dict = {"item_id": self.item_id, "score": round(self.score, 6)}
        for key in ("item_kind", "locator", "started_at", "ended_at", "senders"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.snippet is not None:
            data["snippet"] = self.snippet.to_json()
        return data
