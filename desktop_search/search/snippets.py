"""The passage shown under a search hit, with the query's words highlighted.

Words are compared the way the keyword index compares them (FTS5 unicode61 with
remove_diacritics): case- and accent-insensitive, whole words only, so "cafe" highlights "Café"
but "art" does not highlight "party". A term of four letters or more also highlights the words
it begins ("invoice" highlights "invoices"); shorter prefixes would light up too much.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from desktop_search.search.query import split_words, word_pattern

log = logging.getLogger(__name__)

ELLIPSIS = "…"
MIN_PREFIX = 4  # shortest term that also highlights longer words it begins
# How far a cut may move to land between whitespace-separated words (and how close to either
# end of the text a window may start or end before it just takes the rest): at most 20
# characters, less for narrow snippets.
SLACK = 20


@dataclass(frozen=True)
class Snippet:
    """A passage of a hit's text; ``spans`` are the [start, end) offsets of highlighted words."""

    text: str
    spans: tuple[tuple[int, int], ...] = ()

    def to_json(self) -> dict:
        return {"text": self.text, "spans": [list(span) for span in self.spans]}

    def marked(self, open: str = "[", close: str = "]") -> str:
        """The text with each highlighted word wrapped, e.g. in ``[...]`` or ANSI bold."""
        parts = []
        position = 0
        for start, end in self.spans:
            parts += [self.text[position:start], open, self.text[start:end], close]
            position = end
        parts.append(self.text[position:])
        return "".join(parts)


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    terms: frozenset[str]  # the query terms this word matches (empty: none)


def make_snippet(text: str, terms: Sequence[str], *, width: int = 180) -> Snippet:
    """About ``width`` characters of ``text`` around the most distinct query terms.

    Whitespace is collapsed, cuts fall between words and are marked with "…". Without any
    matching word the snippet is the start of the text.
    """
    flat = " ".join(unicodedata.normalize("NFC", text).split())
    wanted = {fold(token) for term in terms for token in split_words(term)}
    hits = _matching_words(flat, wanted) if wanted else []
    slack = min(SLACK, width // 8)
    if hits:
        first, last = _best_run(hits, width)
        start, end = _window(flat, first, last, width, slack)
    else:
        start = 0
        end = _snap_end(flat, width, 0, slack) or min(width, len(flat))
    if end - start > 2 * (width + slack):  # a giant "word" (an encoded blob) must not fill a page
        end = start + 2 * (width + slack)
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(flat) else ""
    shift = len(prefix) - start
    spans = tuple(
        (max(hit.start, start) + shift, min(hit.end, end) + shift)
        for hit in hits
        if hit.start < end and hit.end > start
    )
    return Snippet(prefix + flat[start:end] + suffix, spans)


def fold(word: str) -> str:
    """Lower case without accents: "Café" and "CAFE" both become "cafe"."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).lower()


def _matching_words(flat: str, wanted: set[str]) -> list[_Word]:
    prefixes = [term for term in wanted if len(term) >= MIN_PREFIX]
    found = []
    for match in word_pattern().finditer(flat):
        word = fold(match.group())
        matched = {term for term in prefixes if word.startswith(term)}
        if word in wanted:
            matched.add(word)
        if matched:
            found.append(_Word(match.start(), match.end(), frozenset(matched)))
    return found


def _best_run(hits: list[_Word], width: int) -> tuple[_Word, _Word]:
    """The first and last of the run of hits fitting in ``width`` with the most distinct terms
    (then the most hits; then the earliest)."""
    best_key, best = (0, 0), (hits[0], hits[0])
    for first_index, first in enumerate(hits):
        terms = set(first.terms)
        last_index = first_index
        while last_index + 1 < len(hits) and hits[last_index + 1].end - first.start <= width:
            last_index += 1
            terms |= hits[last_index].terms
        key = (len(terms), last_index - first_index + 1)
        if key > best_key:
            best_key, best = key, (first, hits[last_index])
    return best


def _window(flat: str, first: _Word, last: _Word, width: int, slack: int) -> tuple[int, int]:
    """Start and end of about ``width`` characters holding the hits, cut between words."""
    spare = max(0, width - (last.end - first.start))
    start = max(0, first.start - spare // 3)  # some context before, more after
    end = min(len(flat), start + max(width, last.end - first.start))
    start = max(0, min(start, end - width))  # near the end of the text: show more before
    if start <= slack:
        start = 0
    if len(flat) - end <= slack:
        end = len(flat)
    return _snap_start(flat, start, first.start, slack), _snap_end(flat, end, last.end, slack)


def _snap_start(flat: str, position: int, limit: int, slack: int) -> int:
    """A cut at or after ``position`` at the start of a whitespace-separated word, not after
    ``limit`` (the first highlighted word); inside that word's chunk ("(invoice") if short."""
    if position == 0 or flat[position - 1] == " ":
        return position
    next_word = flat.find(" ", position) + 1
    if 0 < next_word <= limit:
        return next_word
    chunk_start = flat.rfind(" ", 0, limit) + 1
    return chunk_start if limit - chunk_start <= slack else limit


def _snap_end(flat: str, position: int, limit: int, slack: int) -> int:
    """A cut at or before ``position`` at the end of a whitespace-separated word, not before
    ``limit`` (the end of the last highlighted word); 0 when there is no such cut."""
    if position >= len(flat) or flat[position] == " ":
        return min(position, len(flat))
    previous_space = flat.rfind(" ", 0, position)
    if previous_space >= limit and previous_space > 0:
        return previous_space
    chunk_end = flat.find(" ", limit)
    chunk_end = len(flat) if chunk_end == -1 else chunk_end
    return chunk_end if chunk_end - limit <= slack else limit
