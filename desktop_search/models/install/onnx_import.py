"""Ready-made CLIP ONNX exports (Immich's layout) -> an installed runtime model folder, no torch.

Immich's ``immich-app/<model>`` repositories (and its exporter, ``machine-learning/export`` in
immich-app/immich) lay a model out as::

    config.json                   open_clip model config: embed_dim, text_cfg.context_length,
                                  text_cfg.tokenizer_kwargs.clean ("canonicalize" for SigLIP)
    visual/model.onnx             input "image" float32 (1, 3, s, s), output "embedding"
    visual/preprocess_cfg.json    size (int or [h, w]), mean, std, interpolation, resize_mode
    textual/model.onnx            input "text" int32 (1, context_length), or "input_ids" +
                                  "attention_mask" int32 (M-CLIP / XLM-RoBERTa), "embedding"
    textual/tokenizer.json        Hugging Face fast tokenizer (AutoTokenizer.save_pretrained)
    textual/tokenizer_config.json pad_token, model_max_length, do_lower_case

The graphs are traced with a fixed batch of 1 and Immich pads text to the full context length
with the tokenizer config's pad token; both are recorded in model.json and honoured at runtime.
Both towers go through the fidelity gate of :mod:`desktop_search.models.install.quantize`
(int8 kept only when it stays within mean cosine 0.99 of the fp32 graph on generated calibration
data).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from desktop_search.errors import ModelImportError
from desktop_search.models.install.calibration import CALIBRATION_TEXTS, calibration_images
from desktop_search.models.install.files import (
    install_folder,
    read_source_json,
    sha256_file,
    write_model_json,
)
from desktop_search.models.install.quantize import (
    MIN_MEAN_COSINE,
    has_external_data,
    quantize_tower,
    run_tower,
)
from desktop_search.models.runtime.clip import (
    TEXTUAL_FILE,
    TOKENIZER_FILE,
    VISUAL_FILE,
    ImageInputSpec,
    TextInputSpec,
)
from desktop_search.models.runtime.preprocess import ImageSpec, preprocess_batch
from desktop_search.models.runtime.session import create_session
from desktop_search.models.runtime.tokenizer import TextTokenizer, TokenizerSpec

log = logging.getLogger(__name__)

MODEL_JSON_FORMAT = 1
VISUAL_ONNX = Path("visual/model.onnx")
PREPROCESS_CFG = Path("visual/preprocess_cfg.json")
TEXTUAL_ONNX = Path("textual/model.onnx")
TOKENIZER_JSON = Path("textual/tokenizer.json")
TOKENIZER_CONFIG = Path("textual/tokenizer_config.json")
MODEL_CONFIG = Path("config.json")
REQUIRED = (VISUAL_ONNX, PREPROCESS_CFG, TEXTUAL_ONNX, TOKENIZER_JSON)

DEFAULT_CONTEXT_LENGTH = 77
# Hugging Face writes a huge sentinel (int(1e30)) as model_max_length when there is no limit.
_MAX_SANE_CONTEXT = 8192
_CLIP_START = ("<start_of_text>", "<|startoftext|>")
_CLIP_END = ("<end_of_text>", "<|endoftext|>")
_ID_NAMES = ("text", "input_ids", "tokens", "input")
_ONNX_INT_TYPES = {"tensor(int32)": "int32", "tensor(int64)": "int64"}
_LAYOUT_HINT = (
    "expected an Immich-style export: visual/model.onnx, visual/preprocess_cfg.json, "
    "textual/model.onnx, textual/tokenizer.json (and textual/tokenizer_config.json, config.json)"
)


def _read_json(path: Path, required: bool = True) -> dict[str, Any]:
    if not path.is_file():
        if required:
            raise ModelImportError(f"Missing {path}", hint=_LAYOUT_HINT)
        return {}
    return read_source_json(path)


def _token_text(value: Any) -> str | None:
    """A special token from tokenizer_config.json: a string or {"content": ...} (AddedToken)."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def _first_id(tokenizer: Tokenizer, spellings: tuple[str, ...]) -> int | None:
    for spelling in spellings:
        token_id = tokenizer.token_to_id(spelling)
        if token_id is not None:
            return token_id
    return None


