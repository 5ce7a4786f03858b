"""The result grid: a list model of hits (cut-off and sort applied) and an icon-mode view.

``ResultsModel`` holds every hit of the last search and exposes those at or above the cut-off,
ordered by relevance or by date. Thumbnails come from a ``ThumbnailCache`` (loaded on a worker;
a placeholder is drawn until then). ``ResultsView`` is a ``QListView`` in icon mode with uniform
cells, so only the cells on screen are ever asked for data.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate

from desktop_search.core.items import Hit
from desktop_search.gui.thumbnails import ThumbnailCache

CELL = QSize(180, 212)  # thumbnail square + two caption lines
THUMB = QSize(168, 168)

HitRole = Qt.UserRole + 1
ScoreRole = Qt.UserRole + 2
DateRole = Qt.UserRole + 3

RELEVANCE, DATE = "relevance", "date"


def describe(hit: Hit, date: str = "") -> str:
    """The tooltip of a result: what the user may want to know before opening it."""
    lines = [os.path.basename(hit.path), f"score {hit.score:.3f} · {hit.kind}"]
    if hit.taken_at:
        lines.append(f"taken {hit.taken_at.replace('T', ' ')}")
    elif date:
        lines.append(f"modified {date.replace('T', ' ')}")
    if hit.camera:
        lines.append(hit.camera)
    if hit.width and hit.height:
        lines.append(f"{hit.width} × {hit.height}")
    if hit.size:
        lines.append(f"{hit.size / 1e6:.1f} MB" if hit.size >= 1e5 else f"{hit.size / 1e3:.0f} kB")
    lines.append(os.path.dirname(hit.path))
    return "\n".join(lines)


class ResultsModel(QAbstractListModel):
    def __init__(self, thumbnails: ThumbnailCache, parent=None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._all: list[Hit] = []
        self._dates: dict[str, str] = {}
        self._rows: list[Hit] = []
        self._row_of_thumb: dict[str, int] = {}
        self.cutoff: float | None = None
        self.sort = RELEVANCE
        thumbnails.loaded.connect(self._thumbnail_loaded)

    # -- the data ------------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Hits of the last search, including those below the cut-off."""
        return len(self._all)

    def hits(self) -> list[Hit]:
        """The visible hits, in display order."""
        return list(self._rows)

    def hit(self, row: int) -> Hit | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def set_hits(self, hits: list[Hit], dates: dict[str, str] | None = None) -> None:
        self._all = list(hits)
        self._dates = dict(dates or {})
        self._thumbnails.forget_queue()
        self._rebuild()

    def clear(self) -> None:
        self.set_hits([])

    def set_cutoff(self, cutoff: float | None) -> None:
        """Hide hits scoring below ``cutoff`` (``None``: show all)."""
        if cutoff != self.cutoff:
            self.cutoff = cutoff
            self._rebuild()

    def set_sort(self, sort: str) -> None:
        if sort not in (RELEVANCE, DATE):
            raise ValueError(f"unknown sort order {sort!r}")
        if sort != self.sort:
            self.sort = sort
            self._rebuild()

    def _rebuild(self) -> None:
        rows = [h for h in self._all if self.cutoff is None or h.score >= self.cutoff]
        if self.sort == DATE:
            # Newest first; photos without any date go last.
            rows.sort(key=lambda h: self._dates.get(h.path) or "", reverse=True)
        else:
            rows.sort(key=lambda h: -h.score)
        self.beginResetModel()
        self._rows = rows
        self._row_of_thumb = {str(h.thumbnail): i for i, h in enumerate(rows) if h.thumbnail}
        self.endResetModel()

    def _thumbnail_loaded(self, key: str) -> None:
        row = self._row_of_thumb.get(key)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.DecorationRole])

    # -- Qt model API --------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt idiom
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        hit = self._rows[index.row()]
        if role == Qt.DisplayRole:
            return os.path.basename(hit.path)
        if role == Qt.DecorationRole:
            return self._thumbnails.get(hit.thumbnail)
        if role == Qt.ToolTipRole:
            return describe(hit, self._dates.get(hit.path, ""))
        if role == HitRole:
            return hit
        if role == ScoreRole:
            return hit.score
        if role == DateRole:
            return self._dates.get(hit.path, "")
        return None


class ResultDelegate(QStyledItemDelegate):
    """Draws a thumbnail (or a placeholder) over the file name and "score · kind"."""

    def sizeHint(self, option, index) -> QSize:  # noqa: ANN001 - Qt signature
        return CELL

    def paint(self, painter: QPainter, option, index) -> None:  # noqa: ANN001
        painter.save()
        palette = option.palette
        rect = option.rect.adjusted(4, 4, -4, -4)
        selected = bool(option.state & QStyle.State_Selected)
        if selected:
            painter.setPen(Qt.NoPen)
            painter.setBrush(palette.color(QPalette.Highlight).lighter(160))
            painter.drawRoundedRect(rect, 6, 6)
        thumb_rect = QRect(rect.left() + (rect.width() - THUMB.width()) // 2, rect.top() + 2,
                           THUMB.width(), THUMB.height())  # fmt: skip
        pixmap = index.data(Qt.DecorationRole)
        if pixmap is not None and not pixmap.isNull():
            size = pixmap.size().scaled(THUMB, Qt.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(thumb_rect.center())
            painter.drawPixmap(target, pixmap)
        else:
            painter.setPen(Qt.NoPen)
            painter.setBrush(palette.color(QPalette.AlternateBase).darker(106))
            painter.drawRoundedRect(thumb_rect.adjusted(12, 12, -12, -12), 4, 4)
        text_rect = QRect(rect.left() + 4, thumb_rect.bottom() + 4, rect.width() - 8, 18)
        metrics = option.fontMetrics
        name = metrics.elidedText(str(index.data(Qt.DisplayRole)), Qt.ElideMiddle,
                                  text_rect.width())  # fmt: skip
        painter.setPen(palette.color(QPalette.Text))
        painter.drawText(text_rect, Qt.AlignHCenter | Qt.AlignVCenter, name)
        hit: Hit = index.data(HitRole)
        small = QFont(option.font)
        small.setPointSizeF(max(small.pointSizeF() * 0.85, 7.0))
        painter.setFont(small)
        painter.setPen(QPen(QColor(palette.color(QPalette.Text)).lighter(170)))
        caption = f"{hit.score:.2f} · {hit.kind}"
        painter.drawText(text_rect.translated(0, 16), Qt.AlignHCenter | Qt.AlignVCenter, caption)
        painter.restore()


class ResultsView(QListView):
    """Icon-mode grid of uniform cells that reflows with the window width."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.IconMode)
        self.setResizeMode(QListView.Adjust)
        self.setMovement(QListView.Static)
        self.setUniformItemSizes(True)
        self.setGridSize(CELL)
        self.setSpacing(0)
        self.setWrapping(True)
        self.setLayoutMode(QListView.Batched)
        self.setBatchSize(200)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.setDragEnabled(False)
        self.setAcceptDrops(False)  # a dropped image goes to the window (image query)
        self.setMouseTracking(True)
        self.setItemDelegate(ResultDelegate(self))

    def selected_hit(self) -> Hit | None:
        index = self.currentIndex()
        if not index.isValid() or not self.selectionModel().isSelected(index):
            return None
        return index.data(HitRole)

    def selected_path(self) -> Path | None:
        hit = self.selected_hit()
        return Path(hit.path) if hit else None
