"""Turn a query (text, an example image, or both) into ranked hits."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop_search.core.encoders import QueryEncoder
from desktop_search.core.items import Hit
from desktop_search.core.store import Store
from desktop_search.core.thumbnails import ThumbnailStore
from desktop_search.core.vectors import VectorIndex
from desktop_search.errors import FileNotIndexableError, NoModelError, QueryError
from desktop_search.extract.images import load_photo, read_file
from desktop_search.models.preprocess import preprocess

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Query:
    text: str | None = None
    image: Path | None = None
    limit: int = 20

    def __post_init__(self) -> None:
        if not (self.text and self.text.strip()) and self.image is None:
            raise QueryError("the query is empty", hint="give search text or --image FILE")
        if self.limit < 1:
            raise QueryError(f"--limit must be at least 1, not {self.limit}")


class Searcher:
    """Searches one embedding space; the store supplies what is shown for each hit.

    Without an encoder (no model installed yet) text queries match file names and folders.
    """

    def __init__(
        self,
        store: Store,
        vectors: VectorIndex | None,
        encoder: QueryEncoder | None,
        thumbnails: ThumbnailStore,
    ) -> None:
        self.store = store
        self.vectors = vectors
        self.encoder = encoder
        self.thumbnails = thumbnails

    def search(self, query: Query) -> list[Hit]:
        if self.encoder is None or self.vectors is None:
            return self.search_names(query)
        vector = self.query_vector(query)
        return self.search_vector(vector, query.limit)

    def search_names(self, query: Query) -> list[Hit]:
        """Rank files whose path holds every query word; words in the file name count most."""
        if query.image is not None:
            raise NoModelError(
                "searching by image needs a CLIP model, and none is installed",
                hint="see 'desktop-search models list' for models to fetch or import",
            )
        words = [word.lower() for word in query.text.split()]
        scored = []
        for record in self.store.match_paths(words, query.limit):
            name = os.path.basename(record["path"]).lower()
            score = sum(word in name for word in words) / len(words)
            scored.append((score, record))
        scored.sort(key=lambda pair: -pair[0])
        return [self._hit(record, score) for score, record in scored[: query.limit]]

    def query_vector(self, query: Query) -> np.ndarray:
        """The query's embedding; text and image together are averaged (both are unit length)."""
        parts = []
        if query.text and query.text.strip():
            parts.append(self.encoder.encode_texts([query.text.strip()])[0])
        if query.image is not None:
            parts.append(self._image_vector(query.image))
        vector = np.mean(parts, axis=0)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def _image_vector(self, path: Path) -> np.ndarray:
        if not path.is_file():
            raise QueryError(f"query image not found: {path}", hint="check the path")
        spec = self.encoder.image_spec
        try:
            photo = load_photo(read_file(path), min_side=spec.size, thumb_size=spec.size)
        except FileNotIndexableError as error:
            raise QueryError(
                f"cannot use {path} as a query image: {error.reason}",
                hint="give a readable JPEG, PNG, WebP, GIF, TIFF, BMP or HEIC file",
            ) from error
        return self.encoder.encode_images(preprocess(photo.image, spec)[None])[0]

    def search_vector(self, vector: np.ndarray, limit: int) -> list[Hit]:
        found = self.vectors.search(vector, limit)
        records = self.store.hits([item_id for item_id, _ in found])
        # An id missing from the store was removed by a concurrent writer: skip it.
        return [self._hit(records[i], score) for i, score in found if i in records]

    def _hit(self, record: dict, score: float) -> Hit:
        return Hit(
            path=record["path"], score=float(score), kind=record["kind"],
            file_id=record["file_id"], item_id=record["item_id"], taken_at=record["taken_at"],
            camera=record["camera"], width=record["width"], height=record["height"],
            size=record["size"], thumbnail=self.thumbnails.path(record["thumbnail"]),
        )  # fmt: skip
