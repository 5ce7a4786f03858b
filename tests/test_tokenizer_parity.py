"""Parity of the runtime text tokenizer with open_clip's for the sentencepiece text towers.

The real vocabularies (XLM-RoBERTa's 250k unigram pieces, Gemma's 256k BPE pieces) are on the
Hugging Face hub, which tests cannot reach. So tiny sentencepiece models with the same structure
are trained here on a small multilingual text and turned into Hugging Face tokenizers the way the
hub's were made. For each tower:

- the reference is what open_clip does for the model: ``open_clip.get_tokenizer`` over a local
  "hub" folder holding that tokenizer and open_clip's bundled model config (``xlm-roberta-base-
  ViT-B-32``, ``ViT-B-16-SigLIP2``), i.e. its HFTokenizer with the config's context length and
  cleaning;
- ours is :class:`TextTokenizer` with the spec :func:`text_input_spec` derives from an Immich-style
  export of the same tokenizer (re-saved with ``AutoTokenizer.save_pretrained`` as Immich's
  exporter does, config.json, a textual graph with Immich's inputs).

CLIP BPE parity is tests/test_clip_parity.py's (open_clip's own vocabulary ships with open_clip).
"""

from __future__ import annotations

import html
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import open_clip
import pytest
import sentencepiece as spm
from onnx import TensorProto, helper
from open_clip.tokenizer import basic_clean, get_clean_fn
from transformers import AutoTokenizer, GemmaTokenizerFast, XLMRobertaTokenizer

from desktop_search.errors import ModelImportError
from desktop_search.models.install.onnx_import import text_input_spec
from desktop_search.models.runtime.clip import TextInputSpec
from desktop_search.models.runtime.tokenizer import CLEAN_FUNCTIONS, TextTokenizer, TokenizerSpec

SIGLIP2 = "ViT-B-16-SigLIP2"
XLM_ROBERTA = "xlm-roberta-base-ViT-B-32"

# Training text. Some characters that TEXTS use are deliberately absent (東, 塔, 夜, 景, 🇩🇪, ...):
# Gemma has to spell them with byte-fallback pieces, XLM-RoBERTa maps them to <unk>.
CORPUS = """\
A photo of a dog playing in the park on a sunny afternoon.
The quick brown fox jumps over the lazy dog near the river bank.
Birthday party with friends, cake and candles in the kitchen at home.
Call me at 10:30 on 2024-05-17, room 42, price 3.14 or 0123456789.
Ein Foto von einem Hund, der im Park spielt. Grüße aus München!
Die schöne Straße führt über die Brücke zum Bahnhof. Äpfel, Öl und Übung.
Une photo d'un chien qui joue dans le parc. Café, crème brûlée, à bientôt.
L'été dernier, nous sommes allés à la plage près de Nîmes avec ma sœur.
一只狗在公园里玩耍的照片。我们在海边看日落。
北京的冬天很冷，但是风景很美丽。
Фотография собаки, играющей в парке. Привет из Москвы!
Летом мы ездили на море и видели красивый закат.
Party time 🎉🎂 with family 👨‍👩‍👧 and pets 🐶🐱 at the beach 🏖️.
"""

