"""The query image, large, with the objects found in it: search with one object or a region.

``RegionPicker(pool, find_objects)`` shows the current query photo (``set_image(path)``; ``None``
hides the panel). Two workers run for each photo: one decodes a copy to show, the other calls
``find_objects(path)``, which returns the photo's ``FoundObject``s (``Library.query_objects``), or
``None`` when no object detector is installed. The boxes appear numbered over the photo and in a
list; a click on a box (or on its row) searches with that object, a rectangle dragged over the
photo searches with that region, "Whole image" goes back. ``region_changed(object)`` carries the
region (``(x, y, w, h)`` in the photo's full-size pixels, EXIF orientation applied) or ``None``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop_search.errors import DesktopSearchError, NoModelError
from desktop_search.gui.box_overlay import box_colour
from desktop_search.gui.plain_text import plain_label
from desktop_search.gui.preview import load_preview_image
from desktop_search.gui.region_canvas import CANVAS_HEIGHT, Box, RegionCanvas
from desktop_search.gui.workers import WorkerPool
from desktop_search.store.records import FoundObject

log = logging.getLogger(__name__)

__all__ = ["RegionPicker"]

# The copy shown is decoded for this box (logical pixels, times the screen's pixel ratio).
_DECODE_BOX = QSize(CANVAS_HEIGHT * 3, CANVAS_HEIGHT)
_SIDE_WIDTH = 340  # the status line and the list of objects beside the photo
_HINT = "Click an object to search for it, or drag a rectangle around what you want."
_NO_DETECTOR = "Drag a rectangle around what you want to search for."


@dataclass
class _Picture:
    image: QImage | None = None
    full_size: QSize | None = None
    error: str | None = None


@dataclass
class _Objects:
    objects: list[FoundObject] | None  # None: no detector installed
    error: str | None = None


def _picture_job(path: Path, width: int, height: int) -> _Picture:
    try:
        image, full_size = load_preview_image(path, width, height)
    except FileNotFoundError:
        return _Picture(error="this file no longer exists")
    except DesktopSearchError as error:
        return _Picture(error=str(error))
    except Exception as error:  # noqa: BLE001 - shown in the panel, never crashes the app
        log.warning("query image %s could not be shown", path, exc_info=True)
        return _Picture(error=f"cannot read this image ({type(error).__name__})")
    return _Picture(image=image, full_size=full_size)


FindObjects = Callable[[Path], "list[FoundObject] | None"]


def _objects_job(find_objects: FindObjects, path: Path) -> _Objects:
    try:
        return _Objects(find_objects(path))
    except NoModelError:
        return _Objects(None)  # the detector went away meanwhile: regions still work
    except DesktopSearchError as error:
        return _Objects([], error=str(error))


class RegionPicker(QFrame):
    """The query photo with its objects; ``region_changed(object)`` on every choice."""

    region_changed = Signal(object)  # Box | None
    objects_loaded = Signal(object)  # the list of FoundObject (empty without a detector)

    def __init__(
        self,
        pool: WorkerPool,
        find_objects: FindObjects,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._pool = pool
        self._find_objects = find_objects
        self._path: Path | None = None
        # The pool's start_latest keys: another photo drops the loads of this one.
        self._picture_key, self._objects_key = (self, "picture"), (self, "objects")
        self._objects: list[FoundObject] = []
        self._region: Box | None = None
        self._loading = 0  # workers of the current photo still running
        self._detector = False  # find_objects had a detector to use
        self._objects_error: str | None = None
        self._build()
        self.setVisible(False)

    # -- public API ------------------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def region(self) -> Box | None:
        """The region searched with (full-size pixels), ``None`` for the whole image."""
        return self._region

    @property
    def objects(self) -> list[FoundObject]:
        """The objects found in the photo (``FoundObject``), numbered from 1 on screen."""
        return list(self._objects)

    def selected_object(self) -> int | None:
        boxes = [tuple(found.box) for found in self._objects]
        return boxes.index(self._region) if self._region in boxes else None

    def is_loading(self) -> bool:
        return self._loading > 0

    def set_image(self, path: Path | None) -> None:
        """Show ``path`` (a new photo starts as the whole image); ``None`` hides the panel."""
        path = Path(path) if path is not None else None
        if path == self._path:
            return
        self._path = path
        self._pool.drop(self._picture_key)  # skipped if still queued; a late result is dropped
        self._pool.drop(self._objects_key)
        self._objects, self._region, self._loading = [], None, 0
        self._detector, self._objects_error = False, None
        self.canvas.clear()
        self.object_list.clear()
        self.whole_button.setEnabled(False)
        if path is None:
            self.setVisible(False)
            return
        self.status.setText("Loading…")
        self._start_loads(path)
        self.setVisible(True)

    def choose_object(self, index: int) -> None:
        """Search with object ``index`` (0-based) of the photo."""
        self._choose(tuple(self._objects[index].box))

    def choose_region(self, region: Sequence[float] | None) -> None:
        """Search with ``region`` (full-size pixels), or the whole image for ``None``."""
        self._choose(tuple(region) if region is not None else None)

    def whole_image(self) -> None:
        self._choose(None)

    # -- building --------------------------------------------------------------------------

    def _build(self) -> None:
        self.setObjectName("regionPicker")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 6, 6, 6)
        row.setSpacing(10)
        self.canvas = RegionCanvas(self)
        self.canvas.object_clicked.connect(self.choose_object)
        self.canvas.region_drawn.connect(self.choose_region)
        row.addWidget(self.canvas)
        side = QVBoxLayout()
        side.setSpacing(4)
        self.status = plain_label(parent=self)  # errors may name the file
        self.status.setWordWrap(True)
        side.addWidget(self.status)
        self.object_list = QListWidget(self)
        self.object_list.setAccessibleName("Objects in the query image")
        # As tall as the photo beside it leaves (it scrolls): the panel stays the photo's height.
        self.object_list.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        self.object_list.itemActivated.connect(self._row_chosen)
        self.object_list.itemClicked.connect(self._row_chosen)
        side.addWidget(self.object_list, 1)
        self.whole_button = QPushButton("Whole image", self)
        self.whole_button.setToolTip("Search with the whole photo again")
        self.whole_button.clicked.connect(self.whole_image)
        side.addWidget(self.whole_button, 0, Qt.AlignmentFlag.AlignLeft)
        column = QWidget(self)
        column.setLayout(side)
        side.setContentsMargins(0, 0, 0, 0)
        column.setMaximumWidth(_SIDE_WIDTH)
        row.addWidget(column, 1)
        row.addStretch(0)

    # -- workers ---------------------------------------------------------------------------

    def _start_loads(self, path: Path) -> None:
        ratio = self.devicePixelRatioF()
        box = _DECODE_BOX * ratio
        self._loading = 2
        self._pool.start_latest(self._picture_key, _picture_job, path, box.width(), box.height(),
                                on_result=self._on_picture)  # fmt: skip
        self._pool.start_latest(self._objects_key, _objects_job, self._find_objects, path,
                                on_result=self._on_objects,
                                on_error=self._on_objects_error)  # fmt: skip

    def _on_picture(self, picture: _Picture) -> None:
        self._loading -= 1
        if picture.image is None:
            self.status.setText(f"Cannot show this photo: {picture.error}")
            return
        pixmap = QPixmap.fromImage(picture.image)
        self.canvas.set_picture(pixmap, picture.full_size)
        self._show_objects()

    def _on_objects(self, found: _Objects) -> None:
        self._loading -= 1
        self._objects = list(found.objects or [])
        self._detector = found.objects is not None
        self._objects_error = found.error
        self._fill_list()
        self._show_objects()
        self.objects_loaded.emit(self.objects)

    def _on_objects_error(self, error: Exception) -> None:
        # Only a bug gets here (_objects_job turns the library's errors into data).
        log.warning("finding objects in the query image failed: %s", error)
        self._on_objects(_Objects([], error=f"cannot find objects ({error})"))

    # -- showing ---------------------------------------------------------------------------

    def _fill_list(self) -> None:
        self.object_list.clear()
        for index, found in enumerate(self._objects):
            item = QListWidgetItem(f"{index + 1}  {found.label}  ({found.score:.0%})")
            item.setData(Qt.ItemDataRole.UserRole, index)
            item.setForeground(box_colour(index).darker(150))
            self.object_list.addItem(item)
        self.object_list.setVisible(bool(self._objects))

    def _show_objects(self) -> None:
        """Once both the picture and the objects are in: the boxes and what to do with them."""
        if self._loading > 0 or not self.canvas.has_picture():
            return
        self.canvas.set_boxes([(tuple(found.box), found.label) for found in self._objects])
        self._show_selection()
        if self._objects_error:
            self.status.setText(f"{self._objects_error}. {_NO_DETECTOR}")
        elif self._objects:
            count = len(self._objects)
            self.status.setText(f"{count} object{'s' if count > 1 else ''} found. {_HINT}")
        elif self._detector:
            self.status.setText(f"No objects found. {_NO_DETECTOR}")
        else:
            self.status.setText(_NO_DETECTOR)

    def _row_chosen(self, item: QListWidgetItem) -> None:
        self.choose_object(int(item.data(Qt.ItemDataRole.UserRole)))

    def _choose(self, region: Box | None) -> None:
        if region == self._region:
            return
        self._region = region
        self._show_selection()
        self.region_changed.emit(region)

    def _show_selection(self) -> None:
        index = self.selected_object()
        self.canvas.set_selection(index, None if index is not None else self._region)
        self.object_list.blockSignals(True)
        self.object_list.setCurrentRow(-1 if index is None else index)
        self.object_list.blockSignals(False)
        self.whole_button.setEnabled(self._region is not None)