@dataclass(frozen=True)
class _GraphInput:
    name: str
    dtype: str
    shape: tuple[int | str | None, ...]


def _graph_inputs(path: Path) -> list[_GraphInput]:
    if has_external_data(path):
        raise ModelImportError(
            f"{path} keeps its weights in external data files, which this importer does not "
            "support yet",
            hint="use an export with the weights inside model.onnx",
        )
    session = create_session(path, threads=1)
    return [_GraphInput(spec.name, spec.type, tuple(spec.shape)) for spec in session.get_inputs()]


def _static(dim: int | str | None) -> int | None:
    return dim if isinstance(dim, int) and dim > 0 else None


def _image_input(path: Path, spec: ImageSpec) -> ImageInputSpec:
    inputs = _graph_inputs(path)
    if len(inputs) != 1:
        raise ModelImportError(f"{path} has {len(inputs)} inputs; a CLIP image tower has one")
    (graph_input,) = inputs
    if graph_input.dtype != "tensor(float)":
        raise ModelImportError(
            f"{path} takes {graph_input.dtype} pixels; only float32 (normalised) input is "
            "supported",
            hint="use the plain ONNX export, not an accelerator-specific one",
        )
    shape = graph_input.shape
    if len(shape) != 4 or _static(shape[1]) not in (None, 3):
        raise ModelImportError(f"{path} input {graph_input.name} has shape {shape}, not NCHW")
    for dim in shape[2:]:
        if _static(dim) not in (None, spec.size):
            raise ModelImportError(
                f"{path} expects {shape[2]}x{shape[3]} images but preprocess_cfg.json says "
                f"{spec.size}"
            )
    return ImageInputSpec(name=graph_input.name, batch=_static(shape[0]))