TEXTS = [
    # English, case and punctuation
    "a photo of a dog",
    "A Photo Of A DOG!!!",
    "MiXeD CaSe QuErY about PARKS",
    "the quick brown fox jumps over the lazy dog",
    "what's up? it's 3:45pm -- $12.99 (approx.) #tag @user",
    "under_score and hyphen-ated and slash/separated",
    "“curly quotes” and ‘apostrophes’ don’t matter",
    "...!!!???",  # nothing left after SigLIP's canonicalisation
    "C++ & C# <vs> Rust",
    # German, French (precomposed and decomposed accents)
    "Grüße aus München",
    "Die schöne Straße über die Brücke, Käse und Äpfel",
    "ÄPFEL, ÖL UND ÜBUNG",
    "GROẞE Straße",
    "Café crème brûlée à Nîmes",
    "L'été dernier avec ma sœur",
    "où est la gare ? — à côté",
    "Cafe\u0301 cre\u0300me",
    # Chinese, Russian, mixed scripts
    "一只狗在公园里玩耍",
    "北京的冬天很冷，但是风景很美丽。",
    "東京塔夜景",
    "Фотография собаки в парке",
    "ПРИВЕТ из Москвы!",
    "Grüße 🎉 from 北京 и Москва, à bientôt!",
    # Emoji: single, ZWJ sequences, flags, skin tones, variation selectors
    "party 🎉🎂",
    "family 👨‍👩‍👧 with zero-width joiners",
    "flags 🇩🇪🇫🇷 and skin tones 👍🏽",
    "🐶🐱🏖️",
    # HTML entities: plain, numeric, nested (ftfy decodes until nothing changes), upper-case,
    # unterminated (left alone by ftfy, decoded by open_clip's html.unescape)
    "&amp; html &lt;entities&gt; &quot;quoted&quot;",
    "caf&eacute; cr&egrave;me &#128512; &#x1F389;",
    "&amp;amp;lt;b&amp;amp;gt; bold",
    "P&EACUTE;REZ &nbsp;nbsp",
    "&#xFB01;ne &#xFF21;",  # decoded before the ligature and width fixes
    "this&not that & &amp",
    # Whitespace, control characters, width and ligatures
    "  lots   of\twhitespace\n\n here  ",
    "tab\tseparated\nnew line\r\nwindows",
    "\u3000ideographic\u00a0nbsp\u2009thin space",
    "\x1b[31mred\x1b[0m terminal text",
    "ﬁne ﬂowers ＦＵＬＬＷＩＤＴＨ",
    "call 0123456789 at 10:30",
    "2024-05-17 3.14159 1,000,000",
    "<mask> and </s> and <eos> typed literally",
    # Empty
    "",
    "   ",
    "\n\t",
    # Longer than any context: truncated, the end token kept where the reference keeps it
    " ".join(["Straße"] * 80),
    "dog " * 100,
    "Привет мир " * 40,
    "一只狗" * 60,
    "🎉" * 100,
]


@dataclass(frozen=True)
class Tower:
    """The reference tokenizer and the Immich-style export of the same vocabulary."""

    reference: Any  # open_clip's HFTokenizer
    export: Path


def _train_spm(path: Path, **options: Any) -> Path:
    # A few hundred pieces: enough for every corpus character plus merges; the repetition gives
    # the trainer pair counts to merge on. hard_vocab_limit=False lets it stop where it runs out.
    sentences = [line for line in CORPUS.splitlines() if line.strip()] * 20
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_prefix=str(path.with_suffix("")),
        character_coverage=1.0, hard_vocab_limit=False, num_threads=1, minloglevel=2, **options,
    )  # fmt: skip
    return path


def _textual_graph(path: Path, names: list[str], length: int | None) -> None:
    """A stand-in text tower with Immich's signature: int32 (1, length) inputs, "embedding"."""
    shape: list[int | str] = [1, length or "sequence"]
    inputs = [helper.make_tensor_value_info(name, TensorProto.INT32, shape) for name in names]
    node = helper.make_node("Cast", [names[0]], ["embedding"], to=TensorProto.FLOAT)
    output = helper.make_tensor_value_info("embedding", TensorProto.FLOAT, shape)
    graph = helper.make_graph([node], "textual", inputs, [output])
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def _hub_and_reference(folder: Path, tokenizer: Any, arch: str) -> Any:
    """A local stand-in for the model's hub repository, and open_clip's tokenizer for it.

    open_clip resolves ``local-dir:`` like a hub model: the text config from
    open_clip_config.json (here the bundled config of ``arch``) and the tokenizer from the folder.
    """
    tokenizer.save_pretrained(str(folder))
    config = {"model_cfg": open_clip.get_model_config(arch)}
    (folder / "open_clip_config.json").write_text(json.dumps(config))
    return open_clip.get_tokenizer(f"local-dir:{folder}")


