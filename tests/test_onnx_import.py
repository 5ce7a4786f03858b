"""Importing ready ONNX exports (Immich's layout) without torch, and the general text tokenizer."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys

import numpy as np
import onnx
import open_clip
import pytest
import torch
from onnx import TensorProto, helper
from PIL import Image
from skimage import data
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

from desktop_search.errors import ModelError, ModelImportError
from desktop_search.models.install.files import sha256_file
from desktop_search.models.install.onnx_import import text_input_spec
from desktop_search.models.install.store import ModelStore
from desktop_search.models.runtime.clip import ClipModel
from desktop_search.models.runtime.preprocess import preprocess_batch
from desktop_search.models.runtime.tokenizer import ClipTokenizer, TextTokenizer, TokenizerSpec
from tests.immich_export import load_tiny_clip, write_immich_export

TEXTS = [
    "a photo of a dog",
    "A Photo Of A DOG!!!",
    "Café crème, naïve résumé",
    "東京タワーの夜景",
    "birthday cake 🎂🎉",
    "what's up? it's 3:45pm -- $12.99",
    " ".join(["word"] * 100),  # truncated
    "",
]
PHOTOS = [
    Image.fromarray(data.astronaut()),
    Image.fromarray(data.coffee()),
    Image.fromarray(data.chelsea()),
    Image.fromarray(data.camera()),
    Image.fromarray(data.rocket()),
]
MIN_COSINE = 0.99


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.sum(a * b, axis=1)


@pytest.fixture(scope="module")
def immich_export(tmp_path_factory, tiny_clip_checkpoint):
    return write_immich_export(tiny_clip_checkpoint, tmp_path_factory.mktemp("immich") / "tiny")


@pytest.fixture(scope="module")
def torch_model(tiny_clip_checkpoint):
    return load_tiny_clip(tiny_clip_checkpoint)


@pytest.fixture(scope="module")
def imported(tmp_path_factory, immich_export):
    """The export imported in a fresh interpreter that must never load torch."""
    models = tmp_path_factory.mktemp("imported_models")
    code = f"""
import sys
from desktop_search.models.install.store import ModelStore
info = ModelStore({str(models)!r}).import_clip_onnx({str(immich_export)!r}, "tiny-onnx")
heavy = sorted({{"torch", "open_clip", "transformers", "torchvision"}} & set(sys.modules))
print("HEAVY", heavy)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout, result.stdout
    return models / "tiny-onnx"


def test_imported_folder_and_model_json(imported, immich_export):
    assert sorted(p.name for p in imported.iterdir()) == [
        "model.json", "textual.onnx", "tokenizer.json", "visual.onnx",
    ]  # fmt: skip
    assert stat.S_IMODE(imported.stat().st_mode) == 0o700
    assert [p.name for p in imported.parent.iterdir()] == ["tiny-onnx"]  # no temp folders left
    info = json.loads((imported / "model.json").read_text())
    assert info["kind"] == "clip" and info["id"] == "tiny-onnx" and info["embed_dim"] == 64
    assert info["precision"] == "int8" and info["context_length"] == 77
    assert info["image"]["size"] == 224
    for fname, digest in info["files"].items():
        assert sha256_file(imported / fname) == digest
    assert info["source"]["type"] == "onnx" and info["source"]["layout"] == "immich"
    assert info["source"]["files"]["visual/model.onnx"] == sha256_file(
        immich_export / "visual" / "model.onnx"
    )
    # Immich traces with batch 1 and int32 ids; the CLIP tokenizer pads with its pad token.
    assert info["image_input"] == {"name": "image", "batch": 1}
    text = info["text_input"]
    assert text["ids_name"] == "text" and text["ids_dtype"] == "int32"
    assert text["mask_name"] is None and text["batch"] == 1
    assert text["tokenizer"] == {
        "context_length": 77, "pad_id": 49407, "clean": "lower", "special_tokens": "explicit",
        "start_id": 49406, "end_id": 49407, "padding": "max_length",
    }  # fmt: skip
    for tower in ("image", "text"):
        fidelity = info["fidelity"][tower]
        print(tower, {k: v for k, v in fidelity.items() if k != "candidates"})
        assert fidelity["precision"] == "int8" and fidelity["int8_mean_cosine"] >= 0.99
        assert 0.8 <= fidelity["int8_top10_agreement"] <= 1.0
        assert fidelity["samples"] >= 32 and "int8" in fidelity["reason"]


