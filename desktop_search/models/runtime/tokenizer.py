"""Text tokenizers over a ``tokenizer.json`` (the `tokenizers` library does the BPE).

:class:`ClipTokenizer` reproduces open_clip's ``SimpleTokenizer``: clean the text, BPE-encode,
wrap in start/end tokens, truncate so the last kept token is the end token, zero-pad to the
context length. :class:`TextTokenizer` generalises it for other text towers (SigLIP, XLM-RoBERTa):
cleaning mode, special tokens, pad id, fixed or dynamic padding and an attention mask are set by
a :class:`TokenizerSpec` stored in the model's ``model.json``.
"""

from __future__ import annotations

import html
import html.entities
import logging
import re
import string
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from desktop_search.errors import ModelError

log = logging.getLogger(__name__)

# Special-token spellings: open_clip's own, then OpenAI/Hugging Face exports (e.g. Immich's).
_START_TOKENS = ("<start_of_text>", "<|startoftext|>")
_END_TOKENS = ("<end_of_text>", "<|endoftext|>")

# open_clip cleans text with ftfy.fix_text before tokenising. ftfy is not a runtime dependency,
# so these are the parts of its default pipeline that change what people type into a search box
# (copied tables: ftfy.chardata). Its mojibake repair is deliberately left out: queries are typed,
# not decoded with the wrong codec.
_LIGATURES = {
    ord("Ĳ"): "IJ", ord("ĳ"): "ij", ord("ŉ"): "ʼn", ord("Ǳ"): "DZ", ord("ǲ"): "Dz",
    ord("ǳ"): "dz", ord("Ǆ"): "DŽ", ord("ǅ"): "Dž", ord("ǆ"): "dž", ord("Ǉ"): "LJ",
    ord("ǈ"): "Lj", ord("ǉ"): "lj", ord("Ǌ"): "NJ", ord("ǋ"): "Nj", ord("ǌ"): "nj",
    ord("ﬀ"): "ff", ord("ﬁ"): "fi", ord("ﬂ"): "fl", ord("ﬃ"): "ffi", ord("ﬄ"): "ffl",
    ord("ﬅ"): "ſt", ord("ﬆ"): "st",
}  # fmt: skip


def _width_map() -> dict[int, str]:
    width_map = {0x3000: " "}
    for code in range(0xFF01, 0xFFF0):
        alternate = unicodedata.normalize("NFKC", chr(code))
        if alternate != chr(code):
            width_map[code] = alternate
    return width_map


_WIDTH_MAP = _width_map()
_CONTROL_CHARS: dict[int, None] = dict.fromkeys(
    [*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F, *range(0x206A, 0x2070), 0xFEFF]
    + [*range(0xFFF9, 0xFFFD)]
)
_SINGLE_QUOTE_RE = re.compile("[\u02bc\u2018-\u201b]")
_DOUBLE_QUOTE_RE = re.compile("[\u201c-\u201f]")
_ANSI_RE = re.compile("\033\\[((?:\\d|;)*)([a-zA-Z])")


# ftfy also decodes HTML character references, before its other fixes, and it repeats all of
# them until the text stops changing: "&amp;amp;lt;" ends up as "<" and "&#xFB01;" (a ligature) as
# "fi" before open_clip's own two html.unescape passes. Only references that end in ";" are
# decoded (plus upper-cased names such as "&EACUTE;"), so "this&not that" stays as typed.
_REFERENCE_RE = re.compile(r"&#?[0-9A-Za-z]{1,24};")


def _named_references() -> dict[str, str]:
    table: dict[str, str] = {}
    for name, char in html.entities.html5.items():
        if not name.endswith(";"):
            continue
        table["&" + name] = char
        shouted = "&" + name.upper()
        # Shouted lower-case names too, unless html would read them as some other entity.
        if name == name.lower() and html.unescape(shouted) == shouted:
            table[shouted] = char.upper()
    return table


_NAMED_REFERENCES = _named_references()


def _decode_reference(match: re.Match[str]) -> str:
    reference = match.group(0)
    if reference in _NAMED_REFERENCES:
        return _NAMED_REFERENCES[reference]
    if reference.startswith("&#"):
        decoded = html.unescape(reference)
        return reference if ";" in decoded else decoded  # not a whole code point: keep it
    return reference


