"""ClipModel / OnnxModel runtime behaviour: lazy loading, release, shapes, normalisation."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image
from skimage import data

from desktop_search.errors import ModelError
from desktop_search.models.runtime.base import OnnxModel
from desktop_search.models.runtime.clip import ClipModel, ClipModelInfo
from desktop_search.models.runtime.preprocess import preprocess_batch
from desktop_search.models.runtime.session import create_session


@pytest.fixture
def clip(tiny_clip_dir) -> ClipModel:
    return ClipModel(tiny_clip_dir, threads=1)


def _pixels(model: ClipModel, n: int = 3) -> np.ndarray:
    photos = [data.astronaut(), data.coffee(), data.chelsea()][:n]
    return preprocess_batch([Image.fromarray(p) for p in photos], model.image_spec)


def test_nothing_loads_until_used(clip):
    assert not clip.visual.loaded and not clip.textual.loaded


def test_text_query_does_not_load_image_tower(clip):
    clip.encode_texts(["a cat"])
    assert clip.textual.loaded and not clip.visual.loaded


def test_image_encoding_does_not_load_text_tower(clip):
    clip.encode_images(_pixels(clip, 1))
    assert clip.visual.loaded and not clip.textual.loaded


def test_release_and_reload(clip):
    first = clip.encode_texts(["a cat"])
    clip.encode_images(_pixels(clip, 1))
    clip.release()
    assert not clip.visual.loaded and not clip.textual.loaded
    np.testing.assert_allclose(clip.encode_texts(["a cat"]), first, atol=1e-6)
    clip.load()
    assert clip.visual.loaded and clip.textual.loaded


def test_shapes_dtype_and_normalisation(clip):
    images = clip.encode_images(_pixels(clip))
    texts = clip.encode_texts(["a cat", "a dog", "", "東京"])
    for emb, n in ((images, 3), (texts, 4)):
        assert emb.shape == (n, 64) and emb.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert clip.encode_texts([]).shape == (0, 64)
    assert clip.encode_images(np.zeros((0, 3, 224, 224), np.float32)).shape == (0, 64)
    assert clip.encode_texts("single string").shape == (1, 64)


def test_batching_barely_changes_embeddings(clip):
    """Dynamic int8 picks one activation scale per tensor, i.e. per *batch*: the same photo's
    embedding depends slightly on its batch mates. Not bit-reproducible, but far below what
    changes a search result (measured: cosine > 0.9999; max component diff ~4e-3)."""
    pixels = _pixels(clip)
    together = clip.encode_images(pixels)
    alone = np.concatenate([clip.encode_images(pixels[i : i + 1]) for i in range(3)])
    assert np.sum(together * alone, axis=1).min() > 0.999


def test_wrong_image_shape_rejected(clip):
    with pytest.raises(ValueError, match=r"\(n, 3, 224, 224\)"):
        clip.encode_images(np.zeros((1, 3, 100, 100), np.float32))


def test_info_and_spec(clip):
    assert clip.info.id == "tiny-clip" and clip.embed_dim == 64
    assert clip.image_spec.size == 224
    assert ClipModelInfo.from_dict(clip.info.to_dict()) == clip.info


def test_threads_option_reaches_session(clip):
    clip.encode_texts(["x"])
    options = clip.textual.session.get_session_options()
    assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1
    assert clip.textual.session.get_providers() == ["CPUExecutionProvider"]


class _CountingModel(OnnxModel):
    loads = 0

    def _load(self):
        type(self).loads += 1
        return super()._load()


def test_concurrent_first_use_loads_once(tiny_clip_dir):
    model = _CountingModel(tiny_clip_dir / "visual.onnx", threads=1)
    barrier = threading.Barrier(6)

    def use():
        barrier.wait()
        model.load()

    threads = [threading.Thread(target=use) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _CountingModel.loads == 1 and model.loaded
    model.release()
    assert not model.loaded


def test_create_session_errors(tmp_path):
    with pytest.raises(ModelError, match="missing"):
        create_session(tmp_path / "nope.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00garbage")
    with pytest.raises(ModelError, match="cannot be loaded"):
        create_session(bad)
