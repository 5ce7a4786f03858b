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
from desktop_search.models.runtime.preprocess import scale_box
from desktop_search.store.records import FoundObject

log = logging.getLogger(__name__)

MIN_SCORE = 0.35
# Smaller than this share of the photo's longer side: a few pixels in the decoded image, which no
# crop can show to CLIP recognisably.
MIN_SIDE_FRACTION = 0.04
MAX_OBJECTS = 20  # per photo: labels and boxes (cheap)
MAX_ENCODED = 3  # per photo: CLIP crops (each costs a photo's encoding); see benchmarks/README.md
WHOLE_PHOTO_AREA = 0.5  # an object covering more than this is what the photo's embedding shows
SAME_REGION_IOU = 0.7  # two labels for one thing ("dog" and "cat" on one animal): one crop


def objects_key(detector_id: str, clip_model: str) -> str:
    """What ``files.objects`` records for photos looked at by this detector and CLIP model."""
    return f"{detector_id}+{clip_model}"


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
