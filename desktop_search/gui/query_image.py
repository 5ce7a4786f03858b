"""The query-image bar: the picture a search is "similar to", shown as a small chip.

``QueryImageBar(pool, tmp_dir)`` shows the current query image (thumbnail decoded on a worker,
file name, a × button to clear it) and hides itself while there is none. ``set_image(path)``
changes it; ``changed(object)`` (``Path | None``) is emitted on every change. The bar takes drops
of image files itself; ``image_path_from_mime`` is the same test for drops anywhere else in the
window. ``paste_from_clipboard()`` takes an image file URL from the clipboard, or raw image data,
which is written as a PNG into ``tmp_dir`` on a worker (the bar changes when it is written).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMimeData, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QSizePolicy, QToolButton, QWidget

from desktop_search.errors import DesktopSearchError
from desktop_search.extract.images import IMAGE_EXTENSIONS, load_photo
from desktop_search.gui.plain_text import plain_label, plain_tip
from desktop_search.gui.workers import WorkerPool

log = logging.getLogger(__name__)

__all__ = ["QueryImageBar", "image_path_from_mime", "is_image_path", "save_pasted_image"]

THUMB_SIZE = 40  # logical pixels of the chip's thumbnail


def is_image_path(path: Path) -> bool:
    """By extension only (no disk access): is this a kind of file the index can search with?"""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def _local_image(url: QUrl) -> Path | None:
    if not url.isValid() or not url.isLocalFile():
        return None
    local = url.toLocalFile()
    if not local:
        return None
    path = Path(local)
    return path if is_image_path(path) else None


def image_path_from_mime(mime: QMimeData | None) -> Path | None:
    """The first local image file named by ``mime`` (file URLs, or a file URL/path as text).

    Non-local URLs (http, smb through a browser) and files that are not images by extension are
    ignored. No disk access: safe to call on every drag-move event.
    """
    if mime is None:
        return None
    if mime.hasUrls():
        for url in mime.urls():
            path = _local_image(url)
            if path is not None:
                return path
        return None
    if mime.hasText():
        # Some applications copy a file as its path or file:// URL in plain text only.
        lines = [line.strip() for line in mime.text().splitlines() if line.strip()]
        if len(lines) == 1:
            text = lines[0]
            if text.startswith("file:"):
                return _local_image(QUrl(text))
            path = Path(text)
            if path.is_absolute() and is_image_path(path):
                return path
    return None


def save_pasted_image(image: QImage, tmp_dir: Path) -> Path:
    """Write ``image`` as a uniquely named PNG in ``tmp_dir``; runs on a worker."""
    tmp_dir = Path(tmp_dir)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    name = f"pasted-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.png"
    path = tmp_dir / name
    if not image.save(str(path), "PNG"):
        path.unlink(missing_ok=True)
        raise OSError(f"could not write the pasted image to {tmp_dir}")
    return path


@dataclass
class _Thumb:
    image: QImage | None = None
    error: str | None = None


def _thumb_job(path: Path, size: int) -> _Thumb:
    try:
        photo = load_photo(Path(path), min_side=1, thumb_size=size)
    except DesktopSearchError as error:
        return _Thumb(error=str(error))
    except Exception as error:  # noqa: BLE001 - shown as a tooltip, never crashes the app
        log.warning("query thumbnail of %s failed", path, exc_info=True)
        return _Thumb(error=f"cannot read this image ({type(error).__name__})")
    image = QImage.fromData(photo.thumbnail, "JPEG")
    return _Thumb(image=None if image.isNull() else image)


class QueryImageBar(QWidget):
    """The current query image as a chip: thumbnail, file name, clear button. Hidden when empty."""

    changed = Signal(object)  # Path | None
    error = Signal(str)  # a one-line message (a pasted image that could not be saved)
    thumbnail_loaded = Signal(object)  # Path

    def __init__(self, pool: WorkerPool, tmp_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._tmp_dir = Path(tmp_dir)
        self._path: Path | None = None
        # The pool's start_latest keys: a newer image drops the thumbnail and the paste in hand.
        self._thumb_key, self._paste_key = (self, "thumbnail"), (self, "paste")
        self.setAcceptDrops(True)
        self._build()
        self.setVisible(False)

    # -- public API ----------------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        return self._path

    def image(self) -> Path | None:
        return self._path

    def thumbnail(self) -> QPixmap:
        pixmap = self._thumb.pixmap()
        return pixmap if pixmap is not None else QPixmap()

    def set_image(self, path: Path | None) -> None:
        path = Path(path) if path is not None else None
        if path == self._path:
            return
        self._path = path
        self._pool.drop(self._thumb_key)
        self._pool.drop(self._paste_key)  # not when another image was chosen while it was written
        if path is None:
            self._thumb.clear()
            self._name.setText("")
            self.setVisible(False)
        else:
            self._name.setText(path.name)
            self._name.setToolTip(plain_tip(str(path)))
            self._thumb.clear()
            self._thumb.setText("…")
            self._thumb.setToolTip("")
            ratio = self.devicePixelRatioF()
            self._pool.start_latest(
                self._thumb_key, _thumb_job, path, round(THUMB_SIZE * ratio),
                on_result=self._on_thumb,
            )  # fmt: skip
            self.setVisible(True)
        self.changed.emit(path)

    def clear(self) -> None:
        self.set_image(None)

    def paste_from_clipboard(self) -> bool:
        """Use the clipboard's image file, or its image data (saved as PNG in ``tmp_dir``).

        Returns whether an image was taken. For image data the bar changes (and ``changed`` is
        emitted) once the PNG is written by a worker, a moment after this returns True.
        """
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:
            return False
        path = image_path_from_mime(mime)
        if path is not None:
            self.set_image(path)
            return True
        # Image data (a screenshot, "Copy image" in a browser, which may add an http URL too).
        if not mime.hasImage():
            return False
        image = QGuiApplication.clipboard().image()
        if image.isNull():
            return False
        self._pool.start_latest(
            self._paste_key, save_pasted_image, image, self._tmp_dir,
            on_result=self.set_image, on_error=self._on_paste_error,
        )  # fmt: skip
        return True

    # -- building ------------------------------------------------------------------------

    def _build(self) -> None:
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        chip = QFrame(self)
        chip.setObjectName("queryImageChip")
        chip.setFrameShape(QFrame.Shape.StyledPanel)
        chip.setStyleSheet(
            "#queryImageChip { border: 1px solid palette(mid); border-radius: 6px;"
            " background: palette(base); }"
        )
        layout = QHBoxLayout(chip)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(8)

        self._thumb = plain_label()
        self._thumb.setFixedSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self._thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self._thumb)

        caption = plain_label("Similar to")
        caption.setEnabled(False)
        layout.addWidget(caption)

        self._name = plain_label()
        self._name.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._name.setMinimumWidth(60)
        layout.addWidget(self._name, 1)

        self._clear_button = QToolButton()
        self._clear_button.setText("×")
        self._clear_button.setAutoRaise(True)
        self._clear_button.setToolTip("Stop searching by this image")
        self._clear_button.setAccessibleName("Clear query image")
        self._clear_button.clicked.connect(self.clear)
        layout.addWidget(self._clear_button)

        outer.addWidget(chip)

    # -- worker results ------------------------------------------------------------------

    def _on_thumb(self, thumb: _Thumb) -> None:
        if self._path is None:
            return
        if thumb.image is None:
            self._thumb.setText("?")
            self._thumb.setToolTip(plain_tip(thumb.error or "cannot read this image"))
            return
        pixmap = QPixmap.fromImage(thumb.image)
        ratio = self.devicePixelRatioF()
        pixmap = pixmap.scaled(
            QSize(THUMB_SIZE, THUMB_SIZE) * ratio,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        pixmap.setDevicePixelRatio(ratio)
        self._thumb.setPixmap(pixmap)
        self.thumbnail_loaded.emit(self._path)

    def _on_paste_error(self, error: Exception) -> None:
        self.error.emit(str(error))

    # -- drag and drop -------------------------------------------------------------------

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if image_path_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        if image_path_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        path = image_path_from_mime(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.set_image(path)
