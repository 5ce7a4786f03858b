"""Widgets the preview panes share: a one-line label that elides, a picture that fits.

``ImageView`` can outline a detected object over its picture. ``to_qimage`` turns a PIL image
(decoded on a worker) into a ``QImage`` (safe off the GUI thread).
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy

from desktop_search.gui.box_overlay import box_rect, fitted_rect, paint_box
from desktop_search.gui.plain_text import make_plain, plain_tip


def to_qimage(image: Image.Image) -> QImage:
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    data = rgb.tobytes()
    qimage = QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888)
    return qimage.copy()  # detach from ``data``, which Python frees on return


class ElidedLabel(QLabel):
    """A one-line label that elides its text to the width it gets; ``text()`` stays complete
    (plain text, also in its tooltip: it shows file and folder names)."""

    def __init__(self, mode: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle, parent=None):
        super().__init__(parent)
        make_plain(self)
        self._mode = mode
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt override
        super().setText(text)
        self.setToolTip(plain_tip(text))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(20, super().minimumSizeHint().height())

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        rect = self.contentsRect()
        elided = self.fontMetrics().elidedText(self.text(), self._mode, rect.width())
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(rect, int(self.alignment()), elided)


class ImageView(QLabel):
    """Shows a pixmap scaled to fit (never driving the layout's size); or a message. With
    ``set_box`` it outlines a detected object (full-size pixels of the photo) over the picture,
    whichever copy of the photo is shown (the index thumbnail first, then the large one)."""

    resized = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        make_plain(self)  # its messages may name the file
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumSize(120, 120)
        self.setWordWrap(True)
        self._source = QPixmap()
        self._box: tuple[Sequence[float], tuple[int, int], str] | None = None

    def source(self) -> QPixmap:
        return self._source

    def set_source(self, pixmap: QPixmap) -> None:
        self._source = pixmap
        self._rescale()

    def set_box(
        self, box: Sequence[float] | None, full_size: tuple[int, int], label: str = ""
    ) -> None:
        """Outline ``box`` (in the pixels of the ``full_size`` photo); ``None``: no box."""
        self._box = (tuple(box), full_size, label) if box is not None and all(full_size) else None
        self.update()

    def box(self) -> Sequence[float] | None:
        return self._box[0] if self._box else None

    def picture_rect(self) -> QRectF:
        """Where the picture is painted (empty while a message is shown)."""
        pixmap = self.pixmap()
        if self._source.isNull() or pixmap.isNull():
            return QRectF()
        return fitted_rect(pixmap.deviceIndependentSize(), QRectF(self.contentsRect()))

    def paintEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        super().paintEvent(event)
        shown = self.picture_rect()
        if self._box is None or shown.isEmpty():
            return
        box, full_size, label = self._box
        painter = QPainter(self)
        painter.setClipRect(shown)
        paint_box(painter, box_rect(box, full_size, shown), label, bounds=shown)

    def show_message(self, text: str) -> None:
        self._source = QPixmap()
        self.clear()
        self.setText(text)

    def _rescale(self) -> None:
        if self._source.isNull():
            return  # showing a message (or nothing)
        ratio = self.devicePixelRatioF()
        box = self.contentsRect().size() * ratio
        scaled = self._source.scaled(
            box, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        scaled.setDevicePixelRatio(ratio)
        self.setPixmap(scaled)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._rescale()
        self.resized.emit()
