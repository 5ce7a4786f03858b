"""HTML mail bodies as readable text: paragraphs and line breaks kept, scripts and styles dropped.

Only what a reader sees matters for search and snippets; layout tables, tracking pixels and
invisible "preheader" padding are dropped. Entities are decoded by the parser itself.
"""

from __future__ import annotations

import logging
import re
from html.parser import HTMLParser

log = logging.getLogger(__name__)

# Content never shown as text.
_HIDDEN = {"script", "style", "title", "noscript", "template"}
# Elements that start a new paragraph / a new line; table cells are separated by a space.
_PARAGRAPH = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol", "dl", "pre",
    "hr", "section", "article", "header", "footer", "figure", "address", "main", "aside",
}  # fmt: skip
_LINE = {"div", "li", "tr", "dt", "dd", "figcaption", "form", "fieldset", "nav"}
_CELL = {"td", "th"}
# Zero-width and joiner characters that marketing mails use as invisible padding.
_INVISIBLE_RE = re.compile("[\u034f\u200b-\u200d\u2060\ufeff\u00ad]")
_SPACES_RE = re.compile(r"[ \t\f\v\xa0]+")
_BLANK_LINES_RE = re.compile(r"\n{3,}")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        # Line breaks owed before the next text: 1 for a new line, 2 for a new paragraph.
        # Adjacent block boundaries (</li><li>) share one break instead of stacking up.
        self._pending_breaks = 0
        self._hidden_depth = 0
        self._pre_depth = 0
        # <head> often lacks its end tag in sloppy mail HTML; <body> ends it in any case.
        self._in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("head", "body"):
            self._in_head = tag == "head"
        elif tag in _HIDDEN:
            self._hidden_depth += 1
        elif tag == "pre":
            self._pre_depth += 1
        self._break(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False
        elif tag in _HIDDEN and self._hidden_depth:
            self._hidden_depth -= 1
        elif tag == "pre" and self._pre_depth:
            self._pre_depth -= 1
        if tag != "br":  # <br> has no end; "</br>" would double the break
            self._break(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._break(tag)  # <br/>, <hr/>: void elements, no depth to track

    def handle_data(self, data: str) -> None:
        if self._hidden_depth or self._in_head:
            return
        if not self._pre_depth:
            data = re.sub(r"\s+", " ", data)
        if self._pending_breaks and not data.strip():
            return
        self.pieces.append("\n" * self._pending_breaks + data)
        self._pending_breaks = 0

    def _break(self, tag: str) -> None:
        if tag == "br":  # each <br> is a line break of its own: two make a blank line
            self._pending_breaks = min(2, self._pending_breaks + 1)
        elif tag in _PARAGRAPH:
            self._pending_breaks = 2
        elif tag in _LINE:
            self._pending_breaks = max(1, self._pending_breaks)
        elif tag in _CELL:
            self.pieces.append(" ")


def html_to_text(html: str) -> str:
    """The visible text of an HTML document, one paragraph per block, entities decoded."""
    # html.parser scans the rest of the document again for every "<" that no ">" follows, to
    # see whether the tag ends after all: quadratic ("<a " x 8,000 took 18 s, x 2,000 1.6 s).
    # Such a "<" is read as text in the end anyway, which is what it becomes escaped.
    last = html.rfind(">")
    if html.find("<", last + 1) >= 0:
        html = html[: last + 1] + html[last + 1 :].replace("<", "&lt;")
    collector = _TextCollector()
    try:
        collector.feed(html)
        collector.close()
    except Exception as exc:  # html.parser is lenient, but keep what was read if it gives up
        log.debug("HTML parsing stopped early: %r", exc)
    text = _INVISIBLE_RE.sub("", "".join(collector.pieces))
    lines = (_SPACES_RE.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES_RE.sub("\n\n", "\n".join(lines)).strip()
