"""Boxes of detected objects drawn over a picture: a result's thumbnail, the preview, the query.

A box is ``(x, y, w, h)`` in the photo's full-size pixels (EXIF orientation applied), the
coordinate system of ``Hit.width x Hit.height``. Pictures are shown scaled (thumbnails, the
preview fitted to its pane), so ``box_rect`` maps a box into the rectangle the picture is
painted in; ``paint_box`` draws it as a thin coloured outline with its label in a tab.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen

log = logging.getLogger(__name__)

__all__ = [
    "BOX_COLOUR",
    "PALETTE",
    "box_colour",
    "box_rect",
    "fitted_rect",
    "paint_box",
    "paint_label",
]

# Bright colours that read on most photos; the first is the one of a single box (a result's).
PALETTE = ("#ffb300", "#00e5ff", "#ff4081", "#76ff03", "#d500f9", "#ff6d00", "#2979ff")
BOX_COLOUR = QColor(PALETTE[0])
_SHADOW = QColor(0, 0, 0, 150)  # under the outline, so a yellow box shows on a light sky too


def box_colour(index: int) -> QColor:
    """The colour of the ``index``-th box of a picture (cycled)."""
    return QColor(PALETTE[index % len(PALETTE)])


def fitted_rect(picture: QSizeF, area: QRectF) -> QRectF:
    """Where a picture of size ``picture`` is painted when fitted (aspect kept) and centred in
    ``area``: the same placement ``Qt.KeepAspectRatio`` scaling and centring give."""
    if picture.isEmpty() or area.isEmpty():
        return QRectF()
    size = picture.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
    rect = QRectF(QPointF(0, 0), size)
    rect.moveCenter(area.center())
    return rect


def box_rect(box: Sequence[float], full_size: tuple[int, int], shown: QRectF) -> QRectF:
    """``box`` (full-size pixels of a ``full_size`` photo) where the photo is shown in ``shown``.

    The picture shown may be any scaled copy of the photo (a 256 px thumbnail, the preview):
    only the ratio between ``shown`` and ``full_size`` matters.
    """
    width, height = full_size
    if not width or not height or shown.isEmpty():
        return QRectF()
    sx, sy = shown.width() / width, shown.height() / height
    x, y, w, h = box
    return QRectF(shown.left() + x * sx, shown.top() + y * sy, w * sx, h * sy)


def paint_box(
    painter: QPainter,
    rect: QRectF,
    label: str = "",
    colour: QColor = BOX_COLOUR,
    *,
    selected: bool = False,
    font: QFont | None = None,
    bounds: QRectF | None = None,
) -> None:
    """A thin outline (thicker when ``selected``) with ``label`` in a filled tab at its top-left
    corner. The tab stays inside ``bounds`` (the picture), so a box on the picture's edge keeps
    a readable label instead of one drawn over the caption or the next cell."""
    if rect.isEmpty():
        return
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # crisp 1-2 px lines
    width = 3 if selected else 2
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(_SHADOW, width + 2))
    painter.drawRect(rect)
    painter.setPen(QPen(colour, width))
    painter.drawRect(rect)
    if selected:
        fill = QColor(colour)
        fill.setAlpha(40)
        painter.fillRect(rect, fill)
    if label:
        paint_label(painter, rect, label, colour, font=font, bounds=bounds)
    painter.restore()


def paint_label(
    painter: QPainter,
    rect: QRectF,
    label: str,
    colour: QColor = BOX_COLOUR,
    *,
    font: QFont | None = None,
    bounds: QRectF | None = None,
) -> None:
    """The label tab of the box ``rect`` alone (several boxes: outlines first, then labels, so
    that no outline crosses a label)."""
    bounds = bounds or rect
    painter.save()
    if font is not None:
        painter.setFont(font)
    metrics = QFontMetricsF(painter.font())
    tab = QRectF(0, 0, metrics.horizontalAdvance(label) + 8, metrics.height() + 2)
    # Above the box when the picture has room there, else just inside its top edge.
    above = rect.top() - tab.height()
    top = above if above >= bounds.top() else rect.top()
    left = max(bounds.left(), min(rect.left(), bounds.right() - tab.width()))
    tab.moveTo(left, top)
    painter.fillRect(tab, colour)
    painter.setPen(QColor("black") if _luminance(colour) > 0.5 else QColor("white"))
    painter.drawText(tab, Qt.AlignmentFlag.AlignCenter, label)
    painter.restore()


def _luminance(colour: QColor) -> float:
    """How light a colour looks (green counts most): black text on cyan, white on pink."""
    return 0.2126 * colour.redF() + 0.7152 * colour.greenF() + 0.0722 * colour.blueF()
