"""CLIP text tokenizer over a ``tokenizer.json`` (the `tokenizers` library does the BPE).

Reproduces open_clip's ``SimpleTokenizer``: clean the text, BPE-encode, wrap in start/end tokens,
truncate so the last kept token is the end token, zero-pad to the context length.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

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


def clean_text(text: str) -> str:
    """open_clip's ``_clean_lower`` (ftfy subset, HTML unescape, whitespace collapse, lower)."""
    text = text.translate(_LIGATURES).translate(_WIDTH_MAP)
    text = _SINGLE_QUOTE_RE.sub("'", _DOUBLE_QUOTE_RE.sub('"', text))
    text = _ANSI_RE.sub("", text).translate(_CONTROL_CHARS)
    text = unicodedata.normalize("NFC", text)
    text = html.unescape(html.unescape(text))
    return " ".join(text.split()).lower()


def _find_token(tokenizer: Tokenizer, spellings: Sequence[str]) -> int | None:
    for spelling in spellings:
        token_id = tokenizer.token_to_id(spelling)
        if token_id is not None:
            return token_id
    return None


class ClipTokenizer:
    """Text -> int64 token ids (n, context_length), as the CLIP text tower expects."""

    def __init__(self, tokenizer_json: Path, context_length: int) -> None:
        path = Path(tokenizer_json)
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # tokenizers raises a bare Exception for bad files
            raise ModelError(
                f"Tokenizer file is missing or unreadable: {path} ({exc})",
                hint="re-import the model",
            ) from exc
        start = _find_token(tokenizer, _START_TOKENS)
        end = _find_token(tokenizer, _END_TOKENS)
        if start is None or end is None:
            raise ModelError(
                f"Tokenizer has no CLIP start/end tokens: {path}", hint="re-import the model"
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