def _immich_export(folder: Path, hub: Path, arch: str, names: list[str], length: int | None):
    # Immich's exporter: AutoTokenizer.from_pretrained(hf_tokenizer_name).save_pretrained(textual)
    # and the open_clip model config as config.json.
    AutoTokenizer.from_pretrained(str(hub)).save_pretrained(str(folder / "textual"))
    (folder / "config.json").write_text(json.dumps(open_clip.get_model_config(arch)))
    _textual_graph(folder / "textual" / "model.onnx", names, length)
    return folder


def _spec(export: Path) -> TextInputSpec:
    textual = export / "textual"
    return text_input_spec(
        textual / "model.onnx",
        textual / "tokenizer.json",
        json.loads((textual / "tokenizer_config.json").read_text()),
        json.loads((export / "config.json").read_text()),
    )


@pytest.fixture(scope="module")
def siglip2(tmp_path_factory) -> Tower:
    root = tmp_path_factory.mktemp("siglip2")
    # Gemma's sentencepiece model: BPE with byte fallback, no dummy prefix, no normalisation,
    # digits split, <pad>=0 <eos>=1 <bos>=2 <unk>=3 and <mask>=4 (transformers' Gemma defaults).
    source = root / "source"
    source.mkdir()
    _train_spm(
        source / "tokenizer.model", model_type="bpe", vocab_size=700, byte_fallback=True,
        add_dummy_prefix=False, remove_extra_whitespaces=False,
        normalization_rule_name="identity", split_digits=True, allow_whitespace_only_pieces=True,
        pad_id=0, eos_id=1, bos_id=2, unk_id=3, pad_piece="<pad>", eos_piece="<eos>",
        bos_piece="<bos>", unk_piece="<unk>", user_defined_symbols=["<mask>"],
    )  # fmt: skip
    # timm's SigLIP2 tokenizer was made by open_clip's SigLipTokenizer("gemma"): the fast Gemma
    # tokenizer with right padding, no <bos>, an <eos> appended.
    tokenizer = GemmaTokenizerFast.from_pretrained(
        str(source), padding_side="right", add_bos_token=False, add_eos_token=True
    )
    reference = _hub_and_reference(root / "hub", tokenizer, SIGLIP2)
    export = _immich_export(root / "export", root / "hub", SIGLIP2, ["text"], 64)
    return Tower(reference, export)


# Immich's open_clip exporter traces xlm-roberta-base-ViT-B-32 with one int32 "text" input of
# (1, 77) (the tower derives its attention mask from the pad id); its M-CLIP exports take int32
# input_ids + attention_mask (1, 77); a re-export may leave the sequence axis dynamic.
XLMR_GRAPHS = {
    "text-77": (["text"], 77),
    "ids-mask-77": (["input_ids", "attention_mask"], 77),
    "ids-mask-dynamic": (["input_ids", "attention_mask"], None),
}


@pytest.fixture(scope="module")
def xlm_roberta(tmp_path_factory) -> dict[str, Tower]:
    root = tmp_path_factory.mktemp("xlmr")
    source = root / "source"
    source.mkdir()
    # XLM-R's sentencepiece.bpe.model: unigram, NFKC, dummy prefix, <unk>=0 <s>=1 </s>=2;
    # transformers shifts it to fairseq's <s>=0 <pad>=1 </s>=2 <unk>=3 and appends <mask>.
    _train_spm(
        source / "sentencepiece.bpe.model", model_type="unigram", vocab_size=400,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
    )  # fmt: skip
    # model_max_length as on the hub (xlm-roberta-base): 512, more than open_clip's 77.
    tokenizer = XLMRobertaTokenizer.from_pretrained(str(source), model_max_length=512)
    reference = _hub_and_reference(root / "hub", tokenizer, XLM_ROBERTA)
    return {
        variant: Tower(reference, _immich_export(root / variant, root / "hub", XLM_ROBERTA, *graph))
        for variant, graph in XLMR_GRAPHS.items()
    }