def test_imported_embeddings_match_torch_fp32(imported, torch_model):
    clip = ClipModel(imported)
    spec = clip.image_spec
    transform = open_clip.image_transform(
        spec.size, is_train=False, mean=spec.mean, std=spec.std,
        interpolation=spec.interpolation, resize_mode=spec.resize_mode,
    )  # fmt: skip
    with torch.no_grad():
        image_ref = torch_model.encode_image(torch.stack([transform(p) for p in PHOTOS])).numpy()
        text_ref = torch_model.encode_text(open_clip.tokenize(TEXTS)).numpy()
    images = clip.encode_images(preprocess_batch(PHOTOS, spec))  # batch 5 through a batch-1 graph
    texts = clip.encode_texts(TEXTS)
    print("image cos", _cos(images, image_ref).min(), "text cos", _cos(texts, text_ref).min())
    assert _cos(images, image_ref).min() >= MIN_COSINE
    assert _cos(texts, text_ref).min() >= MIN_COSINE
    # The general tokenizer on CLIP BPE gives open_clip's ids (up to the pad id after the end).
    ids = clip.tokenizer.encode(TEXTS)
    reference = open_clip.tokenize(TEXTS).numpy()
    np.testing.assert_array_equal(np.where(reference == 0, 49407, reference), ids)


def test_store_import_verify_and_errors(tmp_path, immich_export, imported):
    store = ModelStore(tmp_path / "models")
    info = store.import_clip_onnx(immich_export, "again", quantize=False)
    assert info.precision == "fp32" and store.verify("again") == info
    assert info.text_input is not None and info.text_input.ids_dtype == "int32"
    # fp32 is the export itself: identical embeddings to the source graph's.
    ours = ClipModel(store.path("again")).encode_texts(["a dog"])
    int8 = ClipModel(imported).encode_texts(["a dog"])
    assert _cos(ours, int8)[0] >= MIN_COSINE
    with pytest.raises(ModelError, match="already installed"):
        store.import_clip_onnx(immich_export, "again")
    # Default name: the export folder's name.
    assert store.import_clip_onnx(immich_export, quantize=False).id == "tiny"

    broken = tmp_path / "broken"
    shutil.copytree(immich_export, broken)
    (broken / "textual" / "tokenizer.json").unlink()
    with pytest.raises(ModelImportError, match="textual/tokenizer.json") as err:
        store.import_clip_onnx(broken, "broken")
    assert "Immich-style" in str(err.value)
    assert not store.has("broken")
    assert sorted(p.name for p in store.models_dir.iterdir()) == ["again", "tiny"]


def test_old_model_json_without_input_specs_still_loads(tiny_clip_dir):
    info = json.loads((tiny_clip_dir / "model.json").read_text())
    assert "text_input" not in info and "image_input" not in info
    clip = ClipModel(tiny_clip_dir)
    assert isinstance(clip.tokenizer, ClipTokenizer)
    assert clip.encode_texts(["a dog", "a cat"]).shape == (2, 64)


# ---------------------------------------------------------------- other tokenizer styles


def _word_tokenizer(words: list[str], specials: list[str], template: str) -> Tokenizer:
    vocab = {token: i for i, token in enumerate([*specials, *words])}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.add_special_tokens(specials)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=template, special_tokens=[(t, vocab[t]) for t in specials if t in template]
    )
    return tokenizer


def _ids_graph(path, names: list[str], dtype: int, length: int | None, batch: int | None):
    """A graph whose "embedding" is its (first) input cast to float: shows exactly what it got."""
    shape = [batch if batch else "batch", length if length else "sequence"]
    inputs = [helper.make_tensor_value_info(n, dtype, shape) for n in names]
    nodes = [helper.make_node("Cast", [names[0]], ["ids_f"], to=TensorProto.FLOAT)]
    if len(names) > 1:  # embedding = ids * mask (so the mask's effect is visible too)
        nodes += [
            helper.make_node("Cast", [names[1]], ["mask_f"], to=TensorProto.FLOAT),
            helper.make_node("Mul", ["ids_f", "mask_f"], ["embedding"]),
        ]
    else:
        nodes[0].output[0] = "embedding"
    out = helper.make_tensor_value_info("embedding", TensorProto.FLOAT, shape)
    graph = helper.make_graph(nodes, "ids", inputs, [out])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


WORDS = ["hello", "world", "a", "photo", "of", "dog", "cat", "s", "word"]


