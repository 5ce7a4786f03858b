"""Text from files stays text: labels, tooltips and documents that never read it as markup.

File and folder names, EXIF fields, subjects, senders, attachment names and passages come from
files anyone can write. Qt reads a label's or a tooltip's text as HTML when it looks like some
(``Qt.mightBeRichText``), and its rich text loads the images it names from local paths: a
sender named ``<img src='/dev/zero'>`` aborts the app, one naming a FIFO freezes it, one
``width=1500`` wide makes the preview that wide. So the window shows such text through these:

- ``plain_label`` / ``make_plain``: a ``QLabel`` that shows its text as typed (``PlainText``);
- ``plain_tip``: a tooltip Qt shows as the text it is (escaped when Qt would read it as HTML);
- ``TextDocument``: for the rich text the window builds itself (the data escaped with
  ``html.escape``, see ``highlight.py``), a document that loads no image or other resource:
  each is a transparent pixel (Qt reads an image's file itself when a loader gives nothing).
"""

from __future__ import annotations

import html

from PySide6 import QtGui
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QImage, QTextDocument
from PySide6.QtWidgets import QLabel, QWidget


def make_plain(label: QLabel) -> QLabel:
    """``label`` shows its text as typed, never as markup."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A label for text that is, or may hold, data from files."""
    return make_plain(QLabel(text, parent))


def plain_tip(text: str) -> str:
    """``text`` as a tooltip that shows it as typed. Qt shows a tooltip as HTML when
    ``Qt.mightBeRichText`` says so: such text is escaped, in a paragraph keeping its lines."""
    if not QtGui.Qt.mightBeRichText(text):
        return text
    return f'<p style="white-space:pre-wrap">{html.escape(text)}</p>'


def _nothing() -> QImage:
    image = QImage(1, 1, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    return image


class TextDocument(QTextDocument):
    """A document that loads nothing its HTML names: no image, style sheet or file is read."""

    def loadResource(self, kind: int, name: QUrl) -> object:  # noqa: N802, ARG002 - Qt override
        if kind == QTextDocument.ResourceType.ImageResource:
            return _nothing()  # a null answer would make Qt read the file itself
        return ""