def text_input_spec(
    textual_onnx: Path,
    tokenizer_json: Path,
    tokenizer_config: dict[str, Any],
    model_config: dict[str, Any],
) -> TextInputSpec:
    """Tokenisation and input feeding for a textual graph, from the files Immich ships.

    - CLIP BPE (OpenAI / LAION, recognised by its start/end tokens): open_clip's rules, i.e.
      start + ids + end, truncated keeping the end token, lower-cased; padded with the config's
      pad token (``<|endoftext|>`` in Hugging Face exports: the argmax pooling picks the first).
    - Anything else (SigLIP/SigLIP2 sentencepiece, XLM-RoBERTa, BERT): the tokenizer.json's own
      post-processor adds the special tokens, cleaning is open_clip's ``tokenizer_kwargs.clean``
      (SigLIP: "canonicalize" = no punctuation, lower case) or whitespace-only, padding uses the
      pad token's id.
    - Context length: the graph's static sequence length, else open_clip's (config.json's
      ``text_cfg.context_length``, default 77), else, without an open_clip config, the tokenizer
      config's ``model_max_length``. Left-side padding or truncation is refused.
    - Padding is to the full context length unless the graph takes an attention mask and a
      dynamic sequence length. Ids (and the mask) are cast to the graph's declared int type.
    """
    inputs = _graph_inputs(textual_onnx)
    by_name = {i.name: i for i in inputs}
    mask = next((i for i in inputs if "mask" in i.name.lower()), None)
    ids = next((by_name[n] for n in _ID_NAMES if n in by_name), None)
    if ids is None:
        ids = next((i for i in inputs if i is not mask), None)
    if ids is None or ids.dtype not in _ONNX_INT_TYPES:
        raise ModelImportError(
            f"{textual_onnx} has no integer token-id input (inputs: "
            f"{', '.join(f'{i.name} {i.dtype}' for i in inputs)})"
        )
    others = [i.name for i in inputs if i is not ids and i is not mask]
    if others:
        raise ModelImportError(f"{textual_onnx} has inputs this app cannot feed: {others}")
    if mask is not None and mask.dtype not in _ONNX_INT_TYPES:
        raise ModelImportError(f"{textual_onnx}: attention mask of type {mask.dtype}")

    text_cfg = model_config.get("text_cfg") if isinstance(model_config, dict) else None
    # An open_clip model config (Immich's config.json) settles what open_clip.get_tokenizer
    # settles: the context length defaults to open_clip's 77, not to what the Hugging Face
    # tokenizer allows (xlm-roberta-base-ViT-B-32 names none; its tokenizer says 512).
    open_clip_config = isinstance(text_cfg, dict)
    if not open_clip_config:
        text_cfg = {}
    seq_len = _static(ids.shape[1]) if len(ids.shape) == 2 else None
    context_length = seq_len or text_cfg.get("context_length")
    if context_length is None and not open_clip_config:
        max_length = tokenizer_config.get("model_max_length")
        if isinstance(max_length, int) and 0 < max_length <= _MAX_SANE_CONTEXT:
            context_length = max_length
    context_length = int(context_length or DEFAULT_CONTEXT_LENGTH)

    tokenizer = Tokenizer.from_file(str(tokenizer_json))
    pad_token = _token_text(tokenizer_config.get("pad_token"))
    pad_id = tokenizer.token_to_id(pad_token) if pad_token else None
    if pad_token and pad_id is None:
        raise ModelImportError(f"pad token {pad_token!r} is not in {tokenizer_json}")
    padding_cfg = tokenizer.padding or {}
    if pad_id is None:
        pad_id = int(padding_cfg.get("pad_id", 0))
    kwargs = text_cfg.get("tokenizer_kwargs") or {}
    clean = kwargs.get("clean") if isinstance(kwargs, dict) else None

    start, end = _first_id(tokenizer, _CLIP_START), _first_id(tokenizer, _CLIP_END)
    if start is not None and end is not None:
        special, clean = "explicit", clean or "lower"
    else:
        special = "template" if tokenizer.post_processor is not None else "explicit"
        start = end = None
        clean = clean or ("lower" if tokenizer_config.get("do_lower_case") else "whitespace")
        # Hugging Face pads and truncates on the side the tokenizer config names; rows are
        # built right-aligned here, so a left-side tokenizer would get other ids than open_clip's.
        for side in ("padding_side", "truncation_side"):
            if tokenizer_config.get(side) == "left":
                raise ModelImportError(
                    f"The tokenizer config asks for {side}='left'; only right-side padding and "
                    "truncation are supported"
                )
    padding = "longest" if mask is not None and seq_len is None else "max_length"
    try:
        spec = TokenizerSpec(
            context_length=context_length,
            pad_id=int(pad_id),
            clean=str(clean),
            special_tokens=special,
            start_id=start,
            end_id=end,
            padding=padding,
        )
    except ValueError as exc:
        raise ModelImportError(
            f"Unsupported tokenizer settings in {tokenizer_json}: {exc}"
        ) from exc
    return TextInputSpec(
        tokenizer=spec,
        ids_name=ids.name,
        ids_dtype=_ONNX_INT_TYPES[ids.dtype],
        mask_name=mask.name if mask is not None else None,
        mask_dtype=_ONNX_INT_TYPES[mask.dtype] if mask is not None else "int64",
        batch=_static(ids.shape[0]) if ids.shape else None,
    )


def _gate(
    fp32_path: Path,
    out_path: Path,
    feeds: dict[str, np.ndarray],
    name: str,
    quantize: bool,
) -> dict[str, Any]:
    if not quantize:
        shutil.copyfile(fp32_path, out_path)
        return {"precision": "fp32", "reason": "quantisation not requested"}
    extra = {k: v for k, v in feeds.items() if k != name}
    report = quantize_tower(
        fp32_path, out_path.with_suffix(".int8.onnx"), feeds[name], name,
        min_mean_cosine=MIN_MEAN_COSINE, extra_inputs=extra,
    )  # fmt: skip
    if report.precision == "int8":
        os.replace(report.path, out_path)
    else:
        shutil.copyfile(report.path, out_path)
    return report.to_dict()


