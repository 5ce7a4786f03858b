"""Photos with known objects (skimage.data) and the shared YOLOX-nano, for the object tests.

The composite is the test of "a small object among a large unrelated scene": the astronaut
(YOLOX finds a person) pasted at a quarter of the width into the rocket photo, which on its
own holds no object the detector knows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from skimage import data as skdata

YOLOX_NANO = Path(__file__).resolve().parents[2] / "shared/models/yolox_nano_coco.onnx"
needs_yolox = pytest.mark.skipif(
    not YOLOX_NANO.is_file(), reason=f"shared test model not found: {YOLOX_NANO}"
)

SCENE_SIZE = (1600, 1200)
PASTED_AT = (1000, 650)  # the astronaut's top-left corner in the composite
PASTED_WIDTH = 400


def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(skdata, name)()).convert("RGB")


def composite() -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The rocket scene with a small astronaut in it; and where the astronaut is (x, y, w, h)."""
    scene = photo("rocket").resize(SCENE_SIZE, Image.Resampling.BICUBIC)
    astronaut = photo("astronaut").resize((PASTED_WIDTH, PASTED_WIDTH))
    scene.paste(astronaut, PASTED_AT)
    return scene, (*PASTED_AT, PASTED_WIDTH, PASTED_WIDTH)


def write_photos(folder: Path, names: tuple[str, ...] = ("astronaut", "coffee", "rocket")) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        photo(name).save(folder / f"{name}.jpg", quality=92)


def install_detector(home: Path) -> None:
    """Install the shared YOLOX-nano into a library home, as a user would; without the shared
    model (a clone not beside ../shared) the tests that need it skip, as ``needs_yolox`` does."""
    from desktop_search.app.library import Library

    if not YOLOX_NANO.is_file():
        pytest.skip(f"shared test model not found: {YOLOX_NANO}")
    with Library.open(home) as library:
        library.object_tools.import_detector(YOLOX_NANO)


def overlap(box, other) -> float:
    """Intersection over the smaller box's area (1.0: one lies inside the other)."""
    x1, y1 = max(box[0], other[0]), max(box[1], other[1])
    x2 = min(box[0] + box[2], other[0] + other[2])
    y2 = min(box[1] + box[3], other[1] + other[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    return inter / min(box[2] * box[3], other[2] * other[3])
