"""Text with the query's words emphasised, as the HTML Qt's rich text understands (no Qt here).

Everything the index holds is escaped: a chat message reading "<b>hi</b>" shows as typed.
Words match the way the snippets match them (``search/snippets.py``: case- and accent-insensitive,
whole words, prefixes of four letters or more).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from desktop_search.search.snippets import Snippet, make_snippet

BOLD = ("<b>", "</b>")
# The preview marks words like a highlighter pen, bold on a soft yellow (readable in both
# light and dark themes, where the text colour stays the theme's).
MARKER = ('<b style="background-color:#ffe27a; color:#202020;">', "</b>")


def marked_html(snippet: Snippet, marks: tuple[str, str] = BOLD) -> str:
    """The snippet's text, escaped, its highlighted words wrapped in ``marks``."""
    parts: list[str] = []
    position = 0
    for start, end in snippet.spans:
        parts += [html.escape(snippet.text[position:start]), marks[0],
                  html.escape(snippet.text[start:end]), marks[1]]  # fmt: skip
        position = end
    parts.append(html.escape(snippet.text[position:]))
    return "".join(parts)


def highlighted_html(text: str, terms: Sequence[str], marks: tuple[str, str] = MARKER) -> str:
    """One line or paragraph with the query's ``terms`` marked (its whitespace collapsed)."""
    if not text.strip():
        return ""
    if not terms:
        return html.escape(" ".join(text.split()))
    # A window as wide as the text: the whole of it, every match marked.
    return marked_html(make_snippet(text, terms, width=len(text) + 1), marks)


def paragraphs_html(text: str, terms: Sequence[str], marks: tuple[str, str] = MARKER) -> str:
    """Plain text as HTML paragraphs (blank lines separate them, single breaks stay breaks)."""
    blocks = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [highlighted_html(line, terms, marks) for line in block.split("\n")]
        lines = [line for line in lines if line]
        if lines:
            blocks.append("<p>" + "<br>".join(lines) + "</p>")
    return "".join(blocks)
