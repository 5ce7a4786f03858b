"""A tiny BERT sentence model built with numpy alone: the files of a sentence-transformers
folder (config.json, model.safetensors, a small WordPiece tokenizer.json, modules.json,
sentence_bert_config.json, 1_Pooling/config.json) with random weights.

What the hub's ``onnx/model.onnx`` of such a model is, is made from it by the code under test
(``bert_graph``); tests/test_bert_graph.py checks that code against transformers separately.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

HIDDEN = 32
LAYERS = 2
HEADS = 4
INTERMEDIATE = 64
MAX_POSITIONS = 64
MAX_LENGTH = 48
WORDS = tuple(
    " ".join((
        "the a an of to and in is it for on with as at by from this that be are was were cat dog",
        "photo note tax return list shopping milk apple bread meeting train flight invoice report",
        "hello world search file folder music song book letter bank money time day week year",
    )).split()
)  # fmt: skip


def bert_config(**overrides: object) -> dict:
    return {
        "architectures": ["BertModel"], "model_type": "bert", "hidden_size": HIDDEN,
        "num_hidden_layers": LAYERS, "num_attention_heads": HEADS,
        "intermediate_size": INTERMEDIATE, "max_position_embeddings": MAX_POSITIONS,
        "type_vocab_size": 2, "vocab_size": len(vocabulary()), "hidden_act": "gelu",
        "layer_norm_eps": 1e-12, "position_embedding_type": "absolute", "pad_token_id": 0,
        **overrides,
    }  # fmt: skip


def vocabulary() -> dict[str, int]:
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("0123456789.,!?'-:;")
    tokens += letters + [f"##{c}" for c in letters]
    return {token: i for i, token in enumerate(dict.fromkeys(tokens))}


def tokenizer_json() -> str:
    """A BERT-style (uncased WordPiece, [CLS] text [SEP]) tokenizer over :func:`vocabulary`."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    vocab = vocabulary()
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )  # fmt: skip
    return tokenizer.to_str()


def random_weights(config: dict, seed: int = 0, prefix: str = "") -> dict[str, np.ndarray]:
    """BertModel's tensors (BERT's own initialisation: normal 0.02, LayerNorm 1 and 0)."""
    rng = np.random.default_rng(seed)
    h, inner = config["hidden_size"], config["intermediate_size"]

    def normal(*shape: int) -> np.ndarray:
        return (rng.normal(size=shape) * 0.02).astype(np.float32)

    tensors = {
        "embeddings.word_embeddings.weight": normal(config["vocab_size"], h),
        "embeddings.position_embeddings.weight": normal(config["max_position_embeddings"], h),
        "embeddings.token_type_embeddings.weight": normal(config["type_vocab_size"], h),
        "embeddings.LayerNorm.weight": np.ones(h, np.float32),
        "embeddings.LayerNorm.bias": np.zeros(h, np.float32),
    }
    for i in range(config["num_hidden_layers"]):
        layer = f"encoder.layer.{i}"
        for name, shape in {
            "attention.self.query": (h, h), "attention.self.key": (h, h),
            "attention.self.value": (h, h), "attention.output.dense": (h, h),
            "intermediate.dense": (inner, h), "output.dense": (h, inner),
        }.items():  # fmt: skip
            tensors[f"{layer}.{name}.weight"] = normal(*shape)
            tensors[f"{layer}.{name}.bias"] = normal(shape[0])
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            tensors[f"{layer}.{norm}.weight"] = (1 + normal(h)).astype(np.float32)
            tensors[f"{layer}.{norm}.bias"] = normal(h)
    return {prefix + name: array for name, array in tensors.items()}


_DTYPE_NAMES = {np.dtype("<f4"): "F32", np.dtype("<f2"): "F16", np.dtype("<i8"): "I64"}


def write_safetensors(path: Path, tensors: dict[str, np.ndarray], *, pad_to: int = 8) -> None:
    """The safetensors layout: u64 header length, JSON header, then the arrays' bytes."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array).tobytes()
        header[name] = {"dtype": _DTYPE_NAMES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}  # fmt: skip
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % pad_to)
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))


def write_tiny_sentence_model(folder: Path, seed: int = 0) -> Path:
    """A sentence-transformers folder (Transformer -> mean Pooling -> Normalize)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = bert_config()
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    write_safetensors(folder / "model.safetensors", random_weights(config, seed))
    (folder / "tokenizer.json").write_text(tokenizer_json())
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    (folder / "modules.json").write_text(json.dumps([
        {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
        for i, (path, kind) in enumerate(modules)
    ]))  # fmt: skip
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": MAX_LENGTH}))
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": HIDDEN, "pooling_mode_mean_tokens": True,
         "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False}
    ))  # fmt: skip
    return folder
