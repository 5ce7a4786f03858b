"""CLIP image and text towers on onnxruntime, loaded lazily and independently."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from desktop_search.errors import ModelError
from desktop_search.models.runtime.base import OnnxModel
from desktop_search.models.runtime.model_folder import (
    MODEL_JSON,
    REIMPORT_HINT,
    read_model_json,
    require_files,
)
from desktop_search.models.runtime.preprocess import ImageSpec
from desktop_search.models.runtime.tokenizer import ClipTokenizer, TextTokenizer, TokenizerSpec

log = logging.getLogger(__name__)

VISUAL_FILE = "visual.onnx"
TEXTUAL_FILE = "textual.onnx"
TOKENIZER_FILE = "tokenizer.json"
REQUIRED_FILES = (VISUAL_FILE, TEXTUAL_FILE, TOKENIZER_FILE)


_DTYPES = {"int32": np.int32, "int64": np.int64}


@dataclass(frozen=True)
class TextInputSpec:
    """How to feed the text tower (absent from older model.json: open_clip conversions).

    ``batch`` is the graph's fixed batch size (Immich's exports are traced with batch 1), or None
    when any batch size works.
    """

    tokenizer: TokenizerSpec
    ids_name: str
    ids_dtype: str = "int64"
    mask_name: str | None = None
    mask_dtype: str = "int64"
    batch: int | None = None

    def __post_init__(self) -> None:
        for dtype in (self.ids_dtype, self.mask_dtype):
            if dtype not in _DTYPES:
                raise ValueError(f"unsupported text input dtype {dtype!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TextInputSpec:
        mask = data.get("mask_name")
        batch = data.get("batch")
        return cls(
            tokenizer=TokenizerSpec.from_dict(data["tokenizer"]),
            ids_name=str(data["ids_name"]),
            ids_dtype=str(data.get("ids_dtype", "int64")),
            mask_name=None if mask is None else str(mask),
            mask_dtype=str(data.get("mask_dtype", "int64")),
            batch=None if batch is None else int(batch),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ImageInputSpec:
    """The image tower's input name and fixed batch size (None: any)."""

    name: str
    batch: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImageInputSpec:
        batch = data.get("batch")
        return cls(name=str(data["name"]), batch=None if batch is None else int(batch))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ClipModelInfo:
    """The contents of a CLIP model folder's ``model.json``."""

    id: str
    arch: str
    embed_dim: int
    image: ImageSpec
    context_length: int
    precision: str
    files: dict[str, str]
    kind: str = "clip"
    fidelity: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    created: str | None = None
    format: int = 1
    text_input: TextInputSpec | None = None
    image_input: ImageInputSpec | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClipModelInfo:
        text_input, image_input = data.get("text_input"), data.get("image_input")
        return cls(
            id=str(data["id"]),
            kind=str(data.get("kind", "clip")),
            arch=str(data["arch"]),
            embed_dim=int(data["embed_dim"]),
            image=ImageSpec.from_dict(data["image"]),
            context_length=int(data["context_length"]),
            precision=str(data["precision"]),
            files={str(k): str(v) for k, v in data["files"].items()},
            fidelity=dict(data.get("fidelity", {})),
            source=dict(data.get("source", {})),
            created=data.get("created"),
            format=int(data.get("format", 1)),
            text_input=TextInputSpec.from_dict(text_input) if text_input else None,
            image_input=ImageInputSpec.from_dict(image_input) if image_input else None,
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["image"] = self.image.to_dict()
        for key in ("text_input", "image_input"):
            if data[key] is None:
                del data[key]  # older readers and older folders: the key is simply absent
        return data

    @classmethod
    def load(cls, model_dir: Path) -> ClipModelInfo:
        """Read ``model_dir/model.json``; ModelError (with the fix) if absent or malformed."""
        path = Path(model_dir) / MODEL_JSON
        data = read_model_json(model_dir)
        try:
            info = cls.from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(
                f"{path} is invalid ({type(exc).__name__}: {exc})", REIMPORT_HINT
            ) from exc
        if info.kind != "clip":
            raise ModelError(f"{model_dir} holds a {info.kind!r} model, not a CLIP model")
        return info


def _run_batched(session: Any, feeds: Mapping[str, np.ndarray], batch: int | None) -> np.ndarray:
    """The first output over ``feeds``; graphs with a fixed batch size get chunks of that size."""
    n = len(next(iter(feeds.values())))
    if batch is None or batch >= n:
        return session.run(None, dict(feeds))[0]
    return np.concatenate(
        [
            session.run(None, {k: v[i : i + batch] for k, v in feeds.items()})[0]
            for i in range(0, n, batch)
        ]
    )


def _normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    # An all-zero embedding stays zero instead of becoming NaN.
    return x / np.maximum(norms, np.float32(1e-12))


class ClipModel:
    """Image and text encoders of one CLIP model folder.

    Each tower is its own :class:`OnnxModel`, loaded on first use: a text search never pays for
    loading the image tower and vice versa.
    """

    def __init__(self, model_dir: Path, threads: int | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.info = ClipModelInfo.load(self.model_dir)
        require_files(self.model_dir, self.info.id, [*REQUIRED_FILES, *self.info.files])
        self.visual = OnnxModel(self.model_dir / VISUAL_FILE, threads)
        self.textual = OnnxModel(self.model_dir / TEXTUAL_FILE, threads)
        self._tokenizer: ClipTokenizer | TextTokenizer | None = None
        # A search process loads the tokenizer in the background while it starts up
        # (app/warmup.py): one lock so a query arriving meanwhile waits instead of loading twice.
        self._tokenizer_lock = threading.Lock()

    @property
    def image_spec(self) -> ImageSpec:
        return self.info.image

    @property
    def embed_dim(self) -> int:
        return self.info.embed_dim

    @property
    def tokenizer(self) -> ClipTokenizer | TextTokenizer:
        tokenizer = self._tokenizer
        if tokenizer is not None:
            return tokenizer
        with self._tokenizer_lock:
            if self._tokenizer is None:
                path = self.model_dir / TOKENIZER_FILE
                if self.info.text_input is not None:
                    self._tokenizer = TextTokenizer(path, self.info.text_input.tokenizer)
                else:
                    self._tokenizer = ClipTokenizer(path, self.info.context_length)
            return self._tokenizer

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        """Preprocessed pixels (n, 3, s, s) float32 -> L2-normalised embeddings (n, d)."""
        batch = np.asarray(batch, dtype=np.float32)
        size = self.image_spec.size
        if batch.ndim != 4 or batch.shape[1:] != (3, size, size):
            raise ValueError(f"expected a batch of shape (n, 3, {size}, {size}), got {batch.shape}")
        if len(batch) == 0:
            return np.zeros((0, self.embed_dim), dtype=np.float32)
        session = self.visual.session
        spec = self.info.image_input
        name = spec.name if spec is not None else session.get_inputs()[0].name
        feeds = {name: np.ascontiguousarray(batch)}
        return _normalize(_run_batched(session, feeds, spec.batch if spec else None))

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Texts -> L2-normalised embeddings (n, d)."""
        if isinstance(texts, str):
            texts = [texts]
        if len(texts) == 0:
            return np.zeros((0, self.embed_dim), dtype=np.float32)
        spec_in = self.info.text_input
        if spec_in is not None:
            return self._encode_texts_with_spec(texts, spec_in)
        tokens = self.tokenizer.encode(texts)
        session = self.textual.session
        spec = session.get_inputs()[0]
        # Exports from elsewhere (e.g. Immich's) may take int32 ids.
        if spec.type == "tensor(int32)":
            tokens = tokens.astype(np.int32)
        return _normalize(session.run(None, {spec.name: tokens})[0])

    def _encode_texts_with_spec(self, texts: Sequence[str], spec: TextInputSpec) -> np.ndarray:
        tokenizer = self.tokenizer
        assert isinstance(tokenizer, TextTokenizer)
        tokens = tokenizer.encode_batch(texts)
        feeds = {spec.ids_name: tokens.input_ids.astype(_DTYPES[spec.ids_dtype])}
        if spec.mask_name is not None:
            feeds[spec.mask_name] = tokens.attention_mask.astype(_DTYPES[spec.mask_dtype])
        return _normalize(_run_batched(self.textual.session, feeds, spec.batch))

    def load(self) -> None:
        """Load both towers now (e.g. in a long-lived process before the first request)."""
        self.visual.load()
        self.textual.load()

    def release(self) -> None:
        """Free both sessions; they reload on next use."""
        self.visual.release()
        self.textual.release()
        with self._tokenizer_lock:
            self._tokenizer = None

    def __repr__(self) -> str:
        return f"ClipModel({self.info.id!r}, {self.info.arch}, {self.info.precision})"
