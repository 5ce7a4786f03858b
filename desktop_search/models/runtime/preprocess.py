"""Image preprocessing for CLIP towers: open_clip's eval transform in numpy + Pillow.

The steps and their rounding mirror torchvision/open_clip exactly (resize on the PIL image in its
own mode, center crop, convert to RGB, scale to [0, 1], normalise in float32), so the pixel values
fed to the ONNX graph equal what open_clip feeds its torch model.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageOps

log = logging.getLogger(__name__)

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)

_INTERPOLATIONS = {
    "bicubic": Image.Resampling.BICUBIC,
    "bilinear": Image.Resampling.BILINEAR,
}
_RESIZE_MODES = ("shortest", "squash", "longest")
EXTREME_ASPECT = 8  # beyond this, only the part that survives the centre crop is resized
# The crop of one object or region (indexing's object crops, a query's region):
CONTEXT = 0.15  # crop margin on each side, as a share of the box's longer side
PAD_GREY = (124, 116, 104)  # CLIP's mean colour: padding that reads as "nothing"
Box = tuple[float, float, float, float]  # x, y, w, h in pixels (as store.records.Box)


@dataclass(frozen=True)
class ImageSpec:
    """What a visual tower expects: square input ``size`` and how to get there."""

    size: int
    mean: tuple[float, float, float] = OPENAI_MEAN
    std: tuple[float, float, float] = OPENAI_STD
    interpolation: str = "bicubic"
    resize_mode: str = "shortest"
    fill_color: int = 0

    def __post_init__(self) -> None:
        if self.interpolation not in _INTERPOLATIONS:
            raise ValueError(f"unsupported interpolation {self.interpolation!r}")
        if self.resize_mode not in _RESIZE_MODES:
            raise ValueError(f"unsupported resize_mode {self.resize_mode!r}")
        if len(self.mean) != 3 or len(self.std) != 3:
            raise ValueError("mean and std need three values (RGB)")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImageSpec:
        size = data["size"]
        if isinstance(size, list | tuple):
            # open_clip reports (h, w); only square inputs are supported here.
            if len(size) != 2 or size[0] != size[1]:
                raise ValueError(f"only square image sizes are supported, got {size}")
            size = size[0]
        return cls(
            size=int(size),
            mean=tuple(float(v) for v in data.get("mean", OPENAI_MEAN)),  # type: ignore[arg-type]
            std=tuple(float(v) for v in data.get("std", OPENAI_STD)),  # type: ignore[arg-type]
            interpolation=str(data.get("interpolation", "bicubic")),
            resize_mode=str(data.get("resize_mode", "shortest")),
            fill_color=int(data.get("fill_color", 0)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "mean": list(self.mean),
            "std": list(self.std),
            "interpolation": self.interpolation,
            "resize_mode": self.resize_mode,
            "fill_color": self.fill_color,
        }


def _resize_shortest(image: Image.Image, size: int, resample: int) -> Image.Image:
    # torchvision.transforms.functional._compute_resized_output_size: the short side becomes
    # `size`, the long side is truncated (int()), not rounded.
    w, h = image.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    if (new_w, new_h) == (w, h):
        return image  # torchvision skips the resize entirely in this case
    return image.resize((new_w, new_h), resample)


def _resize_longest(image: Image.Image, size: int, resample: int) -> Image.Image:
    # open_clip ResizeKeepRatio(longest=1): ratio from the long side, Python round() per side.
    w, h = image.size
    ratio = max(h / size, w / size)
    new_h, new_w = max(1, round(h / ratio)), max(1, round(w / ratio))
    if (new_w, new_h) == (w, h):
        return image
    return image.resize((new_w, new_h), resample)


def _extreme(image: Image.Image, size: int) -> bool:
    """A panorama strip so long that scaling all of it first would take a lot of memory."""
    w, h = image.size
    return max(w, h) > EXTREME_ASPECT * min(w, h) and max(w, h) > size


def _resize_centre(image: Image.Image, size: int, resample: int) -> Image.Image:
    """Resize-then-centre-crop in one step: only the centre square is resampled.

    Equal to the two-step path up to edge resampling; used for extreme aspect ratios only, so
    a 20000 x 2 strip costs a 224 x 224 image instead of a 2,240,000 x 224 one.
    """
    w, h = image.size
    short, long = min(w, h), max(w, h)
    scaled_long = int(size * long / short)
    offset = int(round((scaled_long - size) / 2.0)) * long / scaled_long
    span = size * long / scaled_long
    box = (offset, 0, offset + span, h) if w > h else (0, offset, w, offset + span)
    return image.resize((size, size), resample, box=box)


def _center_crop_or_pad(image: Image.Image, size: int, fill: int) -> Image.Image:
    # torchvision center_crop / open_clip center_crop_or_pad, including their offset rounding.
    w, h = image.size
    if size > w or size > h:
        left = (size - w) // 2 if size > w else 0
        top = (size - h) // 2 if size > h else 0
        right = (size - w + 1) // 2 if size > w else 0
        bottom = (size - h + 1) // 2 if size > h else 0
        bands = len(image.getbands())
        color: int | tuple[int, ...] = fill if bands == 1 else (fill,) * bands
        palette = image.getpalette() if image.mode == "P" else None
        image = ImageOps.expand(image, border=(left, top, right, bottom), fill=color)
        if palette is not None:
            image.putpalette(palette)
        w, h = image.size
        if (w, h) == (size, size):
            return image
    top = int(round((h - size) / 2.0))
    left = int(round((w - size) / 2.0))
    return image.crop((left, top, left + size, top + size))


def preprocess(image: Image.Image, spec: ImageSpec) -> np.ndarray:
    """One PIL image -> float32 array (3, size, size), normalised as the model expects."""
    resample = _INTERPOLATIONS[spec.interpolation]
    size = spec.size
    if spec.resize_mode == "shortest" and _extreme(image, size):
        image = _resize_centre(image, size, resample)
    elif spec.resize_mode == "shortest":
        image = _center_crop_or_pad(_resize_shortest(image, size, resample), size, 0)
    elif spec.resize_mode == "longest":
        image = _center_crop_or_pad(_resize_longest(image, size, resample), size, spec.fill_color)
    else:  # squash
        if image.size != (size, size):
            image = image.resize((size, size), resample)
    # open_clip converts to RGB *after* resizing, so RGBA is resampled with premultiplied alpha
    # and palette images with nearest neighbour, exactly as Pillow does for those modes.
    if image.mode != "RGB":
        image = image.convert("RGB")
    pixels = np.asarray(image, dtype=np.uint8).astype(np.float32) / np.float32(255.0)
    mean = np.asarray(spec.mean, dtype=np.float32)
    std = np.asarray(spec.std, dtype=np.float32)
    pixels = (pixels - mean) / std
    return np.ascontiguousarray(pixels.transpose(2, 0, 1))


def preprocess_batch(images: Iterable[Image.Image], spec: ImageSpec) -> np.ndarray:
    """Several PIL images -> float32 array (n, 3, size, size)."""
    arrays = [preprocess(image, spec) for image in images]
    if not arrays:
        return np.zeros((0, 3, spec.size, spec.size), dtype=np.float32)
    return np.stack(arrays)


def crop_with_context(image: Image.Image, box: Box, context: float = CONTEXT) -> Image.Image:
    """A square crop around ``box`` (in ``image``'s pixels) with some margin.

    Square, because CLIP's preprocessing cuts the middle square out of whatever it gets: a tall
    person would lose head and feet. The square is moved inside the image where it fits; what
    still falls outside is padded with a neutral grey.
    """
    x, y, w, h = box
    side = max(w, h) * (1 + 2 * context)
    side = max(side, 1.0)
    left = _fit(x + w / 2 - side / 2, side, image.width)
    top = _fit(y + h / 2 - side / 2, side, image.height)
    region = (round(left), round(top), round(left + side), round(top + side))
    size = (max(1, region[2] - region[0]), max(1, region[3] - region[1]))
    canvas = Image.new("RGB", size, PAD_GREY)
    inside = (max(region[0], 0), max(region[1], 0),
              min(region[2], image.width), min(region[3], image.height))  # fmt: skip
    if inside[2] > inside[0] and inside[3] > inside[1]:
        canvas.paste(image.crop(inside), (inside[0] - region[0], inside[1] - region[1]))
    return canvas


def _fit(start: float, length: float, limit: int) -> float:
    """Shift a span of ``length`` to lie within ``0..limit`` if it can; else centre it."""
    if length >= limit:
        return (limit - length) / 2
    return min(max(start, 0.0), limit - length)


def scale_box(box: Box, factor_x: float, factor_y: float) -> Box:
    x, y, w, h = box
    return (x * factor_x, y * factor_y, w * factor_x, h * factor_y)
