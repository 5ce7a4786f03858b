"""Test helpers: Immich-style ONNX exports of the tiny open_clip model, built with torch.

Mirrors immich-app/immich ``machine-learning/export/immich_model_exporter/exporters/onnx/models/
openclip.py``: towers traced with a fixed batch of 1 (no dynamic axes), input "image" float32 and
"text" int32 (1, context_length), output "embedding" (L2-normalised), ``visual/preprocess_cfg.json``
from ``open_clip.get_model_preprocess_cfg``, the open_clip model config as ``config.json`` and a
Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) in ``textual/``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import open_clip
import torch

from desktop_search.models.convert.clip import build_clip_tokenizer
from tests.conftest_models import TINY_CLIP_CONFIG, TinyClipCheckpoint, build_tiny_clip

CONTEXT_LENGTH = 77


def load_tiny_clip(checkpoint: TinyClipCheckpoint) -> torch.nn.Module:
    model = build_tiny_clip(checkpoint.config)
    open_clip.load_checkpoint(model, str(checkpoint.checkpoint))
    return model.eval()


def _export(module: torch.nn.Module, args: tuple, path: Path, names: list[str], dynamic: bool):
    path.parent.mkdir(parents=True, exist_ok=True)
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    axes = {name: {0: "batch"} for name in [*names, "embedding"]} if dynamic else None
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module, args, str(path), input_names=names, output_names=["embedding"],
                dynamic_axes=axes, opset_version=17, do_constant_folding=True, dynamo=False,
            )  # fmt: skip
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)


class _Visual(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(image, normalize=True)


class _Textual(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, text: torch.Tensor) -> torch.Tensor:
        return self.model.encode_text(text, normalize=True)


def export_visual(model: torch.nn.Module, path: Path, *, dynamic: bool = False) -> None:
    size = TINY_CLIP_CONFIG["vision_cfg"]["image_size"]
    _export(_Visual(model), (torch.randn(1, 3, size, size),), path, ["image"], dynamic)


def export_textual(model: torch.nn.Module, path: Path, *, dynamic: bool = False) -> None:
    example = torch.ones(1, CONTEXT_LENGTH, dtype=torch.int32)
    _export(_Textual(model), (example,), path, ["text"], dynamic)


def write_immich_export(
    checkpoint: TinyClipCheckpoint, folder: Path, *, dynamic: bool = False
) -> Path:
    """An Immich-style export folder of the tiny model (``dynamic``: batch axis not fixed)."""
    model = load_tiny_clip(checkpoint)
    export_visual(model, folder / "visual" / "model.onnx", dynamic=dynamic)
    export_textual(model, folder / "textual" / "model.onnx", dynamic=dynamic)
    preprocess_cfg = dict(open_clip.get_model_preprocess_cfg(model))
    preprocess_cfg["size"] = list(preprocess_cfg["size"])  # open_clip gives (h, w), JSON a list
    (folder / "visual" / "preprocess_cfg.json").write_text(json.dumps(preprocess_cfg))
    (folder / "config.json").write_text(json.dumps(TINY_CLIP_CONFIG))
    build_clip_tokenizer().save(str(folder / "textual" / "tokenizer.json"))
    # What CLIPTokenizerFast.save_pretrained writes (the parts Immich reads).
    tokenizer_config = {
        "bos_token": "<start_of_text>",
        "eos_token": "<end_of_text>",
        "pad_token": "<end_of_text>",
        "unk_token": "<end_of_text>",
        "model_max_length": CONTEXT_LENGTH,
        "do_lower_case": True,
        "tokenizer_class": "CLIPTokenizer",
    }
    (folder / "textual" / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    return folder
