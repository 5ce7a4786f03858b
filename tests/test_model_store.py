"""ModelStore: import (real conversion), list, verify, remove, and the errors a user sees."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from desktop_search.errors import ConvertExtraMissingError, ModelError, ModelImportError
from desktop_search.models.install.store import ModelStore, slugify
from desktop_search.models.runtime.clip import ClipModel


@pytest.fixture
def store(tmp_path, tiny_clip_dir) -> ModelStore:
    """A store holding a copy of the session's converted tiny model (safe to damage)."""
    models = tmp_path / "models"
    models.mkdir(mode=0o700)
    shutil.copytree(tiny_clip_dir, models / "tiny-clip")
    return ModelStore(models)


def test_imported_model_folder(tiny_clip_dir, tiny_clip_checkpoint):
    info = json.loads((tiny_clip_dir / "model.json").read_text())
    assert sorted(p.name for p in tiny_clip_dir.iterdir()) == [
        "model.json",
        "textual.onnx",
        "tokenizer.json",
        "visual.onnx",
    ]
    assert info["id"] == "tiny-clip" and info["kind"] == "clip"
    assert info["arch"] == "tiny-clip" and info["embed_dim"] == 64
    assert info["context_length"] == 77 and info["precision"] == "int8"
    assert info["image"]["size"] == 224 and info["image"]["resize_mode"] == "shortest"
    assert set(info["files"]) == {"visual.onnx", "textual.onnx", "tokenizer.json"}
    assert info["source"]["checkpoint"] == tiny_clip_checkpoint.checkpoint.name
    for tower in ("image", "text"):
        assert info["fidelity"][tower]["int8_min_cosine"] >= 0.99
        assert info["fidelity"][tower]["precision"] == "int8"
    assert info["fidelity"]["preprocess_max_abs_diff"] < 1e-6
    assert stat.S_IMODE(tiny_clip_dir.stat().st_mode) == 0o700
    # The temporary conversion folder was renamed into place, nothing left behind.
    assert [p.name for p in tiny_clip_dir.parent.iterdir()] == ["tiny-clip"]


def test_list_has_path_verify(store):
    assert [info.id for info in store.list()] == ["tiny-clip"]
    assert store.has("tiny-clip") and not store.has("other") and not store.has("../x")
    assert store.path("tiny-clip") == store.models_dir / "tiny-clip"
    assert store.verify("tiny-clip").id == "tiny-clip"


def test_list_skips_temp_folders_and_empty_store(tmp_path, store):
    (store.models_dir / ".tiny-clip.tmp-123").mkdir()
    (store.models_dir / "junk").mkdir()
    assert [info.id for info in store.list()] == ["tiny-clip"]
    assert ModelStore(tmp_path / "nowhere").list() == []


def test_verify_detects_tampered_file(store):
    textual = store.path("tiny-clip") / "textual.onnx"
    data = bytearray(textual.read_bytes())
    data[len(data) // 2] ^= 0xFF
    textual.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="textual.onnx does not match its sha256") as err:
        store.verify("tiny-clip")
    assert "import it again" in str(err.value)


def test_verify_reports_missing_file(store):
    (store.path("tiny-clip") / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match="tokenizer.json is missing"):
        store.verify("tiny-clip")


def test_remove(store):
    store.remove("tiny-clip")
    assert not store.has("tiny-clip")
    assert list(store.models_dir.iterdir()) == []
    with pytest.raises(ModelError, match="not installed"):
        store.remove("tiny-clip")


def test_absent_model_error_says_how_to_fix(store):
    with pytest.raises(ModelError) as err:
        store.path("vit-b-32")
    message = str(err.value)
    assert "'vit-b-32' is not installed" in message and "tiny-clip" in message
    assert "models import" in message


def test_invalid_name_rejected(store):
    with pytest.raises(ModelError, match="Invalid model name"):
        store.path("../etc")


def test_clip_model_missing_file_error(store):
    folder = store.path("tiny-clip")
    (folder / "visual.onnx").unlink()
    with pytest.raises(ModelError, match="missing visual.onnx") as err:
        ClipModel(folder)
    assert "re-import the model" in str(err.value)


