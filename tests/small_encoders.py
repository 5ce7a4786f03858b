"""Small deterministic encoders with the protocols of ``vectors/encoders.py``.

Unit tests build an Indexer or a Searcher with these instead of a model: what they embed is easy to
predict, so a test can say which photo a query must find first.

- ``ColorEncoder`` (the clip space): a photo's vector is its mean colour, a text's the colour it
  names ("red", "green", ...). Centred on grey, plus a constant part so that grey (or a text naming
  no colour) is not a zero vector.
- ``WordEncoder`` (the text space): a bag of words hashed into buckets (crc32: the same in every
  process), so passages that share words are close.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from desktop_search.models.runtime.preprocess import ImageSpec

COLORS: dict[str, tuple[float, float, float]] = {
    "red": (1.0, 0.0, 0.0),
    "green": (0.0, 1.0, 0.0),
    "blue": (0.0, 0.0, 1.0),
    "yellow": (1.0, 1.0, 0.0),
    "white": (1.0, 1.0, 1.0),
    "black": (0.0, 0.0, 0.0),
}
GREY = (0.5, 0.5, 0.5)
# The plain-colour photos the unit tests index (PNG: the colours stay exact).
COLOR_PHOTOS = {"red": (230, 20, 20), "green": (20, 200, 30), "blue": (20, 30, 220)}


def write_color_photos(folder: Path) -> None:
    """``COLOR_PHOTOS`` as <name>.png in ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, color in COLOR_PHOTOS.items():
        Image.new("RGB", (96, 64), color).save(folder / f"{name}.png")


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


class ColorEncoder:
    """A clip-space encoder by colour (``QueryEncoder``); counts what it encoded."""

    dim = 4

    def __init__(self, size: int = 32) -> None:
        self.image_spec = ImageSpec(size=size)
        self.images_encoded = 0
        self.texts_encoded = 0

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        spec = self.image_spec
        mean = np.asarray(spec.mean, dtype=np.float32)[None, :, None, None]
        std = np.asarray(spec.std, dtype=np.float32)[None, :, None, None]
        rgb = (batch * std + mean).mean(axis=(2, 3))  # back to 0..1, averaged per channel
        self.images_encoded += len(batch)
        return self._vectors(rgb)

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        rgb = []
        for text in texts:
            named = [COLORS[word] for word in re.findall(r"\w+", text.lower()) if word in COLORS]
            rgb.append(np.mean(named, axis=0) if named else GREY)
        self.texts_encoded += len(texts)
        return self._vectors(np.asarray(rgb, dtype=np.float32))

    def _vectors(self, rgb: np.ndarray) -> np.ndarray:
        constant = np.full((len(rgb), 1), 0.1, dtype=np.float32)
        return _unit(np.hstack([rgb - 0.5, constant]))


class WordEncoder:
    """A text-space encoder (``TextEncoder``): hashed bag of words; counts what it encoded."""

    dim = 64

    def __init__(self) -> None:
        self.texts_encoded = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        rows[:, 0] = 0.1  # nothing in common but this: far, not a zero vector
        for row, text in zip(rows, texts, strict=True):
            for word in re.findall(r"\w+", text.lower()):
                row[1 + zlib.crc32(word.encode()) % (self.dim - 1)] += 1.0
        self.texts_encoded += len(texts)
        return _unit(rows)