def _runtime_tokenizer(export: Path) -> TextTokenizer:
    return TextTokenizer(export / "textual" / "tokenizer.json", _spec(export).tokenizer)


def _reference_ids(tower: Tower) -> np.ndarray:
    return tower.reference(TEXTS).numpy()


def _mismatches(ours: np.ndarray, reference: np.ndarray, pad_id: int) -> list[str]:
    def shown(row: np.ndarray) -> list[int]:
        ids = row.tolist()
        while ids and ids[-1] == pad_id:
            ids.pop()
        return ids

    return [
        f"{text!r}: ours {shown(a)} reference {shown(b)}"
        for text, a, b in zip(TEXTS, ours, reference, strict=True)
        if a.shape != b.shape or not np.array_equal(a, b)
    ]


# ---------------------------------------------------------------- the strings are hard enough


def test_texts_cover_scripts_emoji_entities_and_empty():
    assert len(TEXTS) >= 40

    def has(low: int, high: int) -> bool:
        return any(low <= ord(char) <= high for text in TEXTS for char in text)

    assert has(0x4E00, 0x9FFF) and has(0x0400, 0x04FF)  # CJK, Cyrillic
    assert has(0x1F300, 0x1FAFF)  # emoji
    assert all(any(char in text for text in TEXTS) for char in "äöüßéèàœ\u200d\u0301")
    assert {"", "   "} <= set(TEXTS)
    # One text needs ftfy's repeated entity decoding: open_clip's two html.unescape passes
    # alone would leave an entity behind.
    assert any(basic_clean(t) != html.unescape(html.unescape(t)).strip() for t in TEXTS)


def test_clean_modes_match_open_clip():
    """The cleaning open_clip applies before any tokenizer (ftfy, HTML, whitespace, case)."""
    for mode in ("lower", "whitespace", "canonicalize"):
        theirs, ours = get_clean_fn(mode), CLEAN_FUNCTIONS[mode]
        assert [ours(t) for t in TEXTS] == [theirs(t) for t in TEXTS], mode


# ---------------------------------------------------------------- SigLIP2 (Gemma)


def test_siglip2_spec_from_immich_export(siglip2):
    spec = _spec(siglip2.export)
    assert spec.tokenizer == TokenizerSpec(
        context_length=64, pad_id=0, clean="canonicalize", special_tokens="template",
        padding="max_length",
    )  # fmt: skip
    assert (spec.ids_name, spec.ids_dtype, spec.mask_name, spec.batch) == ("text", "int32", None, 1)
    assert siglip2.reference.context_length == 64
    vocab = TextTokenizer(siglip2.export / "textual" / "tokenizer.json", spec.tokenizer)
    specials = {t: vocab.token_to_id(t) for t in ("<pad>", "<eos>", "<bos>", "<unk>", "<mask>")}
    assert specials == {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3, "<mask>": 4}


def test_siglip2_ids_match_open_clip(siglip2):
    reference = _reference_ids(siglip2)
    tokenizer = _runtime_tokenizer(siglip2.export)
    ours = tokenizer.encode_batch(TEXTS)
    assert ours.input_ids.dtype == np.int64 and ours.input_ids.shape == (len(TEXTS), 64)
    assert _mismatches(ours.input_ids, reference, pad_id=0) == []

    # What the comparison covered: no <bos> anywhere, exactly one <eos> per row (the empty
    # texts are <eos> alone), truncated rows that still end with it, byte-fallback pieces.
    assert not (reference == 2).any()
    assert ((reference == 1).sum(axis=1) == 1).all()
    assert reference[TEXTS.index("")].tolist() == [1] + [0] * 63
    assert reference[TEXTS.index("...!!!???")].tolist() == [1] + [0] * 63
    truncated = reference[:, -1] != 0
    assert truncated.sum() >= 4 and (reference[truncated, -1] == 1).all()
    pieces = siglip2.reference.tokenizer.convert_ids_to_tokens(np.unique(reference).tolist())
    assert any(piece.startswith("<0x") for piece in pieces)
    # One row at a time gives the same ids as the batch.
    for text, row in zip(TEXTS[::7], reference[::7], strict=True):
        assert tokenizer.encode([text])[0].tolist() == row.tolist(), text