def test_clip_model_corrupt_file_error(store):
    folder = store.path("tiny-clip")
    (folder / "visual.onnx").write_bytes(b"not an onnx file")
    model = ClipModel(folder)  # lazy: nothing is read yet
    with pytest.raises(ModelError, match="cannot be loaded") as err:
        model.encode_images(np.zeros((1, 3, 224, 224), np.float32))
    assert "re-import" in str(err.value)


def test_not_a_model_folder(tmp_path):
    with pytest.raises(ModelError, match="no model.json"):
        ClipModel(tmp_path)


def test_import_pt_checkpoint_with_weights_only(tmp_path, tiny_clip_checkpoint, tiny_clip_dir):
    """A .pt checkpoint nested under "state_dict" with DataParallel "module." prefixes."""
    state = load_file(str(tiny_clip_checkpoint.checkpoint))
    checkpoint = tmp_path / "trained epoch_3.pt"
    torch.save({"epoch": 3, "state_dict": {f"module.{k}": v for k, v in state.items()}}, checkpoint)
    store = ModelStore(tmp_path / "models")
    info = store.import_open_clip(checkpoint, str(tiny_clip_checkpoint.config))
    assert info.id == "tiny-clip-trained-epoch_3"  # slug of arch + checkpoint stem
    assert store.verify(info.id) == info
    # Same weights as the safetensors import, so the same embeddings.
    ours = ClipModel(store.path(info.id)).encode_texts(["a dog", "a cat"])
    reference = ClipModel(tiny_clip_dir).encode_texts(["a dog", "a cat"])
    np.testing.assert_allclose(ours, reference, atol=1e-5)
    with pytest.raises(ModelError, match="already installed"):
        store.import_open_clip(checkpoint, str(tiny_clip_checkpoint.config))


class _NotATensor:
    pass


def test_pickled_objects_are_refused(tmp_path, tiny_clip_checkpoint):
    checkpoint = tmp_path / "evil.pt"
    torch.save({"state_dict": {"x": _NotATensor()}}, checkpoint)
    store = ModelStore(tmp_path / "models")
    with pytest.raises(ModelImportError, match="Cannot read checkpoint"):
        store.import_open_clip(checkpoint, str(tiny_clip_checkpoint.config), name="evil")
    assert not store.has("evil")
    assert list((tmp_path / "models").iterdir()) == []  # no half-written folder


def test_wrong_architecture_is_reported(tmp_path, tiny_clip_checkpoint):
    store = ModelStore(tmp_path / "models")
    with pytest.raises(ModelImportError, match="does not fit architecture"):
        store.import_open_clip(tiny_clip_checkpoint.checkpoint, "RN50", name="wrong")
    with pytest.raises(ModelImportError, match="Unknown open_clip architecture"):
        store.import_open_clip(tiny_clip_checkpoint.checkpoint, "No-Such-Arch", name="wrong")
    assert list((tmp_path / "models").iterdir()) == []


def test_missing_convert_extra_message(tmp_path):
    """Without torch the import fails with the pip command that fixes it (fresh interpreter)."""
    code = f"""
import sys
sys.modules["torch"] = None  # what an install without the convert extra looks like
from desktop_search.errors import ConvertExtraMissingError
from desktop_search.models.install.store import ModelStore
try:
    ModelStore({str(tmp_path)!r}).import_open_clip(None, "ViT-B-32")
except ConvertExtraMissingError as exc:
    print(exc)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert "pip install 'desktop-search[convert]'" in out
    assert issubclass(ConvertExtraMissingError, ModelImportError)


def test_runtime_modules_do_not_import_torch():
    code = (
        "import sys\n"
        "import desktop_search.models.runtime.clip, desktop_search.models.install.store\n"
        "bad = {'torch', 'open_clip', 'onnx'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_slugify():
    assert slugify("ViT-B-32 laion2b_s34b_b79k") == "vit-b-32-laion2b_s34b_b79k"
    assert slugify("../..") == "model"
    assert os.sep not in slugify("a/b\\c")


def test_models_dir_path_type(store):
    assert isinstance(store.path("tiny-clip"), Path)
