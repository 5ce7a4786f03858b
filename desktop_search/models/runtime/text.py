"""The sentence model of the ``text`` space (all-MiniLM-L6-v2) on onnxruntime.

The ONNX graph is the bare transformer (``input_ids``, ``attention_mask`` and, for BERT,
``token_type_ids`` -> ``last_hidden_state``); tokenisation, mean pooling and L2 normalisation
happen here, exactly as sentence-transformers does them, so that one graph serves any batch shape.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer

from desktop_search.errors import ModelError
from desktop_search.models.runtime.base import OnnxModel
from desktop_search.models.runtime.model_folder import (
    MODEL_JSON,
    REIMPORT_HINT,
    read_model_json,
    require_files,
)
from desktop_search.models.runtime.session import create_session

log = logging.getLogger(__name__)

KIND = "text"
ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
REQUIRED_FILES = (ONNX_FILE, TOKENIZER_FILE)
POOLINGS = ("mean",)

_INPUT_DTYPES = {"tensor(int64)": np.int64, "tensor(int32)": np.int32}
# onnxruntime fuses residual Add + LayerNormalization into SkipLayerNormalization, whose CPU kernel
# (1.32) takes 295 us on 150 x 384 where Add + Add + LayerNormalization take 58: unfused, an int8
# passage of all-MiniLM-L6-v2 costs 13% less CPU (12 such places; benchmarks/README.md, issue 19).
_SLOW_FUSIONS = ("SkipLayerNormFusion",)


@dataclass(frozen=True)
class TextModelInfo:
    """The contents of a text model folder's ``model.json``."""

    id: str
    embed_dim: int
    max_length: int  # tokens per text, [CLS] and [SEP] included; longer texts are truncated
    precision: str  # "int8" or "fp32"
    files: dict[str, str]  # file name -> sha256
    kind: str = KIND
    pooling: str = "mean"
    normalize: bool = True
    fidelity: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    created: str | None = None
    format: int = 1

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TextModelInfo:
        return cls(
            id=str(data["id"]),
            kind=str(data.get("kind", KIND)),
            embed_dim=int(data["embed_dim"]),
            max_length=int(data["max_length"]),
            pooling=str(data.get("pooling", "mean")),
            normalize=bool(data.get("normalize", True)),
            precision=str(data["precision"]),
            files={str(k): str(v) for k, v in data["files"].items()},
            fidelity=dict(data.get("fidelity", {})),
            source=dict(data.get("source", {})),
            created=data.get("created"),
            format=int(data.get("format", 1)),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def load(cls, model_dir: Path) -> TextModelInfo:
        """Read ``model_dir/model.json``; ModelError (with the fix) if absent, malformed or not
        a text model."""
        data = read_model_json(model_dir)
        path = Path(model_dir) / MODEL_JSON
        kind = data.get("kind", "clip")  # CLIP folders from before "kind" existed have none
        if kind != KIND:
            raise ModelError(f"{model_dir} holds a {kind!r} model, not a text model")
        try:
            info = cls.from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(
                f"{path} is invalid ({type(exc).__name__}: {exc})", REIMPORT_HINT
            ) from exc
        if info.pooling not in POOLINGS:
            raise ModelError(
                f"{path}: pooling {info.pooling!r} is not supported (only {', '.join(POOLINGS)})",
                REIMPORT_HINT,
            )
        if info.max_length < 2 or info.embed_dim < 1:
            raise ModelError(f"{path} is invalid (max_length or embed_dim)", REIMPORT_HINT)
        return info


def load_tokenizer(path: Path, max_length: int) -> Tokenizer:
    """``tokenizer.json`` set up for the runtime: truncation at ``max_length``, no padding.

    Files saved by Hugging Face often carry their own truncation (all-MiniLM-L6-v2's says 128)
    and fixed-length padding; both are overridden: the model's max_length is what
    sentence-transformers uses, and padding is done per batch by :meth:`TextModel.encode`.
    """
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises plain Exception subclasses
        raise ModelError(f"Cannot load tokenizer {path}: {exc}", REIMPORT_HINT) from exc
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' mean pooling: average of the real (mask 1) token vectors."""
    weights = mask.astype(np.float32)[:, :, None]
    summed = (hidden * weights).sum(axis=1)
    counts = np.maximum(weights.sum(axis=1), np.float32(1e-9))
    return summed / counts


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (torch.nn.functional.normalize: eps 1e-12, zeros stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), np.float32(1e-12))


