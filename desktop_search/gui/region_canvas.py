"""The query image drawn with the objects found in it: click a box, or drag a rectangle.

``RegionCanvas`` paints a (scaled, upright) copy of the query photo fitted into itself, the found
objects' boxes numbered over it, and the chosen region. Everything it reports is in the photo's
full-size pixels with the EXIF orientation applied (the system ``FoundObject.box`` and
``Query.region`` use), whatever size the copy on screen has: ``to_photo`` and ``from_photo``
convert between widget and photo coordinates.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, QSizeF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop_search.gui.box_overlay import (
    box_colour,
    box_rect,
    fitted_rect,
    paint_box,
    paint_label,
)

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]

DRAG_START = 6  # logical pixels the mouse moves before a press becomes a drag (not a click)
MIN_REGION = 8  # full-size pixels: a smaller rectangle is a slip of the hand, not a region
CANVAS_HEIGHT = 168


class RegionCanvas(QWidget):
    """Signals: ``object_clicked(int)`` (the index of the box clicked), ``region_drawn(object)``
    (a ``Box`` dragged out, full-size pixels, clipped to the photo)."""

    object_clicked = Signal(int)
    region_drawn = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._picture = QPixmap()
        self._full = QSize()
        self._boxes: list[tuple[Box, str]] = []
        self._selected: int | None = None
        self._region: Box | None = None  # a dragged region (not one of the boxes)
        self._press: QPointF | None = None
        self._drag: QRectF | None = None  # the rubber band while dragging, widget coordinates
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        # As wide as the photo at this height: the panel's other column takes the rest.
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(CANVAS_HEIGHT)
        self.setMinimumWidth(120)

    # -- what is shown ---------------------------------------------------------------------

    def set_picture(self, picture: QPixmap, full_size: QSize) -> None:
        """The photo to show (any scaled copy) and its full size (upright)."""
        self._picture = picture
        self._full = QSize(full_size)
        self.updateGeometry()
        self.update()

    def clear(self) -> None:
        self._picture, self._full = QPixmap(), QSize()
        self._boxes, self._selected, self._region, self._drag = [], None, None, None
        self.update()

    def has_picture(self) -> bool:
        return not self._picture.isNull() and not self._full.isEmpty()

    def full_size(self) -> QSize:
        return QSize(self._full)

    def set_boxes(self, boxes: Sequence[tuple[Box, str]]) -> None:
        """The objects' boxes (full-size pixels) with their labels, in the order numbered."""
        self._boxes = [(tuple(box), label) for box, label in boxes]
        self._selected = None
        self.update()

    def set_selection(self, index: int | None = None, region: Box | None = None) -> None:
        """Highlight box ``index``, or outline ``region``, or neither (the whole image)."""
        self._selected, self._region = index, (tuple(region) if region else None)
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        if self._full.isEmpty():
            return QSize(CANVAS_HEIGHT * 4 // 3, CANVAS_HEIGHT)
        width = round(CANVAS_HEIGHT * self._full.width() / self._full.height())
        return QSize(max(120, min(width, CANVAS_HEIGHT * 3)), CANVAS_HEIGHT)

    # -- coordinates -----------------------------------------------------------------------

    def photo_rect(self) -> QRectF:
        """Where the photo is painted, in widget coordinates (empty without a photo)."""
        if not self.has_picture():
            return QRectF()
        return fitted_rect(QSizeF(self._full), QRectF(self.contentsRect()))

    def to_photo(self, point: QPointF) -> QPointF:
        """A widget point in the photo's full-size pixels (clamped to the photo)."""
        shown = self.photo_rect()
        if shown.isEmpty():
            return QPointF()
        scale = self._full.width() / shown.width()
        x = min(max(point.x() - shown.left(), 0.0), shown.width()) * scale
        y = min(max(point.y() - shown.top(), 0.0), shown.height()) * scale
        return QPointF(x, y)

    def from_photo(self, box: Sequence[float]) -> QRectF:
        """A full-size box in widget coordinates."""
        return box_rect(box, (self._full.width(), self._full.height()), self.photo_rect())

    def box_at(self, point: QPointF) -> int | None:
        """The box under ``point``: the smallest one when boxes overlap (a cup on a table)."""
        under = [
            (rect.width() * rect.height(), index)
            for index, (box, _label) in enumerate(self._boxes)
            if (rect := self.from_photo(box)).contains(point)
        ]
        return min(under)[1] if under else None

    # -- mouse -----------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton and self.has_picture():
            self._press = event.position()
            self._drag = None
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._press is None:
            over_box = self.box_at(event.position()) is not None
            self.setCursor(
                Qt.CursorShape.PointingHandCursor if over_box else Qt.CursorShape.CrossCursor
            )
            return
        moved = event.position() - self._press
        if self._drag is not None or moved.manhattanLength() >= DRAG_START:
            self._drag = QRectF(self._press, event.position()).normalized()
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._press is None or event.button() != Qt.MouseButton.LeftButton:
            super().mouseReleaseEvent(event)
            return
        press, drag = self._press, self._drag
        self._press, self._drag = None, None
        self.update()
        if drag is None:
            index = self.box_at(press)
            if index is not None:
                self.object_clicked.emit(index)
            return
        region = self._photo_box(QRectF(press, event.position()).normalized())
        if region is not None:
            self.region_drawn.emit(region)

    def _photo_box(self, rect: QRectF) -> Box | None:
        """A widget rectangle as a full-size box, clipped to the photo; None when tiny."""
        top_left, bottom_right = self.to_photo(rect.topLeft()), self.to_photo(rect.bottomRight())
        w, h = bottom_right.x() - top_left.x(), bottom_right.y() - top_left.y()
        if w < MIN_REGION or h < MIN_REGION:
            return None
        return (round(top_left.x(), 1), round(top_left.y(), 1), round(w, 1), round(h, 1))

    # -- painting --------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        shown = self.photo_rect()
        if shown.isEmpty():
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(shown, self._picture, QRectF(self._picture.rect()))
        painter.setClipRect(shown)
        self._paint_boxes(painter, shown)
        if self._region is not None:
            paint_box(painter, self.from_photo(self._region), "region", QColor("white"),
                      selected=True, bounds=shown)  # fmt: skip
        if self._drag is not None:
            painter.setPen(QPen(QColor("white"), 1, Qt.PenStyle.DashLine))
            painter.setBrush(QColor(255, 255, 255, 50))
            painter.drawRect(self._drag.intersected(shown))

    def _paint_boxes(self, painter: QPainter, shown: QRectF) -> None:
        """Outlines first, then the labels, the selected box's last: boxes overlap (a cup on a
        table) and every label must stay readable."""
        order = [index for index in range(len(self._boxes)) if index != self._selected]
        if self._selected is not None and self._selected < len(self._boxes):
            order.append(self._selected)
        for index in order:
            paint_box(painter, self.from_photo(self._boxes[index][0]), "", box_colour(index),
                      selected=index == self._selected)  # fmt: skip
        for index in order:
            box, label = self._boxes[index]
            paint_label(painter, self.from_photo(box), f"{index + 1} {label}", box_colour(index),
                        bounds=shown)  # fmt: skip
