# Over 400 lines: one job: an open_clip checkpoint -> checked, gated int8 ONNX folder.
"""open_clip checkpoint -> int8 ONNX model folder (the optional ``convert`` extra).

This is the only module that imports torch and open_clip. It exports both towers to ONNX, checks
the fp32 export against torch, quantises them through the fidelity gate of
:mod:`desktop_search.models.install.quantize` (dynamic int8 weights, kept only when the
int8 embeddings stay within mean cosine 0.99 of fp32), writes the tokenizer and ``model.json``
and installs the folder atomically.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import shutil
import tempfile
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import onnx  # noqa: F401  (the quantizer needs it; importing here makes a missing extra obvious)
import open_clip
import torch
from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import BPE

from desktop_search.errors import ModelImportError
from desktop_search.models.install.calibration import CALIBRATION_TEXTS, calibration_images
from desktop_search.models.install.files import (
    install_folder,
    quiet_root_logger,
    sha256_file,
    write_model_json,
)
from desktop_search.models.install.quantize import (
    MIN_MEAN_COSINE,
    quantize_tower,
    run_tower,
)
from desktop_search.models.runtime.clip import TEXTUAL_FILE, TOKENIZER_FILE, VISUAL_FILE
from desktop_search.models.runtime.preprocess import ImageSpec, preprocess
from desktop_search.models.runtime.session import create_session
from desktop_search.models.runtime.tokenizer import ClipTokenizer

log = logging.getLogger(__name__)

MODEL_JSON_FORMAT = 1

# The fp32 ONNX export must reproduce torch (exporter bugs show up here, not in the int8 gate).
FP32_EXPORT_FLOOR = 0.999
ONNX_OPSET = 17

START_TOKEN = "<start_of_text>"
END_TOKEN = "<end_of_text>"
# open_clip.tokenizer.SimpleTokenizer's pre-tokenisation pattern (without the special tokens,
# which `tokenizers` splits off itself as added tokens).
CLIP_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


# ---------------------------------------------------------------- tokenizer.json


def build_clip_tokenizer(bpe_path: Path | None = None) -> Tokenizer:
    """A `tokenizers` BPE equivalent to open_clip's SimpleTokenizer (same vocab and ids).

    Mirrors Hugging Face's CLIPTokenizerFast conversion: byte-level BPE with a ``</w>``
    end-of-word suffix, CLIP's pre-tokenisation regex, NFC + whitespace collapse + lowercase.
    """
    bpe_path = Path(bpe_path or open_clip.tokenizer.default_bpe())
    # Same construction as SimpleTokenizer.__init__, so ids match one to one.
    with gzip.open(bpe_path) as f:
        lines = f.read().decode("utf-8").split("\n")
    merges = [tuple(line.split()) for line in lines[1 : 49152 - 256 - 2 + 1]]
    byte_chars = list(open_clip.tokenizer.bytes_to_unicode().values())
    vocab_list = byte_chars + [c + "</w>" for c in byte_chars]
    vocab_list += ["".join(merge) for merge in merges]
    vocab_list += [START_TOKEN, END_TOKEN]
    vocab = {token: i for i, token in enumerate(vocab_list)}

    tokenizer = Tokenizer(
        BPE(
            vocab=vocab,
            merges=merges,
            dropout=None,
            continuing_subword_prefix="",
            end_of_word_suffix="</w>",
            fuse_unk=False,
        )
    )
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(CLIP_PATTERN), behavior="removed", invert=True),
            # The CLIP split above already made the words; no GPT-2 regex on top of it.
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([START_TOKEN, END_TOKEN])
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{START_TOKEN} $A {END_TOKEN}",
        pair=f"{START_TOKEN} $A {END_TOKEN} $B {END_TOKEN}",
        special_tokens=[(START_TOKEN, vocab[START_TOKEN]), (END_TOKEN, vocab[END_TOKEN])],
    )
    return tokenizer


# ---------------------------------------------------------------- model + checkpoint


def _resolve_arch(arch: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(open_clip model name, model config, preprocess overrides) for a name or a JSON path."""
    path = Path(arch)
    if path.suffix == ".json" or path.is_file():
        if not path.is_file():
            raise ModelImportError(f"Model config not found: {path}")
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelImportError(f"Model config is not valid JSON: {path} ({exc})") from exc
        # A hub-style open_clip_config.json nests the model config and carries preprocessing.
        config = raw.get("model_cfg", raw)
        preprocess_cfg = dict(raw.get("preprocess_cfg", {}))
        if not all(key in config for key in ("embed_dim", "vision_cfg", "text_cfg")):
            raise ModelImportError(
                f"{path} is not an open_clip model config (needs embed_dim, vision_cfg, text_cfg)"
            )
        name = path.parent.name if path.stem == "open_clip_config" else path.stem
        if config is not raw or name != path.stem:
            # open_clip registers only flat config files, named after the model.
            flat = Path(tempfile.mkdtemp(prefix="open_clip_cfg-")) / f"{name}.json"
            flat.write_text(json.dumps(config), encoding="utf-8")
            path = flat
        open_clip.add_model_config(path)
        return name, config, preprocess_cfg
    config = open_clip.get_model_config(arch)
    if config is None:
        raise ModelImportError(
            f"Unknown open_clip architecture {arch!r}",
            hint="use a name from open_clip.list_models() or a path to a model-config JSON",
        )
    return arch, config, {}


