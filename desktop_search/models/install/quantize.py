"""Dynamic int8 quantisation of an ONNX tower, behind a fidelity gate (no torch needed).

``quantize_tower`` quantises an fp32 ONNX graph a few ways (int8 weights, per-channel or per-tensor
scales, optionally keeping the most sensitive layers fp32), runs every candidate and the fp32 graph
on a calibration set, and keeps the best int8 candidate only if its embeddings stay close to fp32:
mean cosine >= 0.99 (and no single sample far off). The report says which file to install and why.

Besides cosines it measures *top-10 neighbour agreement*: for each calibration sample, how many of
its 10 nearest neighbours within the set are the same under fp32 and under int8 embeddings. That
is what search results are made of; cosines alone can hide a tower that keeps vectors near their
originals yet reorders them.

The calibration inputs come from ``calibration.py`` (generated offline and deterministically).

Needs ``onnx`` (onnxruntime's quantiser imports it) but never torch.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic

from desktop_search.models.install.files import quiet_root_logger
from desktop_search.models.runtime.session import create_session

log = logging.getLogger(__name__)

MIN_MEAN_COSINE = 0.99
# A single calibration sample this far off fails the gate even when the mean is fine: a tower
# that breaks on some inputs (overflowing activations, say) is not safe to index with.
MIN_SAMPLE_COSINE = 0.95
TOP_K = 10
# Weights of these ops become int8. Gather is the token-embedding table (and class/position
# lookups): quantising it keeps ViT-B-32's text tower at 61 MB instead of 134 MB.
QUANTIZED_OPS = ("MatMul", "Gemm", "Gather")
_WEIGHT_OPS = ("MatMul", "Gemm", "Conv")


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return np.sum(a * b, axis=1)


def _neighbours(embeddings: np.ndarray, k: int) -> np.ndarray:
    x = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    similarity = x @ x.T
    np.fill_diagonal(similarity, -np.inf)  # a sample is not its own neighbour
    return np.argsort(-similarity, axis=1, kind="stable")[:, :k]


def topk_agreement(reference: np.ndarray, candidate: np.ndarray, k: int = TOP_K) -> float:
    """Mean overlap (0..1) of each sample's k nearest neighbours under the two embeddings."""
    n = len(reference)
    k = min(k, n - 1)
    if k < 1:
        return 1.0
    ref, cand = _neighbours(reference, k), _neighbours(candidate, k)
    overlaps = [len(set(ref[i]) & set(cand[i])) / k for i in range(n)]
    return float(np.mean(overlaps))


# ---------------------------------------------------------------- running a graph


def run_tower(
    session: ort.InferenceSession, feeds: Mapping[str, np.ndarray], batch_size: int = 16
) -> np.ndarray:
    """The first output of ``session`` over ``feeds`` (all with the same first dimension).

    Inputs are cast to the dtypes the graph declares (int32 ids for Immich exports), and graphs
    exported with a fixed batch of 1 are run one sample at a time.
    """
    specs = {spec.name: spec for spec in session.get_inputs()}
    n = len(next(iter(feeds.values())))
    fixed = {spec.shape[0] for spec in specs.values() if isinstance(spec.shape[0], int)}
    step = min(fixed) if fixed else batch_size
    cast = {}
    for name, value in feeds.items():
        kind = specs[name].type
        dtype = {"tensor(int32)": np.int32, "tensor(int64)": np.int64}.get(kind, np.float32)
        cast[name] = np.ascontiguousarray(value, dtype=dtype)
    outputs = [
        session.run(None, {name: value[i : i + step] for name, value in cast.items()})[0]
        for i in range(0, n, step)
    ]
    return np.concatenate(outputs).reshape(n, -1).astype(np.float32)


# ---------------------------------------------------------------- the gate


@dataclass(frozen=True)
class Fidelity:
    """How close a candidate graph's embeddings are to the fp32 graph's on the calibration set."""

    mean_cosine: float
    min_cosine: float
    top10_agreement: float
    samples: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean_cosine": round(self.mean_cosine, 6),
            "min_cosine": round(self.min_cosine, 6),
            "top10_agreement": round(self.top10_agreement, 4),
            "samples": self.samples,
        }


def measure(reference: np.ndarray, candidate: np.ndarray) -> Fidelity:
    cos = _cosines(reference, candidate)
    cos = np.nan_to_num(cos, nan=-1.0)  # NaN embeddings are as wrong as they get
    return Fidelity(
        mean_cosine=float(cos.mean()),
        min_cosine=float(cos.min()),
        top10_agreement=topk_agreement(reference, np.nan_to_num(candidate)),
        samples=len(reference),
    )


def compare_graphs(
    fp32_path: Path,
    candidate_path: Path,
    feeds: Mapping[str, np.ndarray],
    reference: np.ndarray | None = None,
) -> Fidelity:
    """Fidelity of ``candidate_path`` against ``fp32_path`` (or precomputed ``reference``)."""
    if reference is None:
        reference = run_tower(create_session(fp32_path), feeds)
    return measure(reference, run_tower(create_session(candidate_path), feeds))