def _fix_segment(text: str, unescape: bool) -> str:
    """ftfy's loop over one line: apply the fixes until nothing changes."""
    while True:
        before = text
        if unescape:
            text = _REFERENCE_RE.sub(_decode_reference, text)
        text = text.translate(_LIGATURES).translate(_WIDTH_MAP)
        text = _SINGLE_QUOTE_RE.sub("'", _DOUBLE_QUOTE_RE.sub('"', text))
        text = _ANSI_RE.sub("", text).translate(_CONTROL_CHARS)
        text = unicodedata.normalize("NFC", text)
        if text == before:
            return text


def _basic_clean(text: str) -> str:
    """open_clip's ``basic_clean``: the ftfy subset above, then HTML unescape (twice)."""
    # ftfy works line by line and stops decoding references from the first line holding a "<"
    # on (it could be markup, where "&lt;" is meant literally).
    lines = []
    unescape = True
    for line in text.split("\n"):
        unescape = unescape and "<" not in line
        lines.append(_fix_segment(line, unescape))
    return html.unescape(html.unescape("\n".join(lines)))


def clean_text(text: str) -> str:
    """open_clip's ``_clean_lower`` (ftfy subset, HTML unescape, whitespace collapse, lower)."""
    return " ".join(_basic_clean(text).split()).lower()


def clean_whitespace(text: str) -> str:
    """open_clip's ``_clean_whitespace`` (as :func:`clean_text`, without lower-casing)."""
    return " ".join(_basic_clean(text).split())


_PUNCTUATION = str.maketrans("", "", string.punctuation)


def clean_canonicalize(text: str) -> str:
    """open_clip's ``_clean_canonicalize`` (SigLIP, after big_vision): no punctuation, lower."""
    text = _basic_clean(text).replace("_", " ").translate(_PUNCTUATION).lower()
    return " ".join(text.split())


# Text cleaning modes, named as open_clip's ``tokenizer_kwargs["clean"]`` names them.
CLEAN_FUNCTIONS = {
    "lower": clean_text,
    "whitespace": clean_whitespace,
    "canonicalize": clean_canonicalize,
    "none": lambda text: text,
}


def _find_token(tokenizer: Tokenizer, spellings: Sequence[str]) -> int | None:
    for spelling in spellings:
        token_id = tokenizer.token_to_id(spelling)
        if token_id is not None:
            return token_id
    return None


def load_tokenizer_file(path: Path) -> Tokenizer:
    """A ``tokenizer.json``; ModelError (re-import) when it is missing or unreadable."""
    try:
        return Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception for bad files
        raise ModelError(
            f"Tokenizer file is missing or unreadable: {path} ({exc})", hint="re-import the model"
        ) from exc


class ClipTokenizer:
    """Text -> int64 token ids (n, context_length), as the CLIP text tower expects."""

    def __init__(self, tokenizer_json: Path, context_length: int) -> None:
        tokenizer = load_tokenizer_file(tokenizer_json)
        start = _find_token(tokenizer, _START_TOKENS)
        end = _find_token(tokenizer, _END_TOKENS)
        if start is None or end is None:
            raise ModelError(
                f"Tokenizer has no CLIP start/end tokens: {tokenizer_json}",
                hint="re-import the model",
            )
        # We add special tokens, truncate and pad ourselves (open_clip's rules), so whatever the
        # file configures for those is switched off.
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        self.start_token = start
        self.end_token = end
        self.context_length = int(context_length)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            texts = [texts]
        out = np.zeros((len(texts), self.context_length), dtype=np.int64)
        if not texts:
            return out
        cleaned = [clean_text(text) for text in texts]
        encodings = self._tokenizer.encode_batch(cleaned, add_special_tokens=False)
        for row, encoding in enumerate(encodings):
            ids = [self.start_token, *encoding.ids, self.end_token][: self.context_length]
            ids[-1] = self.end_token  # open_clip: a truncated text still ends with the end token
            out[row, : len(ids)] = ids
        return out


# ---------------------------------------------------------------- general text tokenizer

_PADDINGS = ("max_length", "longest")


