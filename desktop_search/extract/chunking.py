"""Sentence splitting and sentence-aware chunking of document text.

Item text is embedded by all-MiniLM-L6-v2, which reads at most 256 word-piece tokens, so long
text is cut into chunks of about 200 tokens. Chunks are made of whole sentences (a passage cut
mid-sentence embeds poorly and reads badly as a snippet), and consecutive chunks share a sentence
or two so that a passage straddling a boundary is still found in one piece.

Token counts are estimated from the text (:func:`approximate_tokens`) instead of running the
tokenizer: chunking runs over every page of every document and must stay cheap. The estimate
leans high for rare and long words, which is the safe side for a hard model limit.

Pure module: stdlib only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

log = logging.getLogger(__name__)

CountTokens = Callable[[str], int]

# Paragraph breaks: a blank line (possibly holding spaces).
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")

# A candidate sentence end: terminal punctuation, optional closing quotes/brackets, whitespace.
# The whitespace requirement already keeps "3.5", "e.g.," and "example.com" whole. A match only
# starts where a run of punctuation starts (the lookbehind): one that starts later in the run
# cannot succeed where the run's start failed, and trying every position of a long run
# ("....." x 40,000) is quadratic (143 s).
_CLOSERS = "\"'\u2019\u201d)]"
_OPENERS = "\"'\u2018\u201c(["
_SENTENCE_END = re.compile(rf"(?<![.!?\u2026])([.!?\u2026]+[{re.escape(_CLOSERS)}]*)\s+")

# Words ending in "." that rarely end a sentence (compared lower-case, without the final dot):
# titles and Latin/German abbreviations that are followed by a capitalised word.
_ABBREVIATION_WORDS = """
    e.g i.e vs cf al approx ca resp incl excl esp viz dept dr mr mrs ms mx prof sr jr st mt
    lt capt sgt gen col gov pres hon rev bzw ggf vgl bspw evtl inkl sog
"""
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
# ... and those that are abbreviations only before a number ("No. 5", "p. 12", "Fig. 3").
_NUMBER_ABBREVIATION_WORDS = """
    no nos nr p pp vol vols fig figs eq eqs art sec ch para
    jan feb mar apr jun jul aug sep sept oct nov dec