@dataclass(frozen=True)
class Candidate:
    """One way to quantise a graph."""

    per_channel: bool
    exclude_sensitive: bool = False

    @property
    def label(self) -> str:
        scales = "per-channel" if self.per_channel else "per-tensor"
        return f"int8 {scales}" + (", first/last layers fp32" if self.exclude_sensitive else "")


DEFAULT_CANDIDATES = (
    Candidate(per_channel=True),
    Candidate(per_channel=False),
    Candidate(per_channel=True, exclude_sensitive=True),
)

# (fp32 path, output path, per_channel, node names to keep fp32) -> writes the int8 graph.
Quantizer = Callable[[Path, Path, bool, Sequence[str]], None]


@dataclass(frozen=True)
class FidelityReport:
    """The gate's verdict for one tower: which file to install, at what precision, and why."""

    precision: str  # "int8" or "fp32"
    path: Path  # the file to install (the int8 output, or the fp32 input)
    reason: str
    fidelity: Fidelity  # of the chosen int8 variant (the best one, when none passed)
    per_channel: bool | None
    excluded_nodes: tuple[str, ...] = ()
    candidates: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    min_mean_cosine: float = MIN_MEAN_COSINE

    def to_dict(self) -> dict[str, Any]:
        """The numbers for model.json's "fidelity" (keys int8_* name the int8 candidate's)."""
        f = self.fidelity
        return {
            "precision": self.precision,
            "reason": self.reason,
            "int8_mean_cosine": round(f.mean_cosine, 6),
            "int8_min_cosine": round(f.min_cosine, 6),
            "int8_top10_agreement": round(f.top10_agreement, 4),
            "samples": f.samples,
            "per_channel": self.per_channel,
            "excluded_nodes": list(self.excluded_nodes),
            "min_mean_cosine": self.min_mean_cosine,
            "candidates": [dict(c) for c in self.candidates],
        }


def quiet_quantizer() -> contextlib.AbstractContextManager[None]:
    """onnxruntime's quantiser suggests quant_pre_process on every call; it is optional here
    (and its symbolic shape inference fails on torch-exported Reshape graphs)."""
    return quiet_root_logger("Please consider to run pre-processing")


def dynamic_int8(
    fp32_path: Path, out_path: Path, per_channel: bool, exclude: Sequence[str]
) -> None:
    """The default quantiser: onnxruntime's dynamic quantisation, int8 weights (7-bit range).

    reduce_range=True: on x86 CPUs without VNNI (AVX2 only, e.g. the AMD EPYC CI/dev machines)
    onnxruntime's u8 x s8 MatMulInteger kernel sums pairs in saturating int16 (vpmaddubsw), so
    full-range int8 weights overflow; per-channel scales put every column at full range, which
    makes it worst. Measured on the tiny test CLIP (same fp32 ONNX file, onnxruntime 1.22.1,
    1.31.1 and 1.32.0 all identical, so not a version change): per-channel 8-bit mean cosine to
    fp32 0.9873 (image) / 0.9938 (text, min 0.9866; 0.959 to torch on the parity texts),
    per-channel 7-bit 0.99987 / 0.99919 (min 0.9984). On VNNI CPUs 7-bit costs only rounding.
    """
    with quiet_quantizer():
        quantize_dynamic(
            Path(fp32_path),
            Path(out_path),
            op_types_to_quantize=list(QUANTIZED_OPS),
            per_channel=per_channel,
            reduce_range=True,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=list(exclude) or None,
        )


def has_external_data(model_path: Path) -> bool:
    """Whether the graph keeps weights in separate files (models over 2 GB do)."""
    model = onnx.load(str(model_path), load_external_data=False)
    return any(init.data_location == onnx.TensorProto.EXTERNAL for init in model.graph.initializer)


def sensitive_nodes(model_path: Path) -> list[str]:
    """The first and last weight layers (patch embedding / first projection, output projection).

    They see the raw input and produce the embedding itself, so their quantisation error is not
    averaged away by the layers around them. ONNX nodes are stored in topological order.
    """
    model = onnx.load(str(model_path), load_external_data=False)
    initializers = {init.name for init in model.graph.initializer}
    weighted = [
        node.name
        for node in model.graph.node
        if node.op_type in _WEIGHT_OPS and any(i in initializers for i in node.input)
    ]
    gathers = [
        node.name
        for node in model.graph.node
        if node.op_type == "Gather" and node.input and node.input[0] in initializers
    ]
    chosen = [*weighted[:1], *weighted[-1:], *gathers[:1]]
    return list(dict.fromkeys(name for name in chosen if name))


