"""Objects inside photos: which detections become items, and the crops CLIP sees of them.

The detector (``models/runtime/detector.py``) runs on the image already decoded for CLIP. Every
detection that is confident and not tiny becomes an ``object`` item with its box and class label
(the label is a keyword, and ``has:dog`` filters by it). Only some of them are also encoded by
CLIP, because each crop costs as much as a whole photo: the few best ones that show something
the photo's own embedding does not (an object filling most of the frame *is* the photo).
"""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image

from desktop_search.models.runtime.detector import Detection, ObjectDetector, box_iou
from desktop_search.store.records import Box, FoundObject

log = logging.getLogger(__name__)

MIN_SCORE = 0.35
# Smaller than this share of the photo's longer side: a few pixels in the decoded image, which no
# crop can show to CLIP recognisably.
MIN_SIDE_FRACTION = 0.04
MAX_OBJECTS = 20  # per photo: labels and boxes (cheap)
MAX_ENCODED = 3  # per photo: CLIP crops (each costs a photo's encoding); see benchmarks/README.md
WHOLE_PHOTO_AREA = 0.5  # an object covering more than this is what the photo's embedding shows
SAME_REGION_IOU = 0.7  # two labels for one thing ("dog" and "cat" on one animal): one crop
CONTEXT = 0.15  # crop margin on each side, as a share of the box's longer side
PAD_GREY = (124, 116, 104)  # CLIP's mean colour: padding that reads as "nothing"


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


def objects_key(detector_id: str, clip_model: str) -> str:
    """What ``files.objects`` records for photos looked at by this detector and CLIP model."""
    return f"{detector_id}+{clip_model}"


def scale_box(box: Box, factor_x: float, factor_y: float) -> Box:
    x, y, w, h = box
    return (x * factor_x, y * factor_y, w * factor_x, h * factor_y)


class ObjectFinder:
    """Turns a detector's output into the objects worth indexing."""

    def __init__(self, detector: ObjectDetector, detector_id: str) -> None:
        self.detector = detector
        self.detector_id = detector_id

    @property
    def input_size(self) -> int:
        """The side the detector sees; the decoded image should be at least this long."""
        return self.detector.input_size

    def key(self, clip_model: str) -> str:
        """Recorded per photo: which detector and CLIP model its object items come from."""
        return objects_key(self.detector_id, clip_model)

    def find(self, image: Image.Image, full_size: tuple[int, int]) -> list[FoundObject]:
        """The objects of ``image`` (a decoded, possibly reduced, copy of a photo whose real
        size is ``full_size``), boxes in full-size pixels, best first."""
        detections = self.detector.detect(image)
        return select_objects(detections, image.size, full_size)

    def release(self) -> None:
        self.detector.release()


def select_objects(
    detections: list[Detection], image_size: tuple[int, int], full_size: tuple[int, int]
) -> list[FoundObject]:
    """Keep the confident, not tiny detections; mark the ones worth a CLIP crop."""
    width, height = image_size
    min_side = MIN_SIDE_FRACTION * max(width, height)
    kept = [d for d in detections if d.score >= MIN_SCORE and max(d.box[2], d.box[3]) >= min_side][
        :MAX_OBJECTS
    ]
    kept.sort(key=lambda d: -d.score)
    encoded: list[Detection] = []
    for detection in kept:
        if len(encoded) < MAX_ENCODED and _worth_a_crop(detection, encoded, width * height):
            encoded.append(detection)
    chosen = {id(d) for d in encoded}
    factor_x, factor_y = full_size[0] / width, full_size[1] / height
    return [
        FoundObject(d.label, d.score, scale_box(d.box, factor_x, factor_y), id(d) in chosen)
        for d in kept
    ]


def _worth_a_crop(detection: Detection, encoded: list[Detection], image_area: float) -> bool:
    x, y, w, h = detection.box
    if w * h > WHOLE_PHOTO_AREA * image_area:
        return False
    if not encoded:
        return True
    mine = np.asarray([x, y, x + w, y + h], dtype=np.float32)
    others = np.asarray([[a, b, a + c, b + d] for a, b, c, d in (e.box for e in encoded)],
                        dtype=np.float32)  # fmt: skip
    return float(box_iou(mine, others).max()) < SAME_REGION_IOU