def test_left_padding_tokenizer_config_is_refused(siglip2, tmp_path):
    """Gemma's class default is left padding: a config asking for it gets other ids from
    open_clip (pads first), which the right-aligned runtime cannot give, so import refuses."""
    export = tmp_path / "export"
    shutil.copytree(siglip2.export, export)
    config_path = export / "textual" / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config["padding_side"] = "left"
    config_path.write_text(json.dumps(config))
    left = AutoTokenizer.from_pretrained(str(export / "textual"))
    assert left(["dog"], max_length=8, padding="max_length").input_ids[0][0] == 0  # pads first
    with pytest.raises(ModelImportError, match="padding_side='left'"):
        _spec(export)


# ---------------------------------------------------------------- XLM-RoBERTa


@pytest.mark.parametrize("variant", list(XLMR_GRAPHS))
def test_xlm_roberta_spec_from_immich_export(xlm_roberta, variant):
    tower = xlm_roberta[variant]
    spec = _spec(tower.export)
    names, length = XLMR_GRAPHS[variant]
    # open_clip's config names no context length: open_clip's default 77 applies, not the
    # tokenizer's model_max_length (512), also when the graph leaves the length open.
    assert tower.reference.context_length == 77
    assert spec.tokenizer == TokenizerSpec(
        context_length=77, pad_id=1, clean="whitespace", special_tokens="template",
        padding="max_length" if length else "longest",
    )  # fmt: skip
    assert spec.ids_name == names[0] and spec.ids_dtype == "int32" and spec.batch == 1
    assert spec.mask_name == (names[1] if len(names) > 1 else None)


@pytest.mark.parametrize("variant", list(XLMR_GRAPHS))
def test_xlm_roberta_ids_and_mask_match_open_clip(xlm_roberta, variant):
    tower = xlm_roberta[variant]
    reference = _reference_ids(tower)
    # The mask a tower gets: open_clip's text encoder derives it from the pad id; M-CLIP gets
    # the Hugging Face tokenizer's. They agree here (no text holds a literal <pad>).
    hf = tower.reference.tokenizer(
        [tower.reference.clean_fn(t) for t in TEXTS],
        max_length=77, padding="max_length", truncation=True,
    )  # fmt: skip
    reference_mask = np.array(hf["attention_mask"])
    np.testing.assert_array_equal(reference_mask, reference != 1)
    np.testing.assert_array_equal(np.array(hf["input_ids"]), reference)

    tokenizer = _runtime_tokenizer(tower.export)
    spec = tokenizer.spec
    ours = tokenizer.encode_batch(TEXTS)
    width = ours.input_ids.shape[1]
    # A batch is padded to its longest text (a truncated one here, so 77 either way).
    assert width == 77
    if spec.padding == "longest":
        # A single text is padded to its own length: the reference row without its padding.
        for text, row in zip(TEXTS, reference, strict=True):
            single = tokenizer.encode_batch([text])
            assert single.input_ids[0].tolist() == row[row != 1].tolist(), text
            assert single.attention_mask.all()
    assert _mismatches(ours.input_ids, reference, pad_id=1) == []
    np.testing.assert_array_equal(ours.attention_mask, reference_mask)

    # What the comparison covered: <s> ... </s> on every row, <unk> for unseen characters,
    # case kept (XLM-R is cased), truncated rows ending with </s>.
    assert (reference[:, 0] == 0).all() and ((reference == 2).sum(axis=1) >= 1).all()
    assert reference[TEXTS.index("")].tolist()[:3] == [0, 2, 1]
    assert (reference == 3).any()
    lower, upper = tower.reference(["photo of a dog", "PHOTO OF A DOG"]).numpy()
    assert lower.tolist() != upper.tolist()
    truncated = reference[:, -1] != 1
    assert truncated.sum() >= 4 and (reference[truncated, -1] == 2).all()