@dataclass(frozen=True)
class TokenizerSpec:
    """How to turn text into a text tower's inputs (stored in ``model.json``).

    ``special_tokens``: ``"explicit"`` wraps the BPE ids in ``start_id`` / ``end_id`` (either may
    be None) and truncates open_clip style, so a truncated text still ends with ``end_id``;
    ``"template"`` lets the tokenizer.json's own post-processor add them (Hugging Face exports:
    SigLIP's trailing ``</s>``, XLM-RoBERTa's ``<s> ... </s>``) and truncates with room for them.
    ``padding``: ``"max_length"`` pads every row to ``context_length`` (towers that pool the last
    or the argmax position need it); ``"longest"`` pads to the longest text of the batch.
    """

    context_length: int
    pad_id: int = 0
    clean: str = "lower"
    special_tokens: str = "explicit"
    start_id: int | None = None
    end_id: int | None = None
    padding: str = "max_length"

    def __post_init__(self) -> None:
        if self.context_length < 1:
            raise ValueError(f"context_length must be positive, got {self.context_length}")
        if self.clean not in CLEAN_FUNCTIONS:
            raise ValueError(f"unsupported text cleaning {self.clean!r}")
        if self.special_tokens not in ("explicit", "template"):
            raise ValueError(f"unsupported special_tokens mode {self.special_tokens!r}")
        if self.padding not in _PADDINGS:
            raise ValueError(f"unsupported padding {self.padding!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TokenizerSpec:
        def optional_int(key: str) -> int | None:
            value = data.get(key)
            return None if value is None else int(value)

        return cls(
            context_length=int(data["context_length"]),
            pad_id=int(data.get("pad_id", 0)),
            clean=str(data.get("clean", "lower")),
            special_tokens=str(data.get("special_tokens", "explicit")),
            start_id=optional_int("start_id"),
            end_id=optional_int("end_id"),
            padding=str(data.get("padding", "max_length")),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TokenBatch:
    """Token ids and the matching attention mask (1 = real token), both int64 (n, length)."""

    input_ids: np.ndarray
    attention_mask: np.ndarray


class TextTokenizer:
    """Text -> (ids, attention mask) for any `tokenizers` tokenizer.json, as ``spec`` says.

    Covers CLIP BPE (``explicit`` special tokens, the same ids as :class:`ClipTokenizer`),
    SigLIP/SigLIP2 (template special tokens, fixed padding with the tokenizer's pad id,
    canonicalised text) and XLM-RoBERTa / BERT style towers that take an attention mask.
    """

    def __init__(self, tokenizer_json: Path, spec: TokenizerSpec) -> None:
        tokenizer = load_tokenizer_file(tokenizer_json)
        tokenizer.no_padding()  # padding is ours (pad id and length come from the spec)
        if spec.special_tokens == "template":
            tokenizer.enable_truncation(max_length=spec.context_length)
        else:
            tokenizer.no_truncation()
        self._tokenizer = tokenizer
        self._clean = CLEAN_FUNCTIONS[spec.clean]
        self.spec = spec
        self.context_length = spec.context_length

    def encode_batch(self, texts: Sequence[str]) -> TokenBatch:
        if isinstance(texts, str):
            texts = [texts]
        spec = self.spec
        rows: list[list[int]] = []
        if texts:
            template = spec.special_tokens == "template"
            cleaned = [self._clean(text) for text in texts]
            encodings = self._tokenizer.encode_batch(cleaned, add_special_tokens=template)
            for encoding in encodings:
                if template:
                    ids = list(encoding.ids)[: spec.context_length]
                else:
                    ids = list(encoding.ids)
                    if spec.start_id is not None:
                        ids.insert(0, spec.start_id)
                    if spec.end_id is not None:
                        ids.append(spec.end_id)
                    if len(ids) > spec.context_length:
                        ids = ids[: spec.context_length]
                        if spec.end_id is not None:
                            ids[-1] = spec.end_id  # open_clip: truncated texts keep the end
                rows.append(ids)
        if spec.padding == "max_length":
            length = spec.context_length
        else:
            length = max([1, *(len(ids) for ids in rows)])
        input_ids = np.full((len(rows), length), spec.pad_id, dtype=np.int64)
        attention_mask = np.zeros((len(rows), length), dtype=np.int64)
        for row, ids in enumerate(rows):
            input_ids[row, : len(ids)] = ids
            attention_mask[row, : len(ids)] = 1
        return TokenBatch(input_ids=input_ids, attention_mask=attention_mask)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Token ids only (n, length) int64, like :meth:`ClipTokenizer.encode`."""
        return self.encode_batch(texts).input_ids

    def token_to_id(self, token: str) -> int | None:
        return self._tokenizer.token_to_id(token)
