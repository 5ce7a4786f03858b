"""The model registry: one slot per kind, opened lazily, shared, says why a model cannot be used."""

from __future__ import annotations

import shutil

import pytest

from desktop_search.app.model_registry import RELOOK_SECONDS, ModelRegistry
from desktop_search.config import Settings
from desktop_search.errors import ModelError
from desktop_search.models.install.fetch import install_as_is
from desktop_search.models.install.manifest import get as manifest
from desktop_search.models.install.store import ModelStore
from desktop_search.models.runtime.clip import ClipModel


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path, tiny_clip_dir) -> ModelStore:
    models = ModelStore(tmp_path / "models")
    models.models_dir.mkdir()
    shutil.copytree(tiny_clip_dir, models.models_dir / "tiny-clip")
    return models


def test_clip_follows_the_setting_opens_once_and_is_shared(store):
    settings = Settings(active_model=None)
    registry = ModelRegistry(store, settings)
    assert registry.get("clip") is None  # none chosen: photos are catalogued only
    settings.active_model = "tiny-clip"
    clip = registry.get("clip")
    assert isinstance(clip, ClipModel) and registry.get("clip") is clip
    assert clip.encode_texts(["a dog"]).shape[0] == 1
    assert registry.take("clip") is clip and registry.get("clip") is not clip
    settings.active_model = "gone"
    with pytest.raises(ModelError, match="not installed"):  # the person chose it: say so
        registry.get("clip")


def test_a_broken_detector_says_why_and_is_not_tried_again(store, tmp_path):
    bad = tmp_path / "yolox_nano.onnx"
    bad.write_bytes(b"not an onnx graph")
    install_as_is(store, manifest("yolox-nano"), [bad], origin="test")
    registry = ModelRegistry(store, Settings())
    assert registry.name("detector") == "yolox-nano"
    assert registry.get("detector") is None  # the real opener: onnxruntime refuses the file
    assert "yolox" in (registry.problem("detector") or "")


def test_a_model_that_cannot_be_opened_is_tried_once_until_reset(store, tmp_path):
    (tmp_path / "x.onnx").write_bytes(b"x")
    install_as_is(store, manifest("yolox-nano"), [tmp_path / "x.onnx"], origin="test")
    tries: list[str] = []

    def opener(name: str) -> object:
        tries.append(name)
        raise ModelError(f"{name} is damaged")

    registry = ModelRegistry(store, Settings(), openers={"detector": opener})
    assert registry.get("detector") is None and registry.get("detector") is None
    assert tries == ["yolox-nano"]  # not on every search and status poll
    assert registry.problem("detector") == "yolox-nano is damaged"
    registry.reset("detector")  # installed again here: tried anew
    assert registry.get("detector") is None and tries == ["yolox-nano", "yolox-nano"]


def test_a_model_installed_meanwhile_is_found_after_the_relook_interval(store, minilm_dir):
    clock = Clock()
    registry = ModelRegistry(store, Settings(), clock=clock)
    assert registry.name("text") is None
    shutil.copytree(minilm_dir, store.models_dir / "minilm")  # another process installs one
    clock.now += RELOOK_SECONDS / 2
    assert registry.name("text") is None  # not looked at on every search
    clock.now += RELOOK_SECONDS
    assert registry.name("text") == "minilm"  # the folder of the first installed text model
    text = registry.get("text")
    assert text is not None and text.encode(["hello"]).shape == (1, 384)
    registry.release()
    assert registry.get("text") is not text  # released: opened anew when asked again
