"""Plain-text and Markdown files: decode whatever encoding they are in, chunk, locate by line.

Text files on a desktop come in every encoding an editor ever saved: UTF-8 with or without BOM,
UTF-16 from Windows tools, cp1252/latin-1 from old Windows and Mac editors, Shift-JIS... The
decoder trusts a BOM, then strict UTF-8 (which practically never decodes legacy 8-bit text by
accident), then charset-normalizer's guess. Anything that does not decode to plausible text is
binary and not indexed.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from pathlib import PurePath

import charset_normalizer

from desktop_search.errors import FileNotIndexableError
from desktop_search.extract.chunking import approximate_tokens, chunk_text, cut_text
from desktop_search.extract.document import CHUNK, TEXT, Document, TextItem

log = logging.getLogger(__name__)

BINARY_REASON = "not a text file (binary content)"
MARKDOWN_SUFFIXES = {".md", ".markdown"}
MAX_TOKENS, OVERLAP_TOKENS = 200, 40

# Longest first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# Control characters that do not occur in text (tab, newlines, form feed, escape are fine).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
# Tolerated share of stray control characters (a few in a long log file are fine).
_MAX_CONTROL_SHARE = 0.01
# charset-normalizer ranks short Western European text as cp1250/cp1257 about as often as
# cp1252; when cp1252 decodes the bytes equally well it is by far the likelier desktop encoding.
_PREFERRED_LEGACY = "cp1252"
_TIE = 0.01

_ATX_HEADING_RE = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$")
_SETEXT_UNDERLINE_RE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE_RE = re.compile(r"^ {0,3}(```|~~~)")
_WORD_RE = re.compile(r"\S+")
_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
# Where a chunk is looked for first (beyond the chunk's own length): its start is normally a
# chunk or less after the earliest possible one; only long runs of blank space push it further.
_SEARCH_WINDOW_CHARS = 10_000
_PATTERN_WORD_CHARS = 64  # a longer word is looked for by its start
# A longer line is no heading (a title is a few words), and the heading patterns take time
# quadratic in the line on some ("# " and 20,000 "#": 32 s).
MAX_HEADING_CHARS = 500


# About 3,000 passages: a long book. Longer text files are logs or data, indexed in part.
MAX_TEXT_CHARS = 2_000_000


def decode_text(data: bytes) -> str:
    """The text in ``data`` with ``\\n`` newlines; FileNotIndexableError if it is binary."""
    text = _decode(data)
    if text.startswith("\ufeff"):
        text = text[1:]
    if len(_CONTROL_RE.findall(text)) > max(2, _MAX_CONTROL_SHARE * len(text)):
        raise FileNotIndexableError(BINARY_REASON)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    if b"\x00" in data:
        # NULs only occur in text as the high bytes of UTF-16/32 code units.
        return _guess(data, wide_only=True)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _guess(data, wide_only=False)


def _guess(data: bytes, *, wide_only: bool) -> str:
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is None:
        raise FileNotIndexableError(BINARY_REASON)
    if wide_only and not best.encoding.startswith(("utf_16", "utf_32")):
        raise FileNotIndexableError(BINARY_REASON)
    encoding = best.encoding
    for match in matches:
        tied = match.chaos <= best.chaos + _TIE and match.coherence >= best.coherence - _TIE
        if tied and _PREFERRED_LEGACY in match.could_be_from_charset:
            encoding = _PREFERRED_LEGACY
            break
    log.debug("decoding as %s (guessed)", encoding)
    return data.decode(encoding, errors="replace")


def extract_text_file(data: bytes, name: str) -> Document:
    """A text or Markdown file as passages located by their first line."""
    return text_document(decode_text(data), name)


def text_document(text: str, name: str) -> Document:
    """``extract_text_file`` for text already decoded. Only the first MAX_TEXT_CHARS are
    indexed: a 100 MB log would be 150,000 passages, hours of the text model for little use."""
    title = markdown_title(text) if PurePath(name).suffix.lower() in MARKDOWN_SUFFIXES else None
    document = Document(kind=TEXT, title=title)
    if len(text) > MAX_TEXT_CHARS:
        text = cut_text(text, MAX_TEXT_CHARS)
        document.notes.append(f"only the first {MAX_TEXT_CHARS // 1_000_000} million characters "
                              "are indexed")  # fmt: skip
    if not text.strip():
        return document
    chunks = chunk_text(text, max_tokens=MAX_TOKENS, overlap_tokens=OVERLAP_TOKENS)
    for chunk, line in zip(chunks, chunk_lines(text, chunks), strict=True):
        document.items.append(TextItem(kind=CHUNK, text=chunk, locator={"line": line}, title=title))
    return document


def chunk_lines(text: str, chunks: list[str]) -> list[int]:
    """The 1-based line of ``text`` where each chunk starts.

    Chunks come in order with whitespace normalised, each overlapping the previous one by at
    most OVERLAP_TOKENS. A chunk is found by its first few words, searching on from the earliest
    word where it can start (first within a window a few chunks long, so that a chunk that is
    only found elsewhere, such as a piece of a word the chunker cut, costs no scan to the end of
    the text); newlines are counted only over the stretch between consecutive starts, and the
    words are read once, so the whole pass stays linear in the text.
    """
    lines = []
    words = _Words(text)
    position, line, earliest = 0, 1, 0
    for chunk in chunks:
        found = _locate(text, chunk, position, earliest)
        if found is not None:
            line += text.count("\n", position, found)
            position = found
        lines.append(line)
        earliest = words.start_after(position, max(1, _words_before_overlap(chunk.split())))
    return lines


def _locate(text: str, chunk: str, position: int, earliest: int) -> int | None:
    """Where ``chunk`` starts: from ``earliest`` on, else from just after the previous start
    ``position`` (a word cut in pieces by the chunker); nearby first, then anywhere."""
    window_end = earliest + _SEARCH_WINDOW_CHARS + 4 * len(chunk)
    for end in (window_end, len(text)):
        found = _find_start(text, chunk, earliest, end)
        if found is None and earliest > position:
            found = _find_start(text, chunk, position + 1, end)
        if found is not None or end >= len(text):
            return found
    return None


def _words_before_overlap(words: list[str]) -> int:
    """How many leading words of a chunk the next chunk cannot repeat: its overlap is a tail
    of at most OVERLAP_TOKENS tokens (token counts add up word by word)."""
    tail_tokens, tail_words = 0, 0
    for word in reversed(words):
        tail_tokens += approximate_tokens(word)
        if tail_tokens > OVERLAP_TOKENS:
            break
        tail_words += 1
    return len(words) - tail_words


def _find_start(text: str, chunk: str, start: int, end: int) -> int | None:
    words = _leading_words(chunk)
    while words:
        if len(words) == 1:  # no regex needed (compiling one is slow for a long word)
            found = text.find(words[0], start, end)
            return found if found >= 0 else None
        pattern = r"\s+".join(re.escape(word) for word in words)
        match = re.compile(pattern).search(text, start, end)
        if match:
            return match.start()
        words = words[:-1]
    return None


def _leading_words(chunk: str) -> list[str]:
    """The first words of a chunk to look for it by: up to 8, ending at a long one (a piece of a
    cut word, a URL), which its first characters identify well enough."""
    words = []
    for word in chunk.split(maxsplit=8)[:8]:
        if len(word) > _PATTERN_WORD_CHARS:
            words.append(word[:_PATTERN_WORD_CHARS])
            break
        words.append(word)
    return words


class _Words:
    """The words of a text, read once from the start, for positions asked in growing order
    (looking from each position anew would read a long word again for every chunk cut from
    it: quadratic)."""

    def __init__(self, text: str) -> None:
        self._spans = (match.span() for match in _WORD_RE.finditer(text))
        self._ahead: deque[tuple[int, int]] = deque()  # read, not yet passed
        self._end = len(text)

    def start_after(self, position: int, count: int) -> int:
        """Where the ``count``-th word after the one at (or after) ``position`` starts, or the
        text's end."""
        while self._fill(1) and self._ahead[0][1] <= position:  # words that end before it
            self._ahead.popleft()
        return self._ahead[count][0] if self._fill(count + 1) else self._end

    def _fill(self, count: int) -> bool:
        """Whether at least ``count`` words are read ahead (reading more as needed)."""
        while len(self._ahead) < count:
            span = next(self._spans, None)
            if span is None:
                return False
            self._ahead.append(span)
        return True


def markdown_title(text: str) -> str | None:
    """The text of the first heading (ATX ``# Title`` or setext underlined), if any."""
    lines = text.split("\n", 2000)[:2000]  # a title is near the top; don't split a huge file
    index = _after_front_matter(lines)
    in_fence = False
    previous = ""
    for line in lines[index:]:
        if _FENCE_RE.match(line):
            in_fence, previous = not in_fence, ""
            continue
        if in_fence:
            continue
        if len(line) > MAX_HEADING_CHARS:
            previous = ""
            continue
        atx = _ATX_HEADING_RE.match(line)
        if atx:
            return _clean_heading(atx.group(1))
        if previous.strip() and _SETEXT_UNDERLINE_RE.match(line):
            return _clean_heading(previous)
        previous = line
    return None


def _after_front_matter(lines: list[str]) -> int:
    # YAML front matter (Jekyll, Hugo, Obsidian): its "# comments" are not headings.
    if not lines or lines[0].strip() != "---":
        return 0
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            return index + 1
    return 0


def _clean_heading(heading: str) -> str | None:
    heading = _LINK_RE.sub(r"\1", heading)
    heading = heading.strip().strip("*_`").strip()
    return heading or None