class TextModel(OnnxModel):
    """Texts -> L2-normalised sentence embeddings (n, embed_dim) float32.

    The session and tokenizer load on first use (:meth:`load`, :meth:`release` and
    :attr:`loaded` come from :class:`OnnxModel`). Thread safe: the session is, and the
    tokenizer is only read after set-up.
    """

    def __init__(self, model_dir: Path, threads: int | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.info = TextModelInfo.load(self.model_dir)
        require_files(self.model_dir, self.info.id, [*REQUIRED_FILES, *self.info.files])
        super().__init__(self.model_dir / ONNX_FILE, threads)
        self._tokenizer: Tokenizer | None = None
        self._tokenizer_lock = threading.Lock()
        self._inputs: dict[str, Any] = {}

    @property
    def embed_dim(self) -> int:
        return self.info.embed_dim

    @property
    def max_length(self) -> int:
        return self.info.max_length

    @property
    def batch_invariant(self) -> bool:
        """Whether a text's embedding is the same in any batch (fp32: yes, to 1e-6).

        onnxruntime's dynamic int8 quantises each MatMul's activations with one scale for the
        whole input tensor, i.e. for every token of every text in the batch, padding included:
        a short text batched with long ones came out at cosine 0.96 to itself encoded alone.
        Indexing and querying must agree, so int8 graphs run one text at a time; with texts
        sorted by length that costs little (benchmarks/text_model.py).
        """
        return self.info.precision != "int8"

    @property
    def parallel_calls(self) -> int:
        """How many calls of the graph :meth:`encode` runs at once: one per thread for an int8
        graph, each call on a single-threaded session; fp32 batches run one at a time on a
        session with every thread.

        One text of ~150 tokens is too small a piece of work to split over cores: on 2 cores a
        2-thread session ran 516 real passages as fast as one thread (its CPU seconds equal to
        its wall seconds: the second thread did nothing), while two 1-thread calls side by side
        ran 1.71-1.88x as many a second, at 45-46 passages per CPU second against 47, with every
        vector identical and a query's latency unchanged (benchmarks/passage_throughput.py,
        issue 19).
        """
        if self.batch_invariant:
            return 1
        return max(1, self.threads or os.cpu_count() or 1)

    @property
    def tokenizer(self) -> Tokenizer:
        """The runtime tokenizer (truncating at max_length, not padding), loaded on first use."""
        tokenizer = self._tokenizer
        if tokenizer is None:
            with self._tokenizer_lock:
                if self._tokenizer is None:
                    self._tokenizer = load_tokenizer(
                        self.model_dir / TOKENIZER_FILE, self.info.max_length
                    )
                tokenizer = self._tokenizer
        return tokenizer

    def _load(self) -> ort.InferenceSession:
        session = create_session(
            self.path, 1 if self.parallel_calls > 1 else self.threads, _SLOW_FUSIONS
        )
        inputs = {spec.name: spec for spec in session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= inputs.keys():
            raise ModelError(
                f"{self.path} is not a sentence-transformer graph "
                f"(inputs {sorted(inputs)}, expected input_ids and attention_mask)",
                REIMPORT_HINT,
            )
        unknown = set(inputs) - {"input_ids", "attention_mask", "token_type_ids"}
        if unknown:
            raise ModelError(f"{self.path} has unexpected inputs {sorted(unknown)}", REIMPORT_HINT)
        self._inputs = {
            name: _INPUT_DTYPES.get(spec.type, np.int64) for name, spec in inputs.items()
        }
        return session

    def _release(self) -> None:
        with self._tokenizer_lock:
            self._tokenizer = None

    def token_ids(self, text: str) -> list[int]:
        """The ids the model sees for ``text`` (special tokens included, truncated)."""
        return list(self.tokenizer.encode(text).ids)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Texts -> L2-normalised embeddings (n, embed_dim) float32, in the order given.

        Texts are sorted by token count and batched, each batch padded only to its longest text:
        attention cost grows with the padded length, so mixing a short text into a batch of long
        ones is where CPU time goes. An empty string gets the embedding of ``[CLS] [SEP]``,
        as in sentence-transformers.

        An int8 graph runs one text per call whatever ``batch_size`` says (see
        :attr:`batch_invariant`): its embeddings then depend on the text alone. Those calls run
        :attr:`parallel_calls` at a time, each on one core.
        """
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        out = np.zeros((len(texts), self.embed_dim), dtype=np.float32)
        if not texts:
            return out
        bad = [type(t).__name__ for t in texts if not isinstance(t, str)]
        if bad:
            raise TypeError(f"texts must be strings, got {bad[0]}")
        if not self.batch_invariant:
            batch_size = 1
        self.load()  # the graph (and so self._inputs) before any worker needs it
        encodings = self.tokenizer.encode_batch(texts)
        lengths = np.array([len(e.ids) for e in encodings])
        # Longest first: the largest batch shape is met (and its memory reserved) at the start,
        # and calls running side by side finish together (the short ones fill in at the end).
        order = np.argsort(-lengths, kind="stable")
        batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        calls = min(self.parallel_calls, len(batches))
        if calls > 1:
            with ThreadPoolExecutor(calls, thread_name_prefix="text-encode") as pool:
                for index, vectors in zip(
                    batches, pool.map(lambda i: self._run(encodings, i), batches), strict=True
                ):
                    out[index] = vectors
        else:
            for index in batches:
                out[index] = self._run(encodings, index)
        return out

    def _run(self, encodings: Sequence[Encoding], index: np.ndarray) -> np.ndarray:
        """One call of the graph on the texts ``index`` of ``encodings``, padded to the longest."""
        width = int(max(len(encodings[i].ids) for i in index))
        ids = np.zeros((len(index), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for row, i in enumerate(index):
            encoding = encodings[i]
            n = len(encoding.ids)
            ids[row, :n] = encoding.ids
            types[row, :n] = encoding.type_ids
            mask[row, :n] = 1
        arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        feeds = {name: arrays[name].astype(dtype) for name, dtype in self._inputs.items()}
        hidden = self.session.run(None, feeds)[0]
        pooled = mean_pool(np.asarray(hidden, dtype=np.float32), mask)
        return l2_normalize(pooled) if self.info.normalize else pooled

    def __repr__(self) -> str:
        state = "loaded" if self.loaded else "not loaded"
        return f"TextModel({self.info.id!r}, {self.info.precision}, {state})"