"""
_NUMBER_ABBREVIATIONS = frozenset(_NUMBER_ABBREVIATION_WORDS.split())

_WORD_BEFORE_DOT = re.compile(rf"(\S+?)[.!?\u2026]+[{re.escape(_CLOSERS)}]*$")
_INITIALS = re.compile(r"([^\W\d_]\.)*[^\W\d_]")

# Word-piece estimate: a run of letters/digits, a punctuation mark or a CJK ideograph (which
# BERT tokenizers split one by one) is at least one token. Calibrated on the all-MiniLM-L6-v2
# tokenizer: common words are one piece, long ones lose about a piece per 2 letters beyond 6
# (fewer for words with non-ASCII letters, mostly from languages other than English), numbers
# and codes take a piece per 2 characters. That is 1.35x the real count on English legal text,
# about 1.0x on code and 0.87x on German: a 200-token chunk stays under the model's 256.
_CJK = "\u2e80-\u2fff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")
_WHOLE_WORD_LETTERS = 6
_WHOLE_FOREIGN_WORD_LETTERS = 3
_LETTERS_PER_PIECE = 2
_DIGITS_PER_PIECE = 2

_WHITESPACE = re.compile(r"\s+")

# Where the search for a piece of an over-long word starts: the estimate above gives a run of
# letters or digits about 2 characters per token, so 4 per token is a little beyond the first
# piece and one halving step finds it; later pieces start from the previous piece's length.
_FIRST_GUESS_CHARS_PER_TOKEN = 4


def approximate_tokens(text: str) -> int:
    """Estimated number of word-piece tokens in ``text`` (without the model's special tokens);
    errs on the high side for English, close for code, a little low for German."""
    count = 0
    for word in _TOKEN.findall(text):
        length = len(word)
        if length <= 2:
            count += 1
        elif not word.isalpha():  # numbers, codes, identifiers
            count += -(-length // _DIGITS_PER_PIECE)
        else:
            whole = _WHOLE_WORD_LETTERS if word.isascii() else _WHOLE_FOREIGN_WORD_LETTERS
            count += 1 + max(0, -(-(length - whole) // _LETTERS_PER_PIECE))
    return count


def cut_text(text: str, max_chars: int) -> str:
    """``text`` cut to at most ``max_chars`` characters: at the last line end in the second
    half of that, else the last space there, else right at ``max_chars``."""
    if len(text) <= max_chars:
        return text
    for separator in ("\n", " "):
        cut = text.rfind(separator, max_chars // 2, max_chars)
        if cut > 0:
            return text[:cut]
    return text[:max_chars]


def _normalise(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def _is_sentence_end(paragraph: str, punctuation_end: int, next_start: int) -> bool:
    """Whether the punctuation run ending at ``punctuation_end`` closes a sentence; the next
    sentence would start at ``next_start``."""
    if next_start >= len(paragraph):
        return True
    following = paragraph[next_start]
    if following.islower():  # "approx. five", "a.m. and": not a new sentence
        return False
    match = _WORD_BEFORE_DOT.search(paragraph, max(0, punctuation_end - 40), punctuation_end)
    if match is None:
        return True
    ending = paragraph[match.end(1) : punctuation_end].rstrip(_CLOSERS)
    if ending != ".":
        return True  # "!", "?" and "..." always end a sentence
    word = match.group(1).lower().lstrip(_OPENERS)
    if word in _ABBREVIATIONS or (word in _NUMBER_ABBREVIATIONS and following.isdigit()):
        return False
    # Initials ("J. Smith") and dotted abbreviations ("U.S. Army") do not end a sentence.
    return _INITIALS.fullmatch(word) is None


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences, whitespace normalised; no text is dropped.

    Boundaries are ".", "!", "?" (and "...") followed by whitespace and a word that does not
    start lower-case, unless the word before the dot is a known abbreviation ("e.g.", "Dr.") or
    an initial; and blank lines (paragraph breaks). Single line breaks are wrapping, not
    boundaries.
    """
    sentences: list[str] = []
    for paragraph in _PARAGRAPH_BREAK.split(text):
        start = 0
        for match in _SENTENCE_END.finditer(paragraph):
            if _is_sentence_end(paragraph, match.end(1), match.end()):
                sentence = _normalise(paragraph[start : match.end()])
                if sentence:
                    sentences.append(sentence)
                start = match.end()
        rest = _normalise(paragraph[start:])
        if rest:
            sentences.append(rest)
    return sentences


def _split_word(word: str, max_tokens: int, count_tokens: CountTokens) -> list[tuple[str, int]]:
    """Cut one word (a URL, a base64 blob) too long for a chunk into pieces that fit, with
    their counts: each piece is the longest prefix of the rest that ``count_tokens`` puts within
    ``max_tokens`` (at least one character). Counts must not shrink as a prefix grows.

    The prefix is searched for near the previous piece's length, so every probe counts about a
    piece: linear in the word. Bisecting over the whole rest of the word, as before, counted the
    rest at every probe: quadratic. A base64-like 1 MB word took 50.8 s of CPU, 4 MB about 740 s
    (34 minutes on the loaded machine); now 0.40 s and 1.9 s, with the same pieces.
    """
    pieces = []
    start, guess = 0, _FIRST_GUESS_CHARS_PER_TOKEN * max_tokens
    while start < len(word):
        end, tokens = _longest_fitting_end(word, start, guess, max_tokens, count_tokens)
        pieces.append((word[start:end], tokens))
        guess = end - start
        start = end
    return pieces


def _longest_fitting_end(
    word: str, start: int, guess: int, max_tokens: int, count_tokens: CountTokens
) -> tuple[int, int]:
    """The largest ``end`` with ``word[start:end]`` within ``max_tokens`` (``start + 1`` when
    not even one character is), and that prefix's count. Searched outwards from ``start +
    guess`` in steps that double (two probes when the guess is right, as for most pieces of an
    even blob), then bisected."""
    counted: dict[int, int] = {}

    def fits(end: int) -> bool:
        counted[end] = count_tokens(word[start:end])
        return counted[end] <= max_tokens

    end = min(start + guess, len(word))
    step = 1
    if fits(end):
        low = end  # fits
        while low < len(word):
            probe = min(low + step, len(word))
            if not fits(probe):
                break
            low, step = probe, step * 2
        high = min(low + step, len(word)) - 1 if low < len(word) else low
    else:
        high = end - 1  # end does not fit
        while True:
            probe = high - step + 1
            if probe <= start + 1:
                low = start + 1  # the minimum, taken even when one character is too much
                break
            if fits(probe):
                low = probe
                break
            high, step = probe - 1, step * 2
    while low < high:  # bisection, over a range the size of the last step
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    tokens = counted.get(low)
    return low, count_tokens(word[start:low]) if tokens is None else tokens


def _pack(
    units: list[tuple[str, int]], max_tokens: int, overlap_tokens: int, count_tokens: CountTokens
) -> list[tuple[str, int]]:
    """Join consecutive ``(text, tokens)`` units with spaces into chunks of at most
    ``max_tokens`` (returned with their counts); each chunk after the first starts with the
    previous chunk's last units totalling at most ``overlap_tokens``. Every unit must fit in a
    chunk on its own.

    Summed unit counts are checked against the count of the joined chunk, which can be higher
    with a counter that is not additive; the chunk then gives back units from its end.
    """
    chunks: list[tuple[str, int]] = []
    start = 0
    while start < len(units):
        end, total = start, 0
        while end < len(units) and (end == start or total + units[end][1] <= max_tokens):
            total += units[end][1]
            end += 1
        chunk = _joined(units, start, end, count_tokens)
        while end - start > 1 and chunk[1] > max_tokens:
            end -= 1
            chunk = _joined(units, start, end, count_tokens)
        chunks.append(chunk)
        if end == len(units):
            break
        # Step back over the last units for the overlap, leaving room for the next unit and
        # always moving forward by at least one unit.
        back, carried = end, 0
        while back - 1 > start:
            tokens = units[back - 1][1]
            if carried + tokens > overlap_tokens or carried + tokens + units[end][1] > max_tokens:
                break
            back -= 1
            carried += tokens
        start = back
    return chunks


def _joined(
    units: list[tuple[str, int]], start: int, end: int, count_tokens: CountTokens
) -> tuple[str, int]:
    if end - start == 1:
        return units[start]
    chunk = " ".join(text for text, _ in units[start:end])
    return chunk, count_tokens(chunk)


def _units(
    text: str, max_tokens: int, overlap_tokens: int, count_tokens: CountTokens
) -> list[tuple[str, int]]:
    """Sentences with their token counts; a sentence longer than a chunk is cut at word
    boundaries into pieces that overlap by words, as chunks do by sentences."""
    units: list[tuple[str, int]] = []
    for sentence in split_sentences(text):
        tokens = count_tokens(sentence)
        if tokens <= max_tokens:
            units.append((sentence, tokens))
            continue
        words: list[tuple[str, int]] = []
        for word in sentence.split(" "):
            count = count_tokens(word)
            if count <= max_tokens:
                words.append((word, count))
            else:
                words += _split_word(word, max_tokens, count_tokens)
        units += _pack(words, max_tokens, overlap_tokens, count_tokens)
    return units


def chunk_text(
    text: str,
    *,
    max_tokens: int = 200,
    overlap_tokens: int = 40,
    count_tokens: CountTokens = approximate_tokens,
) -> list[str]:
    """Pack the sentences of ``text`` into chunks of at most ``max_tokens`` (by
    ``count_tokens``); each chunk repeats the previous chunk's last whole sentences totalling at
    most ``overlap_tokens``. A sentence longer than ``max_tokens`` is cut at word boundaries
    (its pieces overlap by words). Whitespace is normalised; empty text gives ``[]``.
    ``overlap_tokens`` is capped at half of ``max_tokens``.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    # Callers derive budgets (max_tokens minus a heading); an overlap near the chunk size would
    # make every chunk repeat almost all of the previous one.
    overlap_tokens = max(0, min(overlap_tokens, max_tokens // 2))
    units = _units(text, max_tokens, overlap_tokens, count_tokens)
    return [chunk for chunk, _ in _pack(units, max_tokens, overlap_tokens, count_tokens)]