def test_siglip_style_tokenizer_fixed_padding_pad_id_no_start_token(tmp_path):
    """SigLIP: sentencepiece-like vocab, only "</s>" appended, canonicalised text (lower case,
    no punctuation), padded to the fixed context length with the pad token's id."""
    tokenizer = _word_tokenizer(WORDS, ["<pad>", "</s>", "<unk>"], "$A </s>")
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    _ids_graph(tmp_path / "textual.onnx", ["text"], TensorProto.INT64, length=16, batch=1)
    spec = text_input_spec(
        tmp_path / "textual.onnx",
        tmp_path / "tokenizer.json",
        {"pad_token": "</s>", "model_max_length": 64},
        {"text_cfg": {"context_length": 64, "tokenizer_kwargs": {"clean": "canonicalize"}}},
    )
    # The graph's static sequence length wins over the configs.
    assert spec.tokenizer == TokenizerSpec(
        context_length=16, pad_id=1, clean="canonicalize", special_tokens="template",
        padding="max_length",
    )  # fmt: skip
    assert spec.ids_dtype == "int64" and spec.mask_name is None and spec.batch == 1

    ours = TextTokenizer(tmp_path / "tokenizer.json", spec.tokenizer)
    texts = ["Hello, World!", "A photo of a DOG's...", " ".join(["word"] * 40), ""]
    batch = ours.encode_batch(texts)
    vocab = tokenizer.get_vocab()
    hello = [vocab["hello"], vocab["world"], vocab["</s>"]] + [1] * 13
    assert batch.input_ids[0].tolist() == hello
    assert batch.input_ids[2, -1] == vocab["</s>"]  # truncated, still ends with </s>
    assert batch.input_ids[3].tolist() == [vocab["</s>"]] + [1] * 15
    assert batch.attention_mask[0].tolist() == [1] * 3 + [0] * 13

    # Reference: open_clip's HFTokenizer (clean, then HF padding="max_length", truncation).
    hf = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="</s>")
    expected = hf(
        [open_clip.tokenizer._clean_canonicalize(t) for t in texts],
        max_length=16, padding="max_length", truncation=True,
    )["input_ids"]  # fmt: skip
    np.testing.assert_array_equal(batch.input_ids, np.array(expected))


def test_xlm_roberta_style_tower_gets_attention_mask(tmp_path):
    """XLM-RoBERTa / M-CLIP: "<s> $A </s>", pad id 1, int32 input_ids + attention_mask, dynamic
    sequence length (padded to the batch's longest text)."""
    tokenizer = _word_tokenizer(WORDS, ["<s>", "<pad>", "</s>", "<unk>"], "<s> $A </s>")
    folder = tmp_path / "model"
    folder.mkdir()
    tokenizer.save(str(folder / "tokenizer.json"))
    graph = folder / "textual.onnx"
    _ids_graph(graph, ["input_ids", "attention_mask"], TensorProto.INT32, length=None, batch=None)
    spec = text_input_spec(
        graph, folder / "tokenizer.json", {"pad_token": "<pad>", "model_max_length": 512}, {}
    )
    assert spec.ids_name == "input_ids" and spec.mask_name == "attention_mask"
    assert spec.ids_dtype == spec.mask_dtype == "int32" and spec.batch is None
    assert spec.tokenizer.padding == "longest" and spec.tokenizer.pad_id == 1
    assert spec.tokenizer.context_length == 512 and spec.tokenizer.clean == "whitespace"

    # Through ClipModel: a model.json that uses this graph as the text tower.
    (folder / "visual.onnx").write_bytes(b"unused")
    model_json = {
        "id": "xlmr", "arch": "test", "embed_dim": 4, "image": {"size": 224},
        "context_length": 512, "precision": "fp32", "files": {},
        "text_input": spec.to_dict(),
    }  # fmt: skip
    (folder / "model.json").write_text(json.dumps(model_json))
    clip = ClipModel(folder)
    out = clip.textual.session.run(None, {
        "input_ids": np.array([[0, 5, 2]], np.int32), "attention_mask": np.ones((1, 3), np.int32),
    })[0]  # fmt: skip
    assert out.tolist() == [[0, 5, 2]]
    vocab = tokenizer.get_vocab()
    batch = clip.tokenizer.encode_batch(["hello world", "dog"])
    assert batch.input_ids.tolist() == [
        [0, vocab["hello"], vocab["world"], 2],
        [0, vocab["dog"], 2, 1],
    ]
    assert batch.attention_mask.tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    # ClipModel feeds both inputs as int32; the graph returns ids * mask, so the second row's
    # pad position (id 1) arrives masked to 0.
    expected = np.array(batch.input_ids * batch.attention_mask, dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(clip.encode_texts(["hello world", "dog"]), expected, rtol=1e-6)


def test_tokenizer_spec_round_trip_and_validation():
    spec = TokenizerSpec(64, pad_id=1, clean="canonicalize", special_tokens="template")
    assert TokenizerSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(ValueError):
        TokenizerSpec(64, clean="shout")
    with pytest.raises(ValueError):
        TokenizerSpec(64, padding="left")
