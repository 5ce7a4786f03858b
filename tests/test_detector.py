"""YOLOX object detector: letterbox maths, decoding, NMS, and the real model on real photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from desktop_search.errors import ModelError
from desktop_search.models.runtime.detector import (
    COCO_CLASSES,
    PAD_VALUE,
    Detection,
    ObjectDetector,
    batched_nms,
    box_iou,
    boxes_from_letterbox,
    decode_raw,
    letterbox,
    make_grids,
    nms,
)

# The shared test copy of YOLOX-nano, in the ``shared/`` folder beside the repository.
YOLOX_NANO = Path(__file__).resolve().parents[2] / "shared/models/yolox_nano_coco.onnx"

# Hand-measured on the photos (x, y, w, h): Eileen Collins from her hair to the bottom edge,
# from her left elbow to her right shoulder; the coffee cup from its handle to its right rim.
ASTRONAUT_PERSON = (10.0, 15.0, 355.0, 497.0)
COFFEE_CUP = (160.0, 15.0, 262.0, 275.0)


def xywh_iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    to_xyxy = lambda box: np.array([box[0], box[1], box[0] + box[2], box[1] + box[3]])  # noqa: E731
    return float(box_iou(to_xyxy(a), to_xyxy(b)[None])[0])


def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(skdata, name)())


# --- pure numpy parts --------------------------------------------------------------------------


def test_coco_classes_are_the_80_standard_names():
    assert len(COCO_CLASSES) == 80 == len(set(COCO_CLASSES))
    assert (COCO_CLASSES[0], COCO_CLASSES[15], COCO_CLASSES[41], COCO_CLASSES[79]) == (
        "person",
        "cat",
        "cup",
        "toothbrush",
    )


@pytest.mark.parametrize(
    ("size", "point"),
    [((800, 200), (600, 150)), ((200, 800), (50, 700))],
    ids=["wide", "tall"],
)
def test_letterbox_maps_a_known_point_there_and_back(size, point):
    width, height = size
    arr = np.zeros((height, width, 3), np.uint8)
    x, y = point
    arr[y - 5 : y + 5, x - 5 : x + 5] = (255, 0, 0)  # a red square centred on the point
    canvas, ratio = letterbox(Image.fromarray(arr), 416)

    assert canvas.shape == (416, 416, 3) and canvas.dtype == np.uint8
    assert ratio == pytest.approx(416 / max(width, height))
    # Red lands in channel 2: the canvas is BGR.
    red = canvas[..., 2].astype(float) * (canvas[..., 0] < 100)
    ys, xs = np.nonzero(red > 100)
    assert len(xs) and not np.any(canvas[..., 0][red > 100] > 100)
    found = np.array([[xs.mean(), ys.mean(), xs.mean(), ys.mean()]]) + 0.5  # pixel centres
    back = boxes_from_letterbox(found, ratio, width, height)[0]
    assert back[0] == pytest.approx(x, abs=2) and back[1] == pytest.approx(y, abs=2)
    # Padding only at the bottom/right, with 114.
    used_w, used_h = round(width * ratio), round(height * ratio)
    assert np.all(canvas[used_h:, :] == PAD_VALUE) and np.all(canvas[:, used_w:] == PAD_VALUE)
    assert canvas[0, 0].tolist() == [0, 0, 0]


def test_boxes_from_letterbox_scales_and_clips():
    boxes = np.array([[-10, 5, 100, 50], [200, 100, 500, 300]], np.float32)
    out = boxes_from_letterbox(boxes, 0.5, width=600, height=300)
    assert out.tolist() == [[0, 10, 200, 100], [400, 200, 600, 300]]


def test_grids_cover_the_three_strides_in_row_major_order():
    grids, strides = make_grids(416)
    assert grids.shape == (3549, 2) and strides.shape == (3549, 1)
    assert grids[1].tolist() == [1, 0] and grids[52].tolist() == [0, 1]
    assert strides[2703, 0] == 8 and strides[2704, 0] == 16 and strides[-1, 0] == 32
    assert grids[-1].tolist() == [12, 12]
    raw = np.zeros((3549, 85), np.float32)
    decoded = decode_raw(raw, grids, strides)
    # Cell (12, 12) at stride 32: centre 384, size exp(0) * 32.
    assert decoded[-1, :4].tolist() == [384, 384, 32, 32]
    assert decoded[53, :4].tolist() == [8, 8, 8, 8]


def test_nms_suppresses_overlapping_boxes_only():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 9]], float)
    scores = np.array([0.8, 0.9, 0.7, 0.6])
    # IoU(0, 1) = 81 / 119 = 0.68, IoU(1, 3) = 72 / 118 = 0.61, IoU(0, 3) = 0.9.
    assert nms(boxes, scores, 0.5).tolist() == [1, 2]
    assert nms(boxes, scores, 0.65).tolist() == [1, 2, 3]
    assert nms(boxes, scores, 0.95).tolist() == [1, 0, 2, 3]
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).tolist() == []


def test_batched_nms_never_suppresses_across_classes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10]], float)
    scores = np.array([0.9, 0.8, 0.7])
    assert batched_nms(boxes, scores, np.array([0, 0, 1]), 0.5).tolist() == [0, 2]
    assert batched_nms(boxes, scores, np.array([0, 1, 2]), 0.5).tolist() == [0, 1, 2]


# --- the real model ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def detector() -> ObjectDetector:
    if not YOLOX_NANO.is_file():
        pytest.skip(f"shared test model not found: {YOLOX_NANO}")
    model = ObjectDetector(YOLOX_NANO, threads=2)
    assert not model.loaded  # lazy
    return model


def labels(detections: list[Detection]) -> list[str]:
    return [d.label for d in detections]


def test_finds_the_astronaut_and_no_cat(detector):
    image = photo("astronaut")
    found = detector.detect(image)
    people = [d for d in found if d.label == "person"]
    assert people, labels(found)
    best = max(people, key=lambda d: d.score)
    assert best.score > 0.5 and best.class_id == 0
    assert xywh_iou(best.box, ASTRONAUT_PERSON) > 0.5, best
    assert "cat" not in labels(found)
    for d in found:
        x, y, w, h = d.box
        assert min(x, y) >= 0 and w > 0 and h > 0
        assert x + w <= image.width + 1e-3 and y + h <= image.height + 1e-3
        assert 0.3 <= d.score <= 1
    assert found == sorted(found, key=lambda d: -d.score)


def test_finds_the_cup_in_coffee(detector):
    found = detector.detect(photo("coffee"))
    cups = [d for d in found if d.label == "cup"]
    assert cups, labels(found)
    assert max(xywh_iou(d.box, COFFEE_CUP) for d in cups) > 0.5


def test_finds_chelsea_the_cat(detector):
    found = detector.detect(photo("chelsea"))
    assert "cat" in labels(found)


def test_tiny_grayscale_and_rgba_images_work(detector):
    assert isinstance(detector.detect(Image.new("RGB", (10, 10), "white")), list)
    for tiny in detector.detect(Image.fromarray(skdata.astronaut()[::50, ::50])):
        x, y, w, h = tiny.box
        assert x + w <= 11 and y + h <= 11
    gray = photo("astronaut").convert("L")
    assert "person" in labels(detector.detect(gray))
    rgba = photo("chelsea").convert("RGBA")
    assert "cat" in labels(detector.detect(rgba))


def test_batch_results_equal_single_results(detector):
    images = [photo("astronaut"), photo("coffee"), photo("chelsea"), photo("camera")]
    batch = detector.detect_batch(images)
    assert batch == [detector.detect(image) for image in images]
    assert detector.detect_batch([]) == []
    # The shared export pins the batch axis to 1, so batches run image by image.
    assert detector.batchable is False


def test_release_and_reload(detector):
    detector.load()
    assert detector.loaded
    detector.release()
    assert not detector.loaded
    assert "cat" in labels(detector.detect(photo("chelsea")))
    assert detector.loaded


def test_a_missing_or_mismatched_model_is_a_model_error(tmp_path, detector):
    with pytest.raises(ModelError, match="missing"):
        ObjectDetector(tmp_path / "nope.onnx").detect(photo("coffee"))
    with pytest.raises(ModelError, match="expects input"):
        ObjectDetector(detector.path, input_size=640).load()
