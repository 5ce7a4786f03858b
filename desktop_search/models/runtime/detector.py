"""YOLOX object detector (COCO, 80 classes) on onnxruntime: letterbox, decode, NMS in numpy.

The network is YOLOX-nano (Megvii, Apache-2.0). Its ONNX graph takes ``1x3xSxS`` float32, BGR,
0-255, the image resized to fit ``SxS`` (aspect kept) and padded with 114 at the bottom/right,
and returns ``1xNx85``: per anchor-free grid cell (strides 8, 16, 32) ``cx, cy, w, h``,
objectness, 80 class scores. Everything around the graph is here, in numpy.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

from desktop_search.errors import ModelError
from desktop_search.models.runtime.base import OnnxModel
from desktop_search.models.runtime.coco import COCO_CLASSES

log = logging.getLogger(__name__)


STRIDES = (8, 16, 32)
PAD_VALUE = 114
MAX_DETECTIONS = 100

# With raw outputs, w and h are log-scale (exp(raw) * stride): values beyond this would mean boxes
# of exp(15) * 8 = 26 million pixels, i.e. the graph already decoded them into pixels.
_RAW_WH_SANITY_LIMIT = 15.0


@dataclass
class Detection:
    """One detected object; ``box`` is ``(x, y, w, h)`` in the original image's pixels."""

    label: str
    class_id: int
    score: float
    box: tuple[float, float, float, float]


# --- letterbox ---------------------------------------------------------------------------------


def letterbox_ratio(width: int, height: int, size: int) -> float:
    """The scale that makes a ``width x height`` image fit in ``size x size`` (aspect kept)."""
    return min(size / width, size / height)


def letterbox(image: Image.Image, size: int) -> tuple[np.ndarray, float]:
    """``image`` resized to fit ``size x size`` and padded bottom/right with 114.

    Returns the canvas as ``size x size x 3`` uint8 in **BGR** order (the network's order) and
    the ratio: canvas pixel = original pixel * ratio, original = canvas / ratio.
    """
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    ratio = letterbox_ratio(rgb.width, rgb.height, size)
    new_w = min(size, max(1, int(round(rgb.width * ratio))))
    new_h = min(size, max(1, int(round(rgb.height * ratio))))
    if (new_w, new_h) != rgb.size:
        rgb = rgb.resize((new_w, new_h), Image.Resampling.BILINEAR)
    canvas = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
    canvas[:new_h, :new_w] = np.asarray(rgb)[..., ::-1]  # RGB -> BGR
    return canvas, ratio


def boxes_from_letterbox(
    boxes_xyxy: np.ndarray, ratio: float, width: int, height: int
) -> np.ndarray:
    """Map ``(N, 4)`` x1, y1, x2, y2 boxes from canvas pixels back to the original image's
    pixels, clipped to the image. Padding sits only at the bottom/right, so there is no offset."""
    out = np.asarray(boxes_xyxy, dtype=np.float32) / ratio
    out[:, 0::2] = out[:, 0::2].clip(0, width)
    out[:, 1::2] = out[:, 1::2].clip(0, height)
    return out


# --- decoding and NMS --------------------------------------------------------------------------


def make_grids(size: int, strides: Sequence[int] = STRIDES) -> tuple[np.ndarray, np.ndarray]:
    """Per output row: the cell's ``(gx, gy)`` index and its stride, in the network's row order
    (stride 8 rows first, each level row-major). 416 -> 52*52 + 26*26 + 13*13 = 3549 rows."""
    grids, expanded = [], []
    for stride in strides:
        cells = size // stride
        ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        grids.append(np.stack((xs, ys), axis=-1).reshape(-1, 2))
        expanded.append(np.full((cells * cells, 1), stride))
    return (
        np.concatenate(grids).astype(np.float32),
        np.concatenate(expanded).astype(np.float32),
    )


