"""What the indexer and search need from the models (``models.clip.ClipModel``,
``models.text.TextModel``).

Protocols rather than the concrete class keep the core testable with any encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:  # named, never imported: vectors/ sits below the models
    from desktop_search.models.runtime.preprocess import ImageSpec


class ImageEncoder(Protocol):
    @property
    def image_spec(self) -> ImageSpec: ...

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        """(n, 3, s, s) preprocessed pixels -> (n, d) L2-normalised embeddings."""
        ...


class QueryEncoder(ImageEncoder, Protocol):
    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """Texts -> (n, d) L2-normalised embeddings in the image space."""
        ...


class TextEncoder(Protocol):
    """The ``text`` space's sentence model (``models.text.TextModel`` provides it)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Texts -> (n, d) L2-normalised embeddings."""
        ...