def load_state_dict(checkpoint: Path) -> dict[str, torch.Tensor]:
    """Read a checkpoint without unpickling arbitrary objects."""
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise ModelImportError(f"Checkpoint not found: {checkpoint}")
    suffix = checkpoint.suffix.lower()
    try:
        if suffix == ".safetensors":
            from safetensors.torch import load_file

            state: Any = load_file(str(checkpoint), device="cpu")
        elif suffix in (".bin", ".pt", ".pth"):
            # weights_only: a checkpoint is data, never code (no pickles, see ARCHITECTURE).
            state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        else:
            raise ModelImportError(
                f"Unsupported checkpoint type {suffix!r}: {checkpoint}",
                hint="use .safetensors, .bin, .pt or .pth",
            )
    except ModelImportError:
        raise
    except Exception as exc:
        raise ModelImportError(
            f"Cannot read checkpoint {checkpoint}: {type(exc).__name__}: {exc}",
            hint="only tensor-only checkpoints (safetensors, or torch.save of a state dict) load",
        ) from exc
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not state:
        raise ModelImportError(f"Checkpoint {checkpoint} holds no state dict")
    return {
        (k[len("module.") :] if k.startswith("module.") else k): v
        for k, v in state.items()
        if isinstance(v, torch.Tensor)
    }


def build_model(arch: str, checkpoint: Path | None) -> tuple[torch.nn.Module, str, dict[str, Any]]:
    """The open_clip model in eval mode (random weights when ``checkpoint`` is None)."""
    model_name, config, preprocess_cfg = _resolve_arch(arch)
    with warnings.catch_warnings(), quiet_root_logger("No pretrained weights loaded"):
        warnings.simplefilter("ignore")
        model = open_clip.create_model(
            model_name, pretrained=None, device="cpu", force_preprocess_cfg=preprocess_cfg or None
        )
    if checkpoint is not None:
        state = load_state_dict(checkpoint)
        logit_scale = state.get("logit_scale")
        if logit_scale is not None and logit_scale.ndim != model.logit_scale.ndim:
            state["logit_scale"] = logit_scale.reshape(model.logit_scale.shape)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ModelImportError(
                f"Checkpoint {checkpoint} does not fit architecture {arch}: {exc}"[:2000],
                hint="pass the architecture the checkpoint was trained with",
            ) from exc
    else:
        log.warning("no checkpoint given: %s has random weights (benchmarks only)", model_name)
    model.eval()
    return model, model_name, config