def quantize_tower(
    fp32_path: Path,
    int8_path: Path,
    inputs: np.ndarray,
    input_name: str,
    *,
    min_mean_cosine: float = MIN_MEAN_COSINE,
    min_sample_cosine: float = MIN_SAMPLE_COSINE,
    extra_inputs: Mapping[str, np.ndarray] | None = None,
    candidates: Sequence[Candidate] = DEFAULT_CANDIDATES,
    quantizer: Quantizer = dynamic_int8,
) -> FidelityReport:
    """Quantise ``fp32_path`` to ``int8_path`` if the int8 graph is faithful enough.

    Passing means mean cosine >= ``min_mean_cosine`` and every sample >= ``min_sample_cosine``.

    ``inputs`` (fed as ``input_name``, plus ``extra_inputs`` such as an attention mask) is the
    calibration set: at least 32 samples, so that top-10 agreement means something. Candidates
    are tried in order and measured against the fp32 graph; the first that passes is written to
    ``int8_path`` and the report's ``path`` is ``int8_path``. When none passes, ``int8_path``
    does not exist afterwards, the report's ``path`` is ``fp32_path`` and its numbers are those
    of the best int8 variant (highest mean cosine), with the reason it was rejected.
    """
    fp32_path, int8_path = Path(fp32_path), Path(int8_path)
    feeds = {input_name: np.asarray(inputs), **dict(extra_inputs or {})}
    n = len(feeds[input_name])
    if n < TOP_K + 1:
        raise ValueError(f"a calibration set needs more than {TOP_K} samples, got {n}")
    reference = run_tower(create_session(fp32_path), feeds)
    if not np.all(np.isfinite(reference)):
        raise ValueError(f"{fp32_path.name} produces non-finite embeddings on calibration inputs")
    sensitive = sensitive_nodes(fp32_path) if any(c.exclude_sensitive for c in candidates) else []

    def passes(f: Fidelity) -> bool:
        return f.mean_cosine >= min_mean_cosine and f.min_cosine >= min_sample_cosine

    measured: list[tuple[Candidate, Fidelity, Path, tuple[str, ...]]] = []
    chosen = None
    work = Path(tempfile.mkdtemp(prefix=".quantize-", dir=int8_path.parent))
    try:
        # Candidates in order of preference (smallest and fastest first): the first that passes
        # is kept, so a good model costs one quantisation and one calibration run.
        for i, candidate in enumerate(candidates):
            exclude = tuple(sensitive) if candidate.exclude_sensitive else ()
            out = work / f"candidate-{i}.onnx"
            quantizer(fp32_path, out, candidate.per_channel, exclude)
            fidelity = measure(reference, run_tower(create_session(out), feeds))
            log.info(
                "%s %s: mean cosine %.5f, min %.5f, top-10 agreement %.3f",
                fp32_path.name,
                candidate.label,
                fidelity.mean_cosine,
                fidelity.min_cosine,
                fidelity.top10_agreement,
            )
            measured.append((candidate, fidelity, out, exclude))
            if passes(fidelity):
                chosen = measured[-1]
                break
        table = tuple(
            {"variant": c.label, **f.to_dict(), "bytes": out.stat().st_size}
            for c, f, out, _ in measured
        )
        if chosen is not None:
            candidate, fidelity, out, exclude = chosen
            if int8_path.exists():
                int8_path.unlink()
            os.replace(out, int8_path)
            reason = (
                f"{candidate.label}: mean cosine {fidelity.mean_cosine:.4f} to fp32 "
                f"(>= {min_mean_cosine}), min {fidelity.min_cosine:.4f}, top-10 neighbour "
                f"agreement {fidelity.top10_agreement:.0%} over {fidelity.samples} samples"
            )
            return FidelityReport(
                "int8", int8_path, reason, fidelity, candidate.per_channel, exclude, table,
                min_mean_cosine,
            )  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        int8_path.unlink()
    candidate, fidelity, _, _ = max(measured, key=lambda m: m[1].mean_cosine)
    failed = (
        f"mean cosine {fidelity.mean_cosine:.4f} < {min_mean_cosine}"
        if fidelity.mean_cosine < min_mean_cosine
        else f"min cosine {fidelity.min_cosine:.4f} < {min_sample_cosine}"
    )
    reason = (
        f"int8 rejected, keeping fp32: the best of {len(measured)} int8 variants "
        f"({candidate.label}) has {failed} to fp32 (top-10 neighbour agreement "
        f"{fidelity.top10_agreement:.0%} over {fidelity.samples} samples)"
    )
    log.warning("%s: %s", fp32_path.name, reason)
    return FidelityReport("fp32", fp32_path, reason, fidelity, None, (), table, min_mean_cosine)


__all__ = [
    "Candidate",
    "DEFAULT_CANDIDATES",
    "Fidelity",
    "FidelityReport",
    "compare_graphs",
    "dynamic_int8",
    "has_external_data",
    "measure",
    "quantize_tower",
    "run_tower",
    "sensitive_nodes",
    "topk_agreement",
]