def import_clip_onnx(source_dir: Path, out_dir: Path, name: str, *, quantize: bool = True) -> Path:
    """Build the runtime model folder ``out_dir`` from the Immich-style export ``source_dir``.

    Checks the layout and graph inputs, derives the tokenizer and input specs, runs both towers
    through the int8 fidelity gate, writes ``model.json`` (sha256 of every file) and installs the
    folder atomically with user-only permissions. Returns ``out_dir``.
    """
    source_dir, out_dir = Path(source_dir), Path(out_dir)
    if not source_dir.is_dir():
        raise ModelImportError(f"Not a folder: {source_dir}", hint=_LAYOUT_HINT)
    missing = [str(p) for p in REQUIRED if not (source_dir / p).is_file()]
    if missing:
        raise ModelImportError(f"{source_dir} is missing {', '.join(missing)}", hint=_LAYOUT_HINT)
    visual_src, textual_src = source_dir / VISUAL_ONNX, source_dir / TEXTUAL_ONNX
    preprocess_cfg = _read_json(source_dir / PREPROCESS_CFG)
    tokenizer_config = _read_json(source_dir / TOKENIZER_CONFIG, required=False)
    model_config = _read_json(source_dir / MODEL_CONFIG, required=False)
    try:
        spec = ImageSpec.from_dict(preprocess_cfg)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelImportError(
            f"Unsupported image preprocessing in {source_dir / PREPROCESS_CFG}: {exc}"
        ) from exc
    try:
        Tokenizer.from_file(str(source_dir / TOKENIZER_JSON))
    except Exception as exc:  # tokenizers raises a bare Exception for bad files
        raise ModelImportError(f"Cannot read {source_dir / TOKENIZER_JSON}: {exc}") from exc
    image_input = _image_input(visual_src, spec)
    text_input = text_input_spec(
        textual_src, source_dir / TOKENIZER_JSON, tokenizer_config, model_config
    )

    # Calibration data: generated images through our own preprocessing, built-in captions
    # through the tokenizer as the runtime will use it.
    pixels = preprocess_batch(calibration_images(), spec)
    tokens = TextTokenizer(source_dir / TOKENIZER_JSON, text_input.tokenizer).encode_batch(
        list(CALIBRATION_TEXTS)
    )
    image_feeds = {image_input.name: pixels}
    text_feeds = {text_input.ids_name: tokens.input_ids}
    if text_input.mask_name is not None:
        text_feeds[text_input.mask_name] = tokens.attention_mask

    image_dim = run_tower(create_session(visual_src), {k: v[:1] for k, v in image_feeds.items()})
    text_dim = run_tower(create_session(textual_src), {k: v[:1] for k, v in text_feeds.items()})
    if image_dim.shape[1] != text_dim.shape[1]:
        raise ModelImportError(
            f"The towers disagree: image embeddings have {image_dim.shape[1]} dimensions, "
            f"text embeddings {text_dim.shape[1]}"
        )
    embed_dim = int(image_dim.shape[1])

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        os.chmod(tmp_dir, 0o700)
        shutil.copyfile(source_dir / TOKENIZER_JSON, tmp_dir / TOKENIZER_FILE)
        fidelity = {
            "image": _gate(visual_src, tmp_dir / VISUAL_FILE, image_feeds, image_input.name,
                           quantize),
            "text": _gate(textual_src, tmp_dir / TEXTUAL_FILE, text_feeds, text_input.ids_name,
                          quantize),
        }  # fmt: skip
        precisions = {fidelity["image"]["precision"], fidelity["text"]["precision"]}
        precision = precisions.pop() if len(precisions) == 1 else "mixed"
        files = {f: sha256_file(tmp_dir / f) for f in (VISUAL_FILE, TEXTUAL_FILE, TOKENIZER_FILE)}
        source_files = [*REQUIRED, TOKENIZER_CONFIG, MODEL_CONFIG]
        info = {
            "format": MODEL_JSON_FORMAT,
            "id": name,
            "kind": "clip",
            "arch": str(model_config.get("model_name") or source_dir.name),
            "embed_dim": embed_dim,
            "image": spec.to_dict(),
            "context_length": text_input.tokenizer.context_length,
            "precision": precision,
            "files": files,
            "fidelity": fidelity,
            "source": {
                "type": "onnx",
                "layout": "immich",
                "folder": source_dir.name,
                "files": {
                    p.as_posix(): sha256_file(source_dir / p)
                    for p in source_files
                    if (source_dir / p).is_file()
                },
            },
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "text_input": text_input.to_dict(),
            "image_input": image_input.to_dict(),
        }
        write_model_json(tmp_dir, info)
        for path in tmp_dir.iterdir():
            os.chmod(path, 0o600)
        install_folder(tmp_dir, out_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    log.info("imported %s -> %s (%s)", source_dir, out_dir, precision)
    return out_dir