def decode_raw(raw: np.ndarray, grids: np.ndarray, strides: np.ndarray) -> np.ndarray:
    """Raw ``(N, 85)`` head outputs -> the same rows with cx, cy, w, h in canvas pixels."""
    out = raw.astype(np.float32, copy=True)
    out[:, 0:2] = (out[:, 0:2] + grids) * strides
    out[:, 2:4] = np.exp(out[:, 2:4]) * strides
    return out


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one x1, y1, x2, y2 box with each of ``(N, 4)`` boxes (vectorised)."""
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def nms(boxes_xyxy: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression; indices of the kept boxes, best score first."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    boxes = np.asarray(boxes_xyxy, dtype=np.float32)
    keep = []
    while order.size:
        best = order[0]
        keep.append(best)
        rest = order[1:]
        order = rest[box_iou(boxes[best], boxes[rest]) <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def batched_nms(
    boxes_xyxy: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, iou_threshold: float
) -> np.ndarray:
    """Per-class NMS in one pass: each class's boxes are shifted by ``class_id * (max coord + 1)``
    so boxes of different classes never overlap and never suppress each other."""
    boxes = np.asarray(boxes_xyxy, dtype=np.float32)
    if boxes.size == 0:
        return np.zeros(0, dtype=np.int64)
    offset = np.asarray(class_ids, dtype=np.float32)[:, None] * (float(boxes.max()) + 1.0)
    return nms(boxes + offset, scores, iou_threshold)


def postprocess(
    decoded: np.ndarray,
    ratio: float,
    width: int,
    height: int,
    score_threshold: float,
    nms_threshold: float,
    max_detections: int = MAX_DETECTIONS,
) -> list[Detection]:
    """Decoded ``(N, 85)`` rows of one image -> detections in original image pixels.

    As in YOLOX's own postprocess, each row keeps its best class (score = objectness x class
    score), then NMS runs per class.
    """
    class_scores = decoded[:, 5:] * decoded[:, 4:5]
    class_ids = class_scores.argmax(axis=1)
    scores = class_scores[np.arange(len(class_ids)), class_ids]
    mask = scores >= score_threshold
    if not mask.any():
        return []
    rows, scores, class_ids = decoded[mask], scores[mask], class_ids[mask]
    cx, cy, w, h = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    xyxy = np.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), axis=1)
    keep = batched_nms(xyxy, scores, class_ids, nms_threshold)[:max_detections]
    boxes = boxes_from_letterbox(xyxy[keep], ratio, width, height)
    detections = []
    for (x1, y1, x2, y2), score, class_id in zip(boxes, scores[keep], class_ids[keep], strict=True):
        if x2 - x1 <= 0 or y2 - y1 <= 0:  # entirely in the padding
            continue
        detections.append(
            Detection(
                label=COCO_CLASSES[int(class_id)],
                class_id=int(class_id),
                score=float(score),
                box=(float(x1), float(y1), float(x2 - x1), float(y2 - y1)),
            )
        )
    return detections


# --- the model ---------------------------------------------------------------------------------


class ObjectDetector(OnnxModel):
    """YOLOX-nano (or any YOLOX export with the same head) on COCO's 80 classes.

    ``decoded_output``: whether the graph already turns its box outputs into pixels (YOLOX's
    ``export_onnx.py --decode_in_inference``). Both the official ``yolox_nano.onnx`` release and
    the test copy in ``shared/models`` are exported without it: their box columns are raw grid
    offsets and log-sizes (about -2..3.5 on real photos) while objectness and class scores are
    already sigmoid probabilities in [0, 1]. So the default is ``False`` and we decode here.
    """

    def __init__(
        self,
        model_path: Path,
        *,
        input_size: int = 416,
        score_threshold: float = 0.3,
        nms_threshold: float = 0.45,
        threads: int | None = None,
        decoded_output: bool = False,
        max_detections: int = MAX_DETECTIONS,
    ) -> None:
        super().__init__(model_path, threads)
        if input_size % max(STRIDES):
            raise ValueError(f"input_size must be a multiple of {max(STRIDES)}, got {input_size}")
        self.input_size = input_size
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.decoded_output = decoded_output
        self.max_detections = max_detections
        self._grids, self._strides = make_grids(input_size)
        self._input_name = "images"
        self._batchable = False
        self._warned_decoded = False

    def _load(self) -> ort.InferenceSession:
        session = super()._load()
        (inp,) = session.get_inputs()
        shape = inp.shape
        if len(shape) != 4 or any(
            isinstance(dim, int) and dim != self.input_size for dim in shape[2:]
        ):
            raise ModelError(
                f"Detector {self.path.name} expects input {shape}, not "
                f"N x 3 x {self.input_size} x {self.input_size}",
                hint=f"pass input_size={shape[-1]}" if isinstance(shape[-1], int) else None,
            )
        out_shape = session.get_outputs()[0].shape
        rows = out_shape[1] if len(out_shape) == 3 else None
        if isinstance(rows, int) and rows != len(self._grids):
            raise ModelError(
                f"Detector {self.path.name} outputs {rows} rows, expected {len(self._grids)} "
                f"for a {self.input_size} px YOLOX head (strides {STRIDES})"
            )
        self._input_name = inp.name
        # A symbolic or missing batch dimension (e.g. "batch") accepts N images in one run; the
        # shared YOLOX-nano export pins it to 1, so batches loop there.
        self._batchable = not isinstance(shape[0], int) or shape[0] != 1
        return session

    @property
    def batchable(self) -> bool:
        """Whether the loaded graph takes several images per run (loads the model)."""
        _ = self.session
        return self._batchable

    def preprocess(self, image: Image.Image) -> tuple[np.ndarray, float]:
        """One image -> ``(3, S, S)`` float32 BGR 0-255 NCHW slice and the letterbox ratio."""
        canvas, ratio = letterbox(image, self.input_size)
        return np.ascontiguousarray(canvas.transpose(2, 0, 1), dtype=np.float32), ratio

    def detect(self, image: Image.Image) -> list[Detection]:
        """Objects in one image, best score first."""
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Iterable[Image.Image]) -> list[list[Detection]]:
        """Objects in each image: one session run if the graph's batch axis allows it, else one
        run per image (same results either way)."""
        images = list(images)
        if not images:
            return []
        session = self.session  # loads, and sets self._batchable
        prepared = [self.preprocess(image) for image in images]
        if self._batchable and len(images) > 1:
            batch = np.stack([tensor for tensor, _ in prepared])
            outputs = list(session.run(None, {self._input_name: batch})[0])
        else:
            outputs = [
                session.run(None, {self._input_name: tensor[None]})[0][0] for tensor, _ in prepared
            ]
        return [
            self._postprocess(raw, ratio, image.width, image.height)
            for raw, (_, ratio), image in zip(outputs, prepared, images, strict=True)
        ]

    def _postprocess(self, raw: np.ndarray, ratio: float, width: int, height: int):
        if self.decoded_output:
            decoded = raw
        else:
            if not self._warned_decoded and float(raw[:, 2:4].max()) > _RAW_WH_SANITY_LIMIT:
                self._warned_decoded = True
                log.warning(
                    "%s: box sizes look already decoded into pixels; "
                    "construct the detector with decoded_output=True",
                    self.path.name,
                )
            decoded = decode_raw(raw, self._grids, self._strides)
        return postprocess(
            decoded,
            ratio,
            width,
            height,
            self.score_threshold,
            self.nms_threshold,
            self.max_detections,
        )