class _Visual(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(pixels)  # unnormalised: the runtime normalises


class _Textual(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.model.encode_text(tokens)


def _export(module: torch.nn.Module, example: torch.Tensor, input_name: str, path: Path) -> None:
    # In eval + no_grad, nn.MultiheadAttention with an even head count takes its fused "fast
    # path" (aten::_native_multi_head_attention), which has no ONNX symbolic: switch it off.
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        _export_unfused(module, example, input_name, path)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)


def _export_unfused(
    module: torch.nn.Module, example: torch.Tensor, input_name: str, path: Path
) -> None:
    with warnings.catch_warnings(), torch.no_grad():
        # The TorchScript exporter warns that it is legacy and about argmax-based indexing
        # (indices are never negative here). The dynamo exporter would need onnxscript, which
        # is not a dependency; the legacy one exports these graphs faithfully.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (example,),
            str(path),
            input_names=[input_name],
            output_names=["embedding"],
            dynamic_axes={input_name: {0: "batch"}, "embedding": {0: "batch"}},
            opset_version=ONNX_OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


# ---------------------------------------------------------------- fidelity


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.sum(a * b, axis=1)


def _onnx_embed(path: Path, name: str, inputs: np.ndarray) -> np.ndarray:
    return run_tower(create_session(path, threads=None), {name: inputs})


def _gate_tower(
    fp32_path: Path,
    out_path: Path,
    input_name: str,
    inputs: np.ndarray,
    reference: np.ndarray,
    quantize: bool,
) -> dict[str, Any]:
    """Check the fp32 export against torch, then let the fidelity gate pick int8 or fp32.

    The gate compares int8 with the fp32 ONNX graph (no torch needed, the same gate as for ONNX
    imports); the fp32 graph's own agreement with torch is checked and recorded here.
    """
    fp32_cos = _cosines(_onnx_embed(fp32_path, input_name, inputs), reference)
    if fp32_cos.min() < FP32_EXPORT_FLOOR:
        raise ModelImportError(
            f"The fp32 ONNX export of {out_path.name} does not match torch "
            f"(min cosine {fp32_cos.min():.4f}): an exporter bug, not a quantisation problem"
        )
    result: dict[str, Any]
    if quantize:
        report = quantize_tower(
            fp32_path, out_path.with_suffix(".int8.onnx"), inputs, input_name,
            min_mean_cosine=MIN_MEAN_COSINE,
        )  # fmt: skip
        os.replace(report.path, out_path)
        result = report.to_dict()
    else:
        os.replace(fp32_path, out_path)
        result = {"precision": "fp32", "reason": "quantisation not requested"}
    result["fp32_onnx_min_cosine"] = round(float(fp32_cos.min()), 6)
    result["samples"] = int(len(inputs))
    return result


# ---------------------------------------------------------------- install


def convert_open_clip(
    arch: str,
    checkpoint: Path | None,
    out_dir: Path,
    name: str,
    quantize: bool = True,
) -> Path:
    """Convert an open_clip model into a runtime model folder at ``out_dir``; returns it.

    ``arch`` is a registered open_clip name (``"ViT-B-32"``) or a path to a model-config JSON.
    ``checkpoint`` None means random weights (benchmarks and tests only).
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    model, model_name, config = build_model(arch, checkpoint)

    tokenizer = open_clip.get_tokenizer(model_name)
    if not isinstance(tokenizer, open_clip.tokenizer.SimpleTokenizer) or (
        tokenizer.reduction_fn is not None
        or tokenizer.clean_fn is not open_clip.tokenizer._clean_lower
    ):
        raise ModelImportError(
            f"{model_name} uses a tokenizer other than CLIP's BPE ({type(tokenizer).__name__}), "
            "which this app cannot run yet"
        )
    context_length = int(tokenizer.context_length)
    pp = open_clip.get_model_preprocess_cfg(model)
    spec = ImageSpec.from_dict(pp)
    transform = open_clip.image_transform(
        pp["size"],
        is_train=False,
        mean=pp["mean"],
        std=pp["std"],
        resize_mode=pp["resize_mode"],
        interpolation=pp["interpolation"],
        fill_color=pp.get("fill_color", 0),
    )

    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        os.chmod(tmp_dir, 0o700)
        work = tmp_dir / "work"
        work.mkdir()

        tok_path = tmp_dir / TOKENIZER_FILE
        build_clip_tokenizer().save(str(tok_path))
        runtime_tokens = ClipTokenizer(tok_path, context_length).encode(list(CALIBRATION_TEXTS))
        reference_tokens = tokenizer(list(CALIBRATION_TEXTS), context_length=context_length)
        if not np.array_equal(runtime_tokens, reference_tokens.numpy()):
            raise ModelImportError(
                "The generated tokenizer does not reproduce open_clip's token ids (a bug)"
            )

        images = calibration_images()
        pixels_t = torch.stack([transform(image) for image in images])
        pixels = pixels_t.numpy()
        runtime_pixels = np.stack([preprocess(image, spec) for image in images])
        preprocess_diff = float(np.abs(runtime_pixels - pixels).max())

        tokens = reference_tokens.numpy().astype(np.int64)
        with torch.no_grad():
            image_ref = model.encode_image(pixels_t).numpy()
            text_ref = model.encode_text(reference_tokens).numpy()

        fp32_visual, fp32_textual = work / VISUAL_FILE, work / TEXTUAL_FILE
        _export(_Visual(model), pixels_t[:2], "pixels", fp32_visual)
        _export(_Textual(model), reference_tokens[:2], "tokens", fp32_textual)

        fidelity: dict[str, Any] = {"preprocess_max_abs_diff": preprocess_diff}
        fidelity["image"] = _gate_tower(
            fp32_visual, tmp_dir / VISUAL_FILE, "pixels", pixels, image_ref, quantize
        )
        fidelity["text"] = _gate_tower(
            fp32_textual, tmp_dir / TEXTUAL_FILE, "tokens", tokens, text_ref, quantize
        )
        shutil.rmtree(work)

        precisions = {fidelity["image"]["precision"], fidelity["text"]["precision"]}
        precision = precisions.pop() if len(precisions) == 1 else "mixed"
        files = {
            fname: sha256_file(tmp_dir / fname)
            for fname in (VISUAL_FILE, TEXTUAL_FILE, TOKENIZER_FILE)
        }
        source: dict[str, Any] = {
            "type": "open_clip",
            "arch": arch,
            "model_config": config,
            "open_clip_version": open_clip.__version__,
            "torch_version": torch.__version__.split("+")[0],
        }
        if checkpoint is not None:
            source["checkpoint"] = Path(checkpoint).name
            source["checkpoint_sha256"] = sha256_file(Path(checkpoint))
        else:
            source["checkpoint"] = None
        info = {
            "format": MODEL_JSON_FORMAT,
            "id": name,
            "kind": "clip",
            "arch": model_name,
            "embed_dim": int(config["embed_dim"]),
            "image": spec.to_dict(),
            "context_length": context_length,
            "precision": precision,
            "files": files,
            "fidelity": fidelity,
            "source": source,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        write_model_json(tmp_dir, info)
        install_folder(tmp_dir, out_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    log.info("converted %s -> %s (%s)", arch, out_dir, precision)
    return out_dir
