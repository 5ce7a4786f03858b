"""A PDF page's text layer made fit for the index, as typesetters leave it.

pypdf gives the characters as the page draws them: ligatures ("\ufb01"), words hyphenated where a
line ended ("envi-\nronment"), soft hyphens and zero-width characters, and whatever a font uses
as a glyph (gnuplot's manual draws its bullets with U+0088, a C1 control). Left so, "find" does
not match "\ufb01nd" and "environment" is two words to the keyword index and to the sentence
model. ``extract/clean.py`` makes every extractor's text valid UTF-8 afterwards; this is what
only typeset pages need. Measured on issue 19's manuals (benchmarks/README.md, "Text
extraction").

Pure module: stdlib only.
"""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 controls but tab and line ends: gnuplot's manual draws its bullets with U+0088.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# Invisible characters NFKC keeps: soft hyphen, zero-width space and joiners, word joiner, BOM.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")
# A word hyphenated at a line end ("envi-\nronment"). Joined when both pieces are lower-case:
# on issue 19's manuals (2,122 pages, 1,532 such breaks) that mends 1,337 words found whole
# elsewhere in the set and wrongly fuses about 86 compounds ("byte-compiled"); left alone, every
# one of them is two words to the keyword index and to the sentence model.
_LINE_END_HYPHEN = re.compile(r"([^\W\d_])-[ \t]*\r?\n[ \t]*([^\W\d_])")


def _join_hyphenated(match: re.Match[str]) -> str:
    before, after = match.group(1), match.group(2)
    return before + after if before.islower() and after.islower() else match.group(0)


def clean_page_text(text: str) -> str:
    """A page's text fit for the index: NFKC-normalised (ligatures such as "\ufb01" become
    "fi", so "find" matches), words hyphenated at line ends joined, no control or invisible
    characters, lone surrogates from broken font maps replaced (SQLite cannot store them)."""
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    text = _LINE_END_HYPHEN.sub(_join_hyphenated, text)
    return _CONTROL_CHARS.sub(" ", text)
