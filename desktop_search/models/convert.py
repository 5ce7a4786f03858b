"""open_clip checkpoint -> int8 ONNX model folder (the optional ``convert`` extra).

This is the only module that imports torch, open_clip and onnx. It exports both towers to ONNX,
quantises them (dynamic int8 weights of MatMul/Gemm/Gather), measures the fidelity of the result
against torch fp32, writes the tokenizer and ``model.json`` and installs the folder atomically.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import onnx  # noqa: F401  (the quantizer needs it; importing here makes a missing extra obvious)
import open_clip
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from PIL import Image
from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import BPE

from desktop_search.errors import ModelImportError
from desktop_search.models.clip import MODEL_JSON, TEXTUAL_FILE, TOKENIZER_FILE, VISUAL_FILE
from desktop_search.models.preprocess import ImageSpec, preprocess
from desktop_search.models.session import create_session
from desktop_search.models.tokenizer import ClipTokenizer

log = logging.getLogger(__name__)

MODEL_JSON_FORMAT = 1

# An int8 tower whose embeddings drift further than this from torch fp32 (minimum cosine over the
# fidelity samples) is kept in fp32 instead: a search index built on a broken tower is worse than
# a slower one. Dynamic int8 on CLIP towers normally stays above 0.99.
FIDELITY_FLOOR = 0.98
ONNX_OPSET = 17
# Weights of these ops become int8. Gather is the token-embedding table: leaving it fp32 keeps
# ViT-B-32's text tower at 134 MB instead of 61 MB for no measurable fidelity gain (min cosine
# 0.99885 vs 0.99881 with random weights; the fidelity gate checks every conversion anyway).
QUANTIZED_OPS = ["MatMul", "Gemm", "Gather"]

START_TOKEN = "<start_of_text>"
END_TOKEN = "<end_of_text>"
# open_clip.tokenizer.SimpleTokenizer's pre-tokenisation pattern (without the special tokens,
# which `tokenizers` splits off itself as added tokens).
CLIP_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""

FIDELITY_TEXTS = (
    "a photo of a dog",
    "two cats sleeping on a red sofa",
    "sunset over the mountains, 2019",
    "Café au lait à Paris",
    "東京の夜景",
    "birthday party 🎂🎉",
    "",
    "a very long description " * 12,
)


class _DropRootLogNoise(logging.Filter):
    """Drops known-harmless root-logger messages that open_clip / the quantizer always emit.

    "No pretrained weights loaded": we pass our own checkpoint (or log random weights ourselves).
    "consider to run pre-processing": onnxruntime's quant_pre_process fails on these graphs
    (symbolic shape inference asserts on the exported Reshape) and is optional.
    """

    _NOISE = ("No pretrained weights loaded", "Please consider to run pre-processing")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self._NOISE)


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    noise = _DropRootLogNoise()
    root = logging.getLogger()
    root.addFilter(noise)
    try:
        yield
    finally:
        root.removeFilter(noise)


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
    with warnings.catch_warnings(), _quiet_root_logger():
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


def fidelity_images(size: int, count: int = 6, seed: int = 0) -> list[Image.Image]:
    """Deterministic synthetic images with photo-like structure (gradients, shapes, noise)."""
    rng = np.random.default_rng(seed)
    images = []
    for i in range(count):
        h, w = (int(size * s) for s in rng.uniform(0.8, 2.5, size=2))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        base = np.stack(
            [
                (xx / w) * 255,
                (yy / h) * 255,
                (np.sin(xx / (7 + i)) * np.cos(yy / (11 + i)) * 0.5 + 0.5) * 255,
            ],
            axis=-1,
        )
        for _ in range(4):  # a few solid rectangles, like objects on a background
            y0, x0 = rng.integers(0, h // 2), rng.integers(0, w // 2)
            base[y0 : y0 + h // 3, x0 : x0 + w // 3] = rng.uniform(0, 255, size=3)
        base += rng.normal(0, 12, size=base.shape)
        images.append(Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB"))
    return images


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.sum(a * b, axis=1)


def _onnx_embed(path: Path, name: str, inputs: np.ndarray) -> np.ndarray:
    session = create_session(path, threads=None)
    return session.run(None, {name: inputs})[0]


def _quantize_tower(
    fp32_path: Path,
    out_path: Path,
    input_name: str,
    inputs: np.ndarray,
    reference: np.ndarray,
    work_dir: Path,
) -> dict[str, Any]:
    """Quantise with and without per-channel scales; keep the variant closest to torch fp32.

    Falls back to the fp32 graph when no int8 variant clears FIDELITY_FLOOR.
    """
    fp32_cos = _cosines(_onnx_embed(fp32_path, input_name, inputs), reference)
    candidates = []
    for per_channel in (True, False):
        candidate = work_dir / f"{out_path.stem}.int8.{'pc' if per_channel else 'pt'}.onnx"
        with _quiet_root_logger():
            quantize_dynamic(
                fp32_path,
                candidate,
                op_types_to_quantize=QUANTIZED_OPS,
                per_channel=per_channel,
                reduce_range=False,
                weight_type=QuantType.QInt8,
            )
        cos = _cosines(_onnx_embed(candidate, input_name, inputs), reference)
        log.info(
            "%s int8 per_channel=%s: mean cosine %.5f, min %.5f",
            out_path.name,
            per_channel,
            cos.mean(),
            cos.min(),
        )
        candidates.append((float(cos.min()), float(cos.mean()), per_channel, candidate))
    best_min, best_mean, per_channel, best = max(candidates, key=lambda c: (c[0], c[1]))
    result: dict[str, Any] = {
        "fp32_onnx_min_cosine": round(float(fp32_cos.min()), 6),
        "int8_mean_cosine": round(best_mean, 6),
        "int8_min_cosine": round(best_min, 6),
        "per_channel": per_channel,
        "samples": int(len(inputs)),
    }
    if best_min >= FIDELITY_FLOOR:
        os.replace(best, out_path)
        result["precision"] = "int8"
    else:
        log.warning(
            "%s: int8 min cosine %.4f < %.2f, keeping fp32", out_path.name, best_min, FIDELITY_FLOOR
        )
        shutil.copyfile(fp32_path, out_path)
        result["precision"] = "fp32"
    return result


# ---------------------------------------------------------------- install


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _install(tmp_dir: Path, out_dir: Path) -> None:
    """Move a finished model folder into place; an existing one is replaced only at the end."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, old)
    try:
        os.replace(tmp_dir, out_dir)
    except OSError:
        if old is not None:
            os.replace(old, out_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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
        runtime_tokens = ClipTokenizer(tok_path, context_length).encode(list(FIDELITY_TEXTS))
        reference_tokens = tokenizer(list(FIDELITY_TEXTS), context_length=context_length)
        if not np.array_equal(runtime_tokens, reference_tokens.numpy()):
            raise ModelImportError(
                "The generated tokenizer does not reproduce open_clip's token ids (a bug)"
            )

        images = fidelity_images(spec.size)
        pixels_t = torch.stack([transform(image) for image in images])
        pixels = pixels_t.numpy()
        runtime_pixels = np.stack([preprocess(image, spec) for image in images])
        preprocess_diff = float(np.abs(runtime_pixels - pixels).max())

        with torch.no_grad():
            image_ref = model.encode_image(pixels_t).numpy()
            text_ref = model.encode_text(reference_tokens).numpy()

        fp32_visual, fp32_textual = work / VISUAL_FILE, work / TEXTUAL_FILE
        _export(_Visual(model), pixels_t[:2], "pixels", fp32_visual)
        _export(_Textual(model), reference_tokens[:2], "tokens", fp32_textual)

        tokens = reference_tokens.numpy().astype(np.int64)
        fidelity: dict[str, Any] = {"preprocess_max_abs_diff": preprocess_diff}
        if quantize:
            fidelity["image"] = _quantize_tower(
                fp32_visual, tmp_dir / VISUAL_FILE, "pixels", pixels, image_ref, work
            )
            fidelity["text"] = _quantize_tower(
                fp32_textual, tmp_dir / TEXTUAL_FILE, "tokens", tokens, text_ref, work
            )
        else:
            for key, src, input_name, inputs, ref in (
                ("image", fp32_visual, "pixels", pixels, image_ref),
                ("text", fp32_textual, "tokens", tokens, text_ref),
            ):
                cos = _cosines(_onnx_embed(src, input_name, inputs), ref)
                fidelity[key] = {
                    "fp32_onnx_min_cosine": round(float(cos.min()), 6),
                    "precision": "fp32",
                    "samples": int(len(inputs)),
                }
                os.replace(src, tmp_dir / src.name)
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
        (tmp_dir / MODEL_JSON).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        _install(tmp_dir, out_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    log.info("converted %s -> %s (%s)", arch, out_dir, precision)
    return out_dir
